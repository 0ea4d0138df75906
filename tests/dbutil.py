"""Test databases: a temporary SQLite file, or a throw-away schema in PostgreSQL."""

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

PG_ENV = "REVIEWAPP_TEST_DATABASE_URL"


def pg_base_url() -> str | None:
    """The PostgreSQL URL CI gives us, if any."""
    url = os.environ.get(PG_ENV)
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@contextmanager
def scratch_database(tmp_dir: Path, label: str):
    """Yield (url, engine_options) of an empty database that is removed afterwards.

    PostgreSQL may hold leftovers from earlier runs, so each use gets its own schema and
    search_path; the schema is dropped at the end whatever happens.
    """
    base = pg_base_url()
    if base is None:
        path = tmp_dir / f"{label}.db"
        yield f"sqlite:///{path}", {}
        return
    schema = f"t_{label}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        # Durability is no part of what the tests check: a commit need not wait for the disk.
        yield base, {"connect_args": {
            "options": f"-csearch_path={schema} -csynchronous_commit=off"}}
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
