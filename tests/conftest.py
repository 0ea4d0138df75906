"""Shared fixtures: app, client, runner, isolated database, factories, login_as."""

import os
import shutil
import uuid
from pathlib import Path

import pytest
from flask import current_app
from flask.testing import FlaskClient

from reviewapp import create_app
from reviewapp.extensions import db as _db
from reviewapp.extensions import limiter
from reviewapp.reviews.lock import unlock_all_for_maintenance
from tests import factories
from tests.dbutil import scratch_database

TEST_PASSWORD = factories.TEST_PASSWORD
# The limiter's storage: REVIEWAPP_RATELIMIT_STORAGE_URI (Redis in CI) or memory; keys under a
# prefix of this run's own, so that runs sharing one Redis never see or reset each other's.
LIMITER_CONFIG = {
    "RATELIMIT_STORAGE_URI": os.environ.get("REVIEWAPP_RATELIMIT_STORAGE_URI", "memory://"),
    "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": f"reviewapp-test-{uuid.uuid4().hex[:12]}"},
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": False,  # a broken Redis must fail the tests
}


@pytest.fixture(scope="session")
def _database(tmp_path_factory):
    with scratch_database(tmp_path_factory.mktemp("db"), "suite") as (url, options):
        yield url, options


def reset_limits() -> None:
    """Forget every rate-limit count of this run (never another run's keys in a shared Redis:
    an app built elsewhere in the suite may have rebound the one limiter)."""
    prefix = getattr(limiter.storage, "key_prefix", None)
    if prefix in (None, LIMITER_CONFIG["RATELIMIT_STORAGE_OPTIONS"]["key_prefix"]):
        limiter.reset()


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (own g, own db session), as in production."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def _app(_database, tmp_path_factory):
    url, options = _database
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": options,
        "WTF_CSRF_ENABLED": False,
        **LIMITER_CONFIG,
    })
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    app.test_client_class = FreshContextClient
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


def _empty_all_tables() -> None:
    # Uploads waiting for confirmation belong to users that are about to go (and whose ids the
    # next build reuses, with its per-user quota of waiting uploads).
    shutil.rmtree(Path(current_app.instance_path) / "uploads", ignore_errors=True)
    _db.session.remove()
    tables = list(reversed(_db.metadata.sorted_tables))
    # DELETE, not TRUNCATE: on tables this small it is far cheaper in PostgreSQL, where
    # TRUNCATE rewrites every table's files. Children go before parents.
    with _db.engine.begin() as conn:
        unlock_all_for_maintenance(conn)  # the lock refuses deleting a finalised review's rows
        for table in tables:
            conn.execute(table.delete())


@pytest.fixture
def app(_app):
    """The app inside an app context; every table is emptied after the test, and its config
    and instance folder are put back (tests point them elsewhere)."""
    saved, instance = dict(_app.config), _app.instance_path
    with _app.app_context():
        yield _app
        _empty_all_tables()
        reset_limits()
    _app.config.clear()
    _app.config.update(saved)
    _app.instance_path = instance


@pytest.fixture(scope="module")
def module_app(_app):
    """The app inside one app context for a whole module, for data built once and shared by
    its tests (`app` empties every table after each test); every table is emptied at the end
    of the module. Do not mix it with `app` in one module."""
    saved, instance = dict(_app.config), _app.instance_path
    with _app.app_context():
        yield _app
        _empty_all_tables()
        reset_limits()
    _app.config.clear()
    _app.config.update(saved)
    _app.instance_path = instance


@pytest.fixture(scope="session")
def empty_tables():
    """Empty every table now: for module_app users that start over in the middle."""
    return _empty_all_tables


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def create_user(app):
    return factories.create_user


@pytest.fixture
def create_team(app):
    return factories.create_team


@pytest.fixture
def org(app):
    """A small organisation: HR, two managers (one below the other), reps, an outsider."""
    return factories.build_org()


@pytest.fixture
def login_as(client):
    """Log the test client in as a user (through the session, as Flask-Login stores it)."""

    def _login(user):
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return client

    return _login
