"""The database failing under the app: 503 with a retry page (JSON under /api/), nothing half
written, and the connection pool recovering without a restart of the app.

SQLite: another connection holds an exclusive lock past a short busy timeout. PostgreSQL (with
REVIEWAPP_TEST_DATABASE_URL): the app reaches the server through tests/faultproxy.py, which
plays a restart by cutting every connection and refusing new ones, then comes back.
"""

from __future__ import annotations

import io
import json
import sqlite3
import uuid
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from reviewapp import create_app
from reviewapp.api.services import create_token
from reviewapp.auth.models import Role
from reviewapp.errors import FULL, UNAVAILABLE, database_fault
from reviewapp.extensions import db
from reviewapp.metrics.catalogue import add_metric
from reviewapp.metrics.models import ImportBatch, Metric, Observation
from tests.conftest import LIMITER_CONFIG, FreshContextClient
from tests.dbutil import pg_base_url
from tests.factories import create_user
from tests.faultproxy import FaultProxy

RETRY_TEXT = "briefly unavailable"


def _build(url: str, options: dict, instance) -> SimpleNamespace:
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret-key", "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": options, "WTF_CSRF_ENABLED": False, **LIMITER_CONFIG,
    })
    app.instance_path = str(instance)
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.create_all()
        hr = create_user(Role.HR_ADMIN, email="hr@faults.test")
        lead = create_user(Role.MANAGER, email="lead@faults.test")
        create_user(Role.REP, email="ana@faults.test", manager=lead)
        add_metric(None, key="calls", name="Calls", kind="activity", direction="higher",
                   rollup="sum")
        _token, secret = create_token(hr, "faults")
        db.session.commit()
        hr_id = hr.get_id()
    return SimpleNamespace(app=app, hr_id=hr_id, bearer={"Authorization": f"Bearer {secret}"})


def _client(env: SimpleNamespace):
    client = env.app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = env.hr_id
        session["_fresh"] = True
    return client


def _stored(env: SimpleNamespace) -> tuple:
    """What an import writes (batches and observations) and the metrics, as stored now."""
    with env.app.app_context():
        return (
            db.session.execute(sa.select(ImportBatch.id).order_by(ImportBatch.id)).all(),
            db.session.execute(sa.select(Observation.rep_id, Observation.period_start,
                                         Observation.value).order_by(Observation.id)).all(),
            db.session.scalars(sa.select(Metric.key).order_by(Metric.key)).all(),
        )


def _rows(months: int, value: int = 1, year: int = 2020) -> list[dict]:
    return [{"rep_email": "ana@faults.test", "period": f"{year + m // 12}-{m % 12 + 1:02d}",
             "metric": "calls", "value": value + m} for m in range(months)]


def _csv(rows: list[dict]) -> bytes:
    lines = ["rep_email,period,metric,value"]
    lines += [f"{r['rep_email']},{r['period']},{r['metric']},{r['value']}" for r in rows]
    return ("\n".join(lines) + "\n").encode()


def assert_retry_page(response) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code == 503, text[:500]
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "text/html"
    assert RETRY_TEXT in text.lower() and "Try again" in text
    assert "Traceback" not in text and "sqlalchemy" not in text.lower()


def assert_retry_json(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    # At least ours: the API's rate limiter raises it to the end of its window, if later.
    assert int(response.headers["Retry-After"]) >= 5
    assert response.json["error"] == RETRY_TEXT
    assert "try again in a moment" in response.json["message"]


# Which errors are the database's fault, not a bug ----------------------------------------------


def _wrapped(orig: Exception, cls=sa.exc.OperationalError) -> Exception:
    return cls("SELECT 1", {}, orig)


def test_busy_locked_and_full_are_faults_but_a_bad_statement_is_a_bug():
    locked = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.OperationalError) as bad:
        locked.execute("SELECT * FROM no_such_table")
    assert database_fault(_wrapped(bad.value)) is None  # sqlite3 calls this "operational" too
    assert database_fault(ValueError("no")) is None
    assert database_fault(sa.exc.TimeoutError("pool exhausted")) == UNAVAILABLE


def test_postgresql_errors_by_sqlstate():
    psycopg = pytest.importorskip("psycopg")
    refused = psycopg.OperationalError("connection failed: Connection refused")
    assert database_fault(_wrapped(refused)) == UNAVAILABLE
    assert database_fault(_wrapped(psycopg.errors.AdminShutdown())) == UNAVAILABLE
    assert database_fault(_wrapped(psycopg.errors.CannotConnectNow())) == UNAVAILABLE
    assert database_fault(psycopg.errors.DiskFull()) == FULL  # raw, as from COPY
    assert database_fault(_wrapped(psycopg.errors.UndefinedTable(),
                                   sa.exc.ProgrammingError)) is None


# SQLite: locked past the busy timeout ----------------------------------------------------------


