"""The disk fills up while an import is written: it is refused whole, on the page, through the
API and on the command line, with a message that says why; nothing of it is stored.

SQLite plays the full disk: `PRAGMA max_page_count` at or below the file's size (after a
VACUUM, so no free page is left inside it) makes every write that needs a new page fail with
SQLITE_FULL, "database or disk is full", exactly as a full file system does.
"""

import json
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from reviewapp.api.services import create_token
from tests.metrics.conftest import table_state
from tests.metrics.test_import_web import upload

REFUSAL = "run out of storage space; nothing was imported"
REPS = ("ana", "ben", "cara")
METRICS = ("calls", "emails", "meetings", "revenue")


@pytest.fixture
def disk_full(app, db):
    """A context manager: inside it the database file cannot grow by a single page."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the full disk is played with SQLite's max_page_count")

    def no_room(dbapi_connection, _record, _proxy):
        dbapi_connection.execute("PRAGMA max_page_count = 1")  # = its current size, at least

    @contextmanager
    def full():
        db.session.rollback()
        with db.engine.connect() as conn:
            conn.exec_driver_sql("VACUUM")  # no free pages left inside the file to fill first
        db.engine.dispose()
        sa.event.listen(db.engine, "checkout", no_room)
        try:
            yield
        finally:
            sa.event.remove(db.engine, "checkout", no_room)
            db.session.remove()
            db.engine.dispose()  # the limit stays with each connection: let them all go

    yield full
    db.engine.dispose()


def rows(value: int = 1) -> list[dict]:
    """Five years of months for three reps and four metrics: 720 values, many new pages."""
    return [{"rep_email": f"{rep}@example.com", "period": f"{2020 + m // 12}-{m % 12 + 1:02d}",
             "metric": metric, "value": value + m}
            for rep in REPS for metric in METRICS for m in range(60)]


def as_csv(records: list[dict]) -> bytes:
    lines = ["rep_email,period,metric,value"]
    lines += [f"{r['rep_email']},{r['period']},{r['metric']},{r['value']}" for r in records]
    return ("\n".join(lines) + "\n").encode()


def test_the_upload_page_refuses_a_new_import_whole(client, corpus_org, login_as, db,
                                                    disk_full):
    login_as(corpus_org.lead)
    preview = upload(client, as_csv(rows()), "five-years.csv")
    before = table_state(db)
    with disk_full():
        response = client.post(preview, data={"action": "confirm"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert REFUSAL in page and "tell your administrator" in page
    assert table_state(db) == before
    # Room again: the same upload, still waiting, goes in.
    assert client.post(preview, data={"action": "confirm"}).status_code == 302
    assert len(table_state(db)[0]) == 720


def test_replacing_values_on_a_full_disk_keeps_the_old_ones(client, corpus_org, login_as, db,
                                                            disk_full):
    login_as(corpus_org.lead)
    first = upload(client, as_csv(rows()), "first.csv")
    assert client.post(first, data={"action": "confirm"}).status_code == 302
    changed = upload(client, as_csv(rows(value=1000)), "changed.csv")
    before = table_state(db)
    with disk_full():  # the values change in place; what they replaced needs new pages
        response = client.post(changed, data={"action": "confirm", "replace": "1"})
    assert REFUSAL in response.get_data(as_text=True)
    assert table_state(db) == before


def test_the_api_answers_507_and_writes_nothing(client, corpus_org, db, disk_full):
    _token, secret = create_token(corpus_org.lead, "CRM sync")
    db.session.commit()
    before = table_state(db)
    with disk_full():
        response = client.post("/api/v1/observations", data=json.dumps(rows()),
                               headers={"Authorization": f"Bearer {secret}"},
                               content_type="application/json")
    assert response.status_code == 507, response.get_data(as_text=True)
    assert REFUSAL in response.json["error"]
    assert table_state(db) == before


def test_the_cli_says_the_server_ran_out_of_storage(runner, corpus_org, db, disk_full,
                                                    tmp_path):
    path = tmp_path / "five-years.csv"
    path.write_bytes(as_csv(rows()))
    before = table_state(db)
    with disk_full():
        result = runner.invoke(args=["metrics", "import", str(path), "--as",
                                     corpus_org.lead.email])
    assert result.exit_code == 1
    assert REFUSAL in result.output and "Traceback" not in result.output
    assert table_state(db) == before
