"""POST /api/v1/observations and GET /api/v1/metrics: the import's all-or-nothing rules as JSON."""

import json

import pytest
import sqlalchemy as sa

from reviewapp.audit.models import AuditEvent
from reviewapp.metrics.models import ImportBatch, Observation


def count(db, model):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def rows_for(org, value=10, period="2026-Q1"):
    return [
        {"rep_email": org.rep.email, "period": period, "metric": "calls", "value": value},
        {"rep_email": org.rep2.email, "period": period, "metric": "calls", "value": value + 1},
        {"rep_email": org.rep.email, "period": period, "metric": "revenue", "value": 5000.5},
    ]


def stored(db, rep, metric):
    db.session.expire_all()
    return db.session.scalar(sa.select(Observation.value).where(
        Observation.rep_id == rep.id, Observation.metric_id == metric.id))


def test_good_import_is_201_and_written(org, db, metrics, token_for, api):
    token = token_for(org.lead)
    response = api.post(token, {"rows": rows_for(org), "source_name": "crm-sync"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body == {"batch_id": body["batch_id"], "rows": 3, "new": 3, "changed": 0,
                    "unchanged": 0}
    assert response.headers["Location"].endswith(f"/metrics/batches/{body['batch_id']}")
    assert count(db, Observation) == 3
    assert stored(db, org.rep2, metrics.calls) == 11
    assert stored(db, org.rep, metrics.revenue) == 5000.5
    batch = db.session.get(ImportBatch, body["batch_id"])
    assert (batch.source, batch.filename, batch.uploaded_by_id) == ("api", "crm-sync", org.lead.id)
    assert db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "import.apply", AuditEvent.entity_id == batch.id)).actor_id \
        == org.lead.id


def test_a_plain_array_is_accepted_and_named_api(org, db, metrics, token_for, api):
    response = api.post(token_for(org.hr), rows_for(org))
    assert response.status_code == 201
    assert db.session.get(ImportBatch, response.get_json()["batch_id"]).filename == "api"


BAD_ROWS = [
    ("unknown rep", {"rep_email": "nobody@example.test"}, "rep_email",
     "is not one of the reps you may import data for"),
    ("bad period", {"period": "2026-Q5"}, "period", None),
    ("NaN value", {"value": "NaN"}, "value", "not a finite number"),
    ("text value", {"value": "lots"}, "value", "not a number"),
    ("empty value", {"value": None}, "value", "empty"),
    ("unknown metric", {"metric": "smiles"}, "metric", "unknown metric"),
]


@pytest.mark.parametrize("what,change,field,message", BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_a_bad_row_rejects_everything(org, db, metrics, token_for, api, what, change, field,
                                      message):
    rows = rows_for(org)
    rows[2] = {**rows[2], **change}
    before = (count(db, Observation), count(db, ImportBatch))
    response = api.post(token_for(org.lead), rows)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation failed" and body["error_count"] == 1
    [error] = body["errors"]
    assert error["row"] == 2 and error["field"] == field
    assert message is None or message in error["message"]
    assert (count(db, Observation), count(db, ImportBatch)) == before == (0, 0)


def test_a_second_grain_for_a_metric_rejects_everything(org, db, metrics, token_for, api):
    token = token_for(org.lead)
    assert api.post(token, rows_for(org, period="2026-Q3")).status_code == 201
    before = (count(db, Observation), count(db, ImportBatch))
    rows = rows_for(org, value=20, period="2026-Q4")
    rows[1] = {**rows[1], "period": "2026-W30"}
    response = api.post(token, {"rows": rows, "replace": True})
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{
        "row": 1, "field": "period", "value": "2026-W30",
        "message": "calls is stored by quarter; 2026-W30 is a week. Send all of one metric's "
                   "values at one grain."}]
    assert (count(db, Observation), count(db, ImportBatch)) == before


def test_rows_with_a_value_but_no_metric_are_refused(org, db, metrics, token_for, api):
    rows = [{k: v for k, v in row.items() if k != "metric"} for row in rows_for(org)]
    body = api.post(token_for(org.lead), rows).get_json()
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(None, "metric")]
    assert count(db, Observation) == 0


