"""Flask extensions, created unbound so that create_app can bind them to each app."""

import sqlite3
from pathlib import Path

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Deterministic constraint names: Alembic needs them to alter constraints later, on SQLite too.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
# Limits are declared where they apply (reviewapp/throttle.py); storage from RATELIMIT_STORAGE_URI.
limiter = Limiter(key_func=get_remote_address)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Every SQLite connection: WAL for concurrent readers, wait on locks, enforce foreign keys."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL is safe against corruption and avoids an fsync on every commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        # The busy timeout is sqlite3's `timeout` (5 s, or ?timeout=N in the URL); past it a
        # request gets 503 (reviewapp/errors.py).
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        # lower() for every script (SQLite's folds only A-Z): the search (pagination.folded).
        dbapi_connection.create_function("reviewapp_lower", 1, _lower, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def init_migrations(app):
    """Flask-Migrate (Alembic) bound to `app`, binding it first if need be: the `flask db`
    commands, backups and the migration tests use it. A server worker never does, and importing
    Alembic is a tenth of a second of its start, so create_app binds it only for a command line
    (and under TESTING); anything else that needs it calls this."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(MIGRATIONS), compare_type=True, render_as_batch=True)
    return app.extensions["migrate"]
