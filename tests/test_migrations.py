"""Migrations build the whole schema on an empty database and agree with the models."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from reviewapp import create_app
from reviewapp.extensions import db
from tests.dbutil import scratch_database


def test_upgrade_on_empty_database_matches_models(tmp_path):
    with scratch_database(tmp_path, "migrations") as (url, options):
        app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url,
                          "SQLALCHEMY_ENGINE_OPTIONS": options})
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = compare_metadata(context, db.metadata)
                tables = set(sa.inspect(conn).get_table_names())
            db.engine.dispose()
        assert diff == [], f"models and migrations differ: {diff}"
        assert set(db.metadata.tables) <= tables
        assert "alembic_version" in tables