def test_a_duplicate_row_points_at_the_repeat(org, db, metrics, token_for, api):
    rows = rows_for(org)
    rows.append({**rows[0], "value": 99})
    response = api.post(token_for(org.lead), rows)
    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert error["row"] == 3 and error["field"] is None  # the whole row repeats row 0
    # The message counts as "row" does: "duplicate of line 1" read as a row repeating itself.
    assert "duplicate of row 0" in error["message"] and "line" not in error["message"]
    assert count(db, Observation) == 0


def test_every_error_is_reported_with_its_row(org, db, metrics, token_for, api):
    rows = rows_for(org)
    rows[0] = {**rows[0], "value": "NaN", "period": "soon"}
    rows[2] = {**rows[2], "rep_email": "ghost@example.test"}
    body = api.post(token_for(org.lead), rows).get_json()
    assert body["error_count"] == 3
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (0, "period"), (0, "value"), (2, "rep_email")]
    assert body["errors"][1]["value"] == "NaN"
    assert count(db, Observation) == 0


def test_a_bare_nan_literal_is_a_value_error(org, db, metrics, token_for, api):
    raw = json.dumps(rows_for(org)).replace("5000.5", "NaN")
    body = api.post(token_for(org.lead), raw, raw=True).get_json()
    assert [(e["row"], e["field"], e["value"]) for e in body["errors"]] == [(2, "value", "NaN")]


def test_a_key_given_twice_in_one_row_is_refused_and_nothing_written(org, db, metrics,
                                                                     token_for, api):
    """Valid JSON keeps the last of two equal keys: a value nobody chose was imported."""
    rows = json.dumps(rows_for(org))
    raw = rows.replace('"value": 5000.5', '"value": 1, "value": 5000.5', 1)
    assert raw != rows
    response = api.post(token_for(org.lead), raw, raw=True)
    assert response.status_code == 400
    assert 'the key "value" appears twice in one object' in response.get_json()["error"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 0


def test_a_manager_imports_only_for_their_scope(org, db, metrics, token_for, api):
    rows = rows_for(org)
    rows[1] = {**rows[1], "rep_email": org.outsider.email}
    response = api.post(token_for(org.lead), rows)
    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert (error["row"], error["field"]) == (1, "rep_email")
    assert "is not one of the reps you may import data for" in error["message"]
    rows[1] = {**rows[1], "rep_email": "nobody@example.test"}  # the same answer for a nobody
    [nobody] = api.post(token_for(org.lead), rows).get_json()["errors"]
    assert nobody["message"] == error["message"].replace(org.outsider.email,
                                                         "nobody@example.test")
    assert count(db, Observation) == 0
    # The boss sits above the lead: the lead's reps are in the boss's scope.
    assert api.post(token_for(org.boss), rows_for(org)).status_code == 201


def test_the_same_payload_twice_is_409(org, db, metrics, token_for, api):
    token = token_for(org.lead)
    first = api.post(token, rows_for(org)).get_json()
    response = api.post(token, {"rows": rows_for(org), "replace": True})
    assert response.status_code == 409
    assert response.get_json()["duplicate_of"] == first["batch_id"]
    assert count(db, ImportBatch) == 1 and count(db, Observation) == 3


def test_an_earlier_payload_sent_again_puts_its_values_back(org, db, metrics, token_for,
                                                          api):
    """It was refused as 'already imported as batch #1; nothing was written', while the values
    stored were the later batch's."""
    token = token_for(org.lead)
    assert api.post(token, rows_for(org, value=10)).status_code == 201
    assert api.post(token, {"rows": rows_for(org, value=20), "replace": True}).status_code == 201
    again = api.post(token, {"rows": rows_for(org, value=10), "replace": True})
    assert again.status_code == 201, again.get_json()
    assert again.get_json()["changed"] == 2  # calls; revenue was 5000.5 all along
    assert sorted(db.session.scalars(sa.select(Observation.value))) == [10.0, 11.0, 5000.5]


def test_rows_that_change_nothing_write_no_batch(org, db, metrics, token_for, api):
    """The same rows in another order, or "10" for 10, made an empty batch each time."""
    token = token_for(org.lead)
    assert api.post(token, rows_for(org)).status_code == 201
    reordered = [{**row, "value": str(row["value"])} for row in reversed(rows_for(org))]
    response = api.post(token, reordered)
    assert response.status_code == 409
    assert response.get_json()["error"] == ("every value is already stored (3 unchanged); "
                                            "nothing was written")
    assert count(db, ImportBatch) == 1


def test_changed_values_need_replace(org, db, metrics, token_for, api):
    token = token_for(org.lead)
    assert api.post(token, rows_for(org, value=10)).status_code == 201
    changed = rows_for(org, value=20)

    response = api.post(token, {"rows": changed})
    assert response.status_code == 409
    body = response.get_json()
    assert body["changed"] == 2 and "2 stored value(s) would change" in body["error"]
    assert stored(db, org.rep, metrics.calls) == 10 and count(db, ImportBatch) == 1

    response = api.post(token, {"rows": changed, "replace": True})
    assert response.status_code == 201
    assert response.get_json() | {"batch_id": 0} == {"batch_id": 0, "rows": 3, "new": 0,
                                                     "changed": 2, "unchanged": 1}
    assert stored(db, org.rep, metrics.calls) == 20
    assert stored(db, org.rep2, metrics.calls) == 21


@pytest.mark.parametrize("body", [
    "not json", "", "42", '"rows"', "[1, 2]", '[{"rep_email": "a"}, []]', '{"rows": {}}',
    '{"row": []}', '{"rows": [], "replace": "yes"}', '{"rows": [], "source_name": 7}',
    '{"rows": [], "source_name": " "}', '{"rows": [], "extra": 1}', "[" * 100_000,
])
def test_a_body_of_the_wrong_shape_is_400(org, db, metrics, token_for, api, body):
    response = api.post(token_for(org.lead), body, raw=True)
    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"]


def test_an_empty_list_is_422(org, metrics, token_for, api):
    response = api.post(token_for(org.lead), [])
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["row"] is None


def test_the_wide_layout_is_refused(org, db, metrics, token_for, api):
    rows = [{"rep_email": org.rep.email, "period": "2026-Q1", "calls": 5}]
    response = api.post(token_for(org.lead), rows)
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"metric", "value"}
    assert count(db, Observation) == 0