@pytest.fixture
def sqlite_env(tmp_path):
    path = tmp_path / "faults.db"
    env = _build(f"sqlite:///{path}?timeout=0.2", {}, tmp_path / "instance")
    env.path = path
    yield env
    with env.app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def exclusive_lock(env):
    """Another process holds the database: no read or write gets past the busy timeout."""
    with env.app.app_context():
        db.engine.dispose()  # in WAL mode an open connection would keep the lock away
    holder = sqlite3.connect(env.path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_locked_sqlite_database_answers_503_then_recovers(sqlite_env):
    client = _client(sqlite_env)
    assert client.get("/dashboard").status_code == 200
    before = _stored(sqlite_env)
    with exclusive_lock(sqlite_env):
        assert_retry_page(client.get("/dashboard"))
        # Any other error page must not need the database either (it is drawn as to a visitor).
        missing = client.get("/no-such-page")
        assert missing.status_code == 404 and "Not found" in missing.get_data(as_text=True)
        assert_retry_json(client.get("/api/v1/metrics", headers=sqlite_env.bearer))
        response = client.post("/metrics/new", data={
            "key": "emails", "name": "Emails", "kind": "activity", "direction": "higher",
            "rollup": "sum", "unit": "", "description": ""})
        assert response.status_code == 503
        assert "Try again" not in response.get_data(as_text=True)  # a POST is not repeated
        assert_retry_json(client.post("/api/v1/observations", headers=sqlite_env.bearer,
                                      data=json.dumps(_rows(3)),
                                      content_type="application/json"))
    # The same app, the same pool: the next requests work.
    assert client.get("/dashboard").status_code == 200
    assert client.get("/api/v1/metrics", headers=sqlite_env.bearer).status_code == 200
    assert _stored(sqlite_env) == before
    response = client.post("/api/v1/observations", headers=sqlite_env.bearer,
                           data=json.dumps(_rows(3)), content_type="application/json")
    assert response.status_code == 201


# PostgreSQL: a restart under the app, through a proxy ---------------------------------------


@pytest.fixture(scope="module")
def pg_env(tmp_path_factory):
    base = pg_base_url()
    if base is None:
        pytest.skip("REVIEWAPP_TEST_DATABASE_URL is not set")
    real = sa.make_url(base)
    proxy = FaultProxy(real.host or "127.0.0.1", real.port or 5432).start()
    schema = f"t_faults_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        env = _build(proxied, {"connect_args": {"options": f"-csearch_path={schema}",
                                                "connect_timeout": 5}},
                     tmp_path_factory.mktemp("instance"))
        env.proxy = proxy
        yield env
        with env.app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        proxy.stop()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def cut_when(env, statement_starts: str | None = None, *, at_commit_after: str | None = None):
    """Restart the database (cut every connection) just before the app sends the statement
    that starts with `statement_starts`, or just before the COMMIT of a transaction that ran
    one starting with `at_commit_after`; the proxy stays down until the block ends."""
    with env.app.app_context():
        engine = db.engine

    def before_execute(conn, _cursor, statement, *_args):
        text = statement.lstrip().upper()
        if statement_starts and text.startswith(statement_starts):
            env.proxy.stop()
        if at_commit_after and text.startswith(at_commit_after):
            conn.info["cut_at_commit"] = True

    def before_commit(conn):
        if conn.info.pop("cut_at_commit", False):
            env.proxy.stop()

    sa.event.listen(engine, "before_cursor_execute", before_execute)
    sa.event.listen(engine, "commit", before_commit)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", before_execute)
        sa.event.remove(engine, "commit", before_commit)
        env.proxy.start()


def test_a_postgresql_restart_answers_503_then_the_pool_recovers(pg_env):
    client = _client(pg_env)
    assert client.get("/dashboard").status_code == 200
    assert client.get("/api/v1/metrics", headers=pg_env.bearer).status_code == 200
    pg_env.proxy.stop()  # the server goes down: pooled connections die, new ones are refused
    try:
        assert_retry_page(client.get("/dashboard"))
        assert_retry_page(client.get("/metrics/"))
        assert client.get("/no-such-page").status_code == 404
        assert_retry_json(client.get("/api/v1/metrics", headers=pg_env.bearer))
    finally:
        pg_env.proxy.start()
    before = pg_env.proxy.connections
    for _ in range(3):  # every request works again, with the same app
        assert client.get("/dashboard").status_code == 200
        assert client.get("/api/v1/metrics", headers=pg_env.bearer).status_code == 200
    assert pg_env.proxy.connections > before  # through new connections


def test_a_restart_in_the_middle_of_an_import_writes_none_of_it(pg_env):
    client = _client(pg_env)
    rows = _rows(24, value=10)
    upload = client.post("/metrics/import", data={"file": (io.BytesIO(_csv(rows)), "rows.csv"),
                                                  "sheet": ""},
                         content_type="multipart/form-data")
    assert upload.status_code == 302
    preview = upload.headers["Location"]
    assert "24" in client.get(preview).get_data(as_text=True)
    before = _stored(pg_env)
    # The batch row and the observations are written; the roll-up refresh is next when the
    # server goes away.
    with cut_when(pg_env, "DELETE FROM METRIC_ROLLUPS"):
        response = client.post(preview, data={"action": "confirm"})
        assert response.status_code == 503
        text = response.get_data(as_text=True)
        assert RETRY_TEXT in text.lower() and "Traceback" not in text
    assert _stored(pg_env) == before
    confirmed = client.post(preview, data={"action": "confirm"})  # the same upload, again
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)[:500]
    assert len(_stored(pg_env)[1]) == len(before[1]) + 24


def test_a_commit_the_server_never_received_is_a_503_and_nothing_is_kept(pg_env):
    client = _client(pg_env)
    rows = _rows(12, value=500, year=2024)
    before = _stored(pg_env)
    with cut_when(pg_env, at_commit_after="INSERT INTO IMPORT_BATCHES"):
        response = client.post("/api/v1/observations", headers=pg_env.bearer,
                               data=json.dumps(rows), content_type="application/json")
        assert_retry_json(response)
    assert _stored(pg_env) == before
    again = client.post("/api/v1/observations", headers=pg_env.bearer, data=json.dumps(rows),
                        content_type="application/json")
    assert again.status_code == 201, again.get_data(as_text=True)
