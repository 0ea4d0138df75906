"""The metric catalogue: HR adds, edits, archives; everyone reads."""

import sqlalchemy as sa

from reviewapp.audit.models import AuditEvent
from reviewapp.metrics.models import KpiStatus, Metric


def test_hr_adds_activity_metric_as_candidate_and_outcome_without_status(client, org, login_as,
                                                                          db):
    login_as(org.hr)
    for key, kind in [("calls", "activity"), ("revenue", "outcome")]:
        response = client.post("/metrics/new", data={
            "key": key, "name": key.title(), "unit": "", "kind": kind,
            "direction": "higher", "rollup": "sum", "description": ""})
        assert response.status_code == 302
    statuses = dict(db.session.execute(sa.select(Metric.key, Metric.kpi_status)).all())
    assert statuses == {"calls": KpiStatus.CANDIDATE, "revenue": None}
    body = client.get("/metrics/").get_data(as_text=True)
    assert "Candidate" in body and "outcome" in body


def test_bad_key_and_duplicate_key_rerender_with_field_errors(client, org, login_as, db):
    login_as(org.hr)
    data = {"key": "Calls Per Day", "name": "Calls", "kind": "activity", "direction": "higher",
            "rollup": "mean", "unit": "", "description": ""}
    body = client.post("/metrics/new", data=data).get_data(as_text=True)
    assert "lower-case letters" in body
    client.post("/metrics/new", data={**data, "key": "calls"})
    body = client.post("/metrics/new", data={**data, "key": "calls"}).get_data(as_text=True)
    assert "A metric with key &#39;calls&#39; already exists." in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Metric)) == 1


def test_edit_keeps_key_and_kind_and_is_audited(client, org, login_as, db):
    login_as(org.hr)
    client.post("/metrics/new", data={"key": "calls", "name": "Calls", "kind": "activity",
                                      "direction": "higher", "rollup": "sum", "unit": "",
                                      "description": ""})
    metric = db.session.scalar(sa.select(Metric))
    client.post(f"/metrics/{metric.id}/edit", data={
        "key": "hacked", "kind": "outcome", "name": "Calls per day", "unit": "calls",
        "direction": "lower", "rollup": "mean", "description": "Per working day"})
    db.session.expire_all()
    metric = db.session.get(Metric, metric.id)
    assert (metric.key, metric.kind.value, metric.name, metric.rollup.value) == \
        ("calls", "activity", "Calls per day", "mean")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "metric.update"))
    assert event.before["rollup"] == "sum" and event.after["rollup"] == "mean"


def test_archive_and_unarchive(client, org, login_as, db):
    login_as(org.hr)
    client.post("/metrics/new", data={"key": "faxes", "name": "Faxes", "kind": "activity",
                                      "direction": "higher", "rollup": "sum", "unit": "",
                                      "description": ""})
    metric = db.session.scalar(sa.select(Metric))
    client.post(f"/metrics/{metric.id}/archive", data={"archived": "1"})
    db.session.expire_all()
    assert db.session.get(Metric, metric.id).archived is True
    client.post(f"/metrics/{metric.id}/archive", data={"archived": "0"})
    db.session.expire_all()
    assert db.session.get(Metric, metric.id).archived is False


def test_reps_read_but_cannot_change_the_catalogue(client, org, login_as, db):
    login_as(org.rep)
    assert client.get("/metrics/").status_code == 200
    assert client.post("/metrics/new", data={"key": "x1", "name": "X", "kind": "activity",
                                             "direction": "higher", "rollup": "sum"}
                       ).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Metric)) == 0