def test_an_unknown_field_in_a_row_is_422(org, db, metrics, token_for, api):
    rows = rows_for(org)
    rows[0]["note"] = "hi"
    body = api.post(token_for(org.lead), rows).get_json()
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(None, "note")]


def test_a_body_over_the_limit_is_413(app, org, db, metrics, token_for, api):
    token = token_for(org.lead)
    app.config["IMPORT_MAX_BYTES"] = 200
    response = api.post(token, rows_for(org) * 5)
    assert response.status_code == 413
    assert "200 bytes" in response.get_json()["error"]
    assert count(db, Observation) == 0


def test_metrics_catalogue(org, db, metrics, token_for, api):
    from reviewapp.metrics.catalogue import set_archived

    set_archived(None, metrics.revenue, True)
    db.session.commit()
    response = api.get(token_for(org.lead))
    assert response.status_code == 200
    by_key = {m["key"]: m for m in response.get_json()["metrics"]}
    assert by_key["calls"] == {"key": "calls", "name": "Calls", "unit": "calls",
                               "kind": "activity", "direction": "higher", "rollup": "sum",
                               "kpi_status": "candidate", "archived": False}
    assert by_key["revenue"]["kind"] == "outcome" and by_key["revenue"]["kpi_status"] is None
    assert by_key["revenue"]["archived"] is True
    assert list(response.get_json()) == ["metrics"]


def test_an_empty_row_is_reported_not_skipped(org, db, metrics, token_for, api):
    rows = rows_for(org)
    rows.insert(1, {})
    response = api.post(token_for(org.lead), rows)
    assert response.status_code == 422
    fields = {(e["row"], e["field"]) for e in response.get_json()["errors"]}
    assert (1, "rep_email") in fields
    assert count(db, Observation) == 0
