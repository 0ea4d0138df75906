"""The import service through the web: upload → preview → confirm; all-or-nothing; undo."""

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from reviewapp.metrics.catalogue import add_metric
from reviewapp.metrics.models import BatchStatus, ImportBatch, Observation
from tests.metrics.conftest import table_state

CORPUS = Path(__file__).resolve().parent / "corpus"
BAD_FILES = sorted(p.name for p in CORPUS.iterdir()
                   if p.name.startswith("bad_") or p.name in {
                       "empty.csv", "blank.csv", "header_only.csv", "not_a_table.pdf",
                       "image.png", "garbage.bin", "latin1.csv", "utf16.csv", "fake.xlsx",
                       "wide_unknown_col.csv", "wide_duplicate.csv"})


def upload(client, data: bytes, name: str, sheet: str = ""):
    response = client.post("/metrics/import", data={
        "file": (io.BytesIO(data), name), "sheet": sheet}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def csv_bytes(rows: list[str]) -> bytes:
    return ("rep_email,period,metric,value\n" + "\n".join(rows) + "\n").encode()


@pytest.mark.parametrize("name", BAD_FILES)
def test_every_bad_file_is_rejected_whole_and_changes_nothing(client, corpus_org, login_as,
                                                             db, name):
    login_as(corpus_org.lead)
    before = table_state(db)
    preview = upload(client, (CORPUS / name).read_bytes(), name)
    page = client.get(preview).get_data(as_text=True)
    assert "error(s)." in page and "Confirm import" not in page
    response = client.post(preview, data={"action": "confirm", "replace": "1"})
    assert "error(s); nothing was imported." in response.get_data(as_text=True)
    assert table_state(db) == before


def test_good_file_previews_counts_then_confirm_writes_one_batch(client, corpus_org, login_as,
                                                                 db):
    login_as(corpus_org.lead)
    data = csv_bytes(["ana@example.com,2026-Q1,calls,120", "ben@example.com,2026-Q1,calls,80",
                      "cara@example.com,2026-03,revenue,1000.5"])
    preview = upload(client, data, "q1.csv")
    page = client.get(preview).get_data(as_text=True)
    assert re.search(r'data-testid="count-new">3<', page)
    assert "ana@example.com" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 0
    response = client.post(preview, data={"action": "confirm"})
    assert response.status_code == 302
    batch = db.session.scalar(sa.select(ImportBatch))
    assert (batch.row_count, batch.new_count, batch.uploaded_by_id) == (3, 3, corpus_org.lead.id)
    values = dict(db.session.execute(sa.select(Observation.rep_id, Observation.value)).all())
    assert values[corpus_org.reps["cara"].id] == 1000.5


def test_same_file_twice_names_the_batch_and_writes_nothing(client, corpus_org, login_as, db):
    login_as(corpus_org.lead)
    data = csv_bytes(["ana@example.com,2026-Q1,calls,120"])
    client.post(upload(client, data, "a.csv"), data={"action": "confirm"})
    first = db.session.scalar(sa.select(ImportBatch.id))
    before = table_state(db)
    preview = upload(client, data, "a-again.csv")
    assert f"already imported as <a href=\"/metrics/batches/{first}\">batch #{first}" in \
        client.get(preview).get_data(as_text=True)
    body = client.post(preview, data={"action": "confirm"}, follow_redirects=True
                       ).get_data(as_text=True)
    assert f"already imported as batch #{first}" in body
    assert table_state(db) == before


def test_changed_values_need_replace_and_undo_restores_them(client, corpus_org, login_as, db):
    login_as(corpus_org.lead)
    ana = corpus_org.reps["ana"]
    client.post(upload(client, csv_bytes(["ana@example.com,2026-Q1,calls,120",
                                          "ben@example.com,2026-Q1,calls,80"]), "v1.csv"),
                data={"action": "confirm"})
    v1 = table_state(db)
    preview = upload(client, csv_bytes(["ana@example.com,2026-Q1,calls,150",
                                        "ben@example.com,2026-Q1,calls,80",
                                        "cara@example.com,2026-Q1,calls,60"]), "v2.csv")
    page = client.get(preview).get_data(as_text=True)
    assert re.search(r'data-testid="count-changed">1<', page)
    assert re.search(r'data-testid="count-unchanged">1<', page)
    body = client.post(preview, data={"action": "confirm"}, follow_redirects=True
                       ).get_data(as_text=True)
    assert "1 stored value(s) would change" in body
    assert table_state(db) == v1
    client.post(preview, data={"action": "confirm", "replace": "1"})
    db.session.expire_all()
    stored = dict(db.session.execute(sa.select(Observation.rep_id, Observation.value)).all())
    assert stored[ana.id] == 150 and len(stored) == 3
    second = db.session.scalar(sa.select(ImportBatch).order_by(ImportBatch.id.desc()))
    client.post(f"/metrics/batches/{second.id}/undo")
    assert table_state(db)[0] == v1[0]
    db.session.expire_all()
    assert db.session.get(ImportBatch, second.id).status == BatchStatus.UNDONE
    body = client.post(f"/metrics/batches/{second.id}/undo", follow_redirects=True
                       ).get_data(as_text=True)
    assert "already been undone" in body


def test_undo_is_refused_while_a_later_batch_replaced_its_values(client, corpus_org, login_as,
                                                                 db):
    login_as(corpus_org.lead)
    client.post(upload(client, csv_bytes(["ana@example.com,2026-Q1,calls,1"]), "1.csv"),
                data={"action": "confirm"})
    client.post(upload(client, csv_bytes(["ana@example.com,2026-Q1,calls,2"]), "2.csv"),
                data={"action": "confirm", "replace": "1"})
    first, second = db.session.scalars(sa.select(ImportBatch.id).order_by(ImportBatch.id)).all()
    before = table_state(db)
    body = client.post(f"/metrics/batches/{first}/undo", follow_redirects=True
                       ).get_data(as_text=True)
    assert f"Batch #{second} has since replaced values from this batch" in body
    assert table_state(db) == before


def test_wide_file_with_unknown_column_is_fixed_by_mapping(client, corpus_org, login_as, db):
    login_as(corpus_org.lead)
    data = b"rep_email,period,calls,Mtgs,notes\nana@example.com,2026-Q1,10,3,hello\n"
    preview = upload(client, data, "wide.csv")
    page = client.get(preview).get_data(as_text=True)
    assert "is not a metric key" in page and 'name="map:Mtgs"' in page
    page = client.post(preview, data={"action": "remap", "map:Mtgs": "meetings",
                                      "map:notes": ""}).get_data(as_text=True)
    assert re.search(r'data-testid="count-new">2<', page)
    client.post(preview, data={"action": "confirm", "map:Mtgs": "meetings", "map:notes": ""})
    keys = db.session.execute(sa.select(Observation.metric_id, Observation.value)).all()
    assert sorted(v for _, v in keys) == [3.0, 10.0]


def test_a_week_for_a_metric_stored_by_quarter_is_refused_whole(client, corpus_org, login_as,
                                                               db):
    login_as(corpus_org.lead)
    client.post(upload(client, csv_bytes(["ana@example.com,2026-Q3,calls,42"]), "q3.csv"),
                data={"action": "confirm"})
    before = table_state(db)
    preview = upload(client, csv_bytes(["ben@example.com,2026-Q3,calls,30",
                                        "ana@example.com,2026-W30,calls,50"]), "w30.csv")
    page = client.get(preview).get_data(as_text=True)
    assert ("<td>3</td><td>period</td><td>2026-W30</td><td>calls is stored by quarter; "
            "2026-W30 is a week. Send all of one metric&#39;s values at one grain.</td>") in page
    assert "Confirm import" not in page
    response = client.post(preview, data={"action": "confirm", "replace": "1"})
    assert "error(s); nothing was imported." in response.get_data(as_text=True)
    assert table_state(db) == before


def test_a_nul_byte_is_reported_at_its_line_and_column(client, corpus_org, login_as, db):
    login_as(corpus_org.lead)
    data = csv_bytes(["ana@example.com,2026-Q1,calls,1", "ben@example.com,2026-Q1,calls,2\x00"])
    page = client.get(upload(client, data, "nul.csv")).get_data(as_text=True)
    assert "<td>3</td><td>value</td>" in page and "contains a NUL byte" in page
    assert "binary" not in page


def test_a_wide_file_with_a_metric_keyed_value_imports(client, corpus_org, login_as, db):
    add_metric(None, key="value", name="Deal value", kind="outcome", direction="higher",
               rollup="sum")
    db.session.commit()
    login_as(corpus_org.lead)
    preview = upload(client, b"rep_email,period,value,calls\nana@example.com,2026-Q1,900,10\n",
                     "wide.csv")
    assert re.search(r'data-testid="count-new">2<', client.get(preview).get_data(as_text=True))


def test_manager_cannot_import_for_people_outside_scope_but_hr_can(client, corpus_org,
                                                                   login_as, db):
    data = csv_bytes(["zoe@example.com,2026-Q1,calls,5"])
    login_as(corpus_org.lead)
    page = client.get(upload(client, data, "z.csv")).get_data(as_text=True)
    assert "zoe@example.com" in page and "error(s)." in page
    login_as(corpus_org.hr)
    client.post(upload(client, data, "z.csv"), data={"action": "confirm"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 1


def test_a_managers_email_is_called_a_manager_to_hr_only(client, corpus_org, login_as, db):
    data = csv_bytes([f"{corpus_org.elsewhere.email},2026-Q1,calls,5"])
    before = table_state(db)
    login_as(corpus_org.hr)
    page = client.get(upload(client, data, "m.csv")).get_data(as_text=True)
    assert (f"&#39;{corpus_org.elsewhere.email}&#39; is a manager, not a rep: metric values are "
            "recorded for reps only") in page
    # A manager who may import only for their people learns nothing about who works here.
    login_as(corpus_org.lead)
    page = client.get(upload(client, data, "m.csv")).get_data(as_text=True)
    assert "is a manager" not in page and "not one of the reps you may import data for" in page
    assert table_state(db) == before


def test_reps_cannot_import(client, corpus_org, login_as):
    login_as(corpus_org.reps["ana"])
    assert client.get("/metrics/import").status_code == 403
    response = client.post("/metrics/import", data={
        "file": (io.BytesIO(b"x"), "x.csv")}, content_type="multipart/form-data")
    assert response.status_code == 403


def test_errors_csv_lists_every_error(client, corpus_org, login_as):
    login_as(corpus_org.lead)
    rows = [f"ghost{i}@example.com,2026-Q1,calls,1" for i in range(250)]
    preview = upload(client, csv_bytes(rows), "many.csv")
    page = client.get(preview).get_data(as_text=True)
    assert "Showing the first 200 of 250" in page
    response = client.get(preview + "/errors.csv")
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).strip().splitlines()
    assert len(lines) == 251 and "ghost249@example.com" in lines[-1]


def test_file_over_the_size_limit(client, corpus_org, login_as, app, db):
    app.config["IMPORT_MAX_BYTES"] = 100
    login_as(corpus_org.lead)
    before = table_state(db)
    data = csv_bytes([f"ana@example.com,2026-{m:02d},calls,1" for m in range(1, 13)])
    page = client.get(upload(client, data, "big.csv")).get_data(as_text=True)
    assert "error(s)." in page and "limit" in page
    assert table_state(db) == before


def test_cancel_discards_the_upload(client, corpus_org, login_as):
    login_as(corpus_org.lead)
    preview = upload(client, csv_bytes(["ana@example.com,2026-Q1,calls,1"]), "c.csv")
    client.post(preview, data={"action": "cancel"})
    assert client.get(preview).status_code == 404


def test_someone_elses_upload_is_not_found(client, corpus_org, login_as):
    login_as(corpus_org.lead)
    preview = upload(client, csv_bytes(["ana@example.com,2026-Q1,calls,1"]), "c.csv")
    login_as(corpus_org.hr)
    assert client.get(preview).status_code == 404


def test_the_upload_page_refuses_a_cell_over_a_line_break_as_the_command_line_does(
        client, corpus_org, login_as, db):
    # "12" and a line break in quotes reads as the number 12; every later line would be
    # numbered one short.
    login_as(corpus_org.lead)
    data = b'rep_email,period,metric,value\nana@example.com,2026-03,calls,"12\n"\n'
    page = client.get(upload(client, data, "broken.csv")).get_data(as_text=True)
    assert "line 2: the quoted cell in column &#39;value&#39; goes on over a line break" in page
    assert "Confirm import" not in page


def test_the_preview_names_the_sheet_it_read(client, corpus_org, login_as, db):
    login_as(corpus_org.lead)
    page = client.get(upload(client, (CORPUS / "two_sheets.xlsx").read_bytes(),
                             "two_sheets.xlsx", sheet="data")).get_data(as_text=True)
    # Asked for in another case, the one sheet of that name is read.
    assert 'read from sheet <strong data-testid="sheet">Data</strong> (of 2: Notes, Data' in page


def test_a_file_whose_values_are_all_stored_says_so_and_writes_no_batch(client, corpus_org,
                                                                       login_as, db):
    login_as(corpus_org.lead)
    client.post(upload(client, csv_bytes(["ana@example.com,2026-Q1,calls,120",
                                          "ben@example.com,2026-Q1,calls,80"]), "a.csv"),
                data={"action": "confirm"})
    before = table_state(db)
    preview = upload(client, csv_bytes(["ben@example.com,2026-Q1,calls,80.0",
                                        "ana@example.com,2026-Q1,calls,120"]), "b.csv")
    assert 'data-testid="nothing-to-write"' in client.get(preview).get_data(as_text=True)
    body = client.post(preview, data={"action": "confirm"}, follow_redirects=True
                       ).get_data(as_text=True)
    assert "Every value is already stored (2 unchanged); nothing was written." in body
    assert table_state(db) == before


def test_the_preview_shows_values_as_read_to_the_last_digit(client, corpus_org, login_as):
    login_as(corpus_org.lead)
    data = csv_bytes(["ana@example.com,2026-Q1,revenue,1234567.89",
                      "ben@example.com,2026-Q1,revenue,2000000"])
    page = client.get(upload(client, data, "big.csv")).get_data(as_text=True)
    assert ">1,234,567.89<" in page and ">2,000,000<" in page
    assert "e+06" not in page
