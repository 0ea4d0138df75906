"""`flask backup create` / `restore`: a round trip gives every table back, row for row.

On SQLite (online backup API) and, with REVIEWAPP_TEST_DATABASE_URL, on PostgreSQL
(pg_dump / pg_restore). A restore refuses a backup older than the database's schema, or
made by a newer version, and then changes nothing.
"""

import shutil

import pytest
import sqlalchemy as sa

from reviewapp.backup import migration_order
from reviewapp.extensions import db
from reviewapp.metrics.catalogue import add_metric
from reviewapp.metrics.importer import apply_import, prepare_import
from reviewapp.metrics.models import Observation
from tests.factories import create_user


@pytest.fixture
def stamped(app):
    """The database stamped with this version's head revision, as `flask db upgrade` leaves it."""
    if db.engine.dialect.name == "postgresql" and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    order = migration_order()
    with db.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES (:v)"), {"v": order[-1]})
    yield order
    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


def _stamp(revision: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": revision})


def snapshot() -> dict:
    """Every table's rows, in a stable order."""
    db.session.remove()
    out = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            rows = conn.execute(sa.select(table)).all()
            out[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return out


def _data(org) -> None:
    calls = add_metric(None, key="calls", name="Calls", kind="activity", direction="higher",
                       rollup="sum")
    db.session.commit()
    text = (f"rep_email,period,metric,value\n{org.rep.email},2026-Q1,{calls.key},12\n"
            f"{org.rep2.email},2026-Q1,{calls.key},3.5\n")
    plan = prepare_import(org.hr, text.encode(), "q1.csv", source="cli")
    apply_import(org.hr, plan)
    db.session.commit()


def test_round_trip_gives_every_table_back(org, runner, stamped, tmp_path):
    _data(org)
    before = snapshot()
    assert before["observations"] and before["metric_rollups"] and before["users"]
    file = tmp_path / "reviewapp.backup"
    result = runner.invoke(args=["backup", "create", str(file)])
    assert result.exit_code == 0, result.output
    # Change things after the backup: they must all be undone by the restore.
    db.session.execute(sa.delete(Observation))
    create_user(name="Made after the backup")
    db.session.commit()
    assert snapshot() != before
    result = runner.invoke(args=["backup", "restore", str(file), "--yes"])
    assert result.exit_code == 0, result.output
    assert snapshot() == before


def test_restore_refuses_a_backup_older_than_the_schema(org, runner, stamped, tmp_path):
    _data(org)
    file = tmp_path / "old.backup"
    _stamp(stamped[-2])
    assert runner.invoke(args=["backup", "create", str(file)]).exit_code == 0
    _stamp(stamped[-1])
    create_user(name="Still here")
    db.session.commit()
    before = snapshot()
    result = runner.invoke(args=["backup", "restore", str(file), "--yes"])
    assert result.exit_code == 1
    assert f"schema (revision {stamped[-1]}) is newer than the backup's ({stamped[-2]})" \
        in result.output
    assert snapshot() == before


def test_restore_refuses_a_backup_made_by_a_newer_version(org, runner, stamped, tmp_path):
    file = tmp_path / "future.backup"
    _stamp("9999")
    assert runner.invoke(args=["backup", "create", str(file)]).exit_code == 0
    _stamp(stamped[-1])
    before = snapshot()
    result = runner.invoke(args=["backup", "restore", str(file), "--yes"])
    assert result.exit_code == 1 and "made by a newer version" in result.output
    assert snapshot() == before


def test_create_refuses_to_overwrite_a_file(app, runner, tmp_path):
    file = tmp_path / "exists.backup"
    file.write_text("keep me")
    result = runner.invoke(args=["backup", "create", str(file)])
    assert result.exit_code == 1 and "exists" in result.output
    assert file.read_text() == "keep me"


def test_a_backup_in_a_folder_named_with_hash_question_mark_and_percent(org, runner, stamped,
                                                                        tmp_path):
    """The SQLite check opened 'file:{path}?mode=ro' unquoted: '#', '?' or '%' in the path
    cut it short, and a good backup was refused for the wrong reason."""
    _data(org)
    before = snapshot()
    folder = tmp_path / "Q3 #1 ?final 100%"
    folder.mkdir()
    file = folder / "review#app?.backup"
    assert runner.invoke(args=["backup", "create", str(file)]).exit_code == 0
    create_user(name="Made after the backup")
    db.session.commit()
    result = runner.invoke(args=["backup", "restore", str(file), "--yes"])
    assert result.exit_code == 0, result.output
    assert snapshot() == before
    assert sorted(p.name for p in folder.iterdir()) == ["review#app?.backup"]


def test_create_into_a_missing_folder_says_so(app, runner, tmp_path):
    result = runner.invoke(args=["backup", "create", str(tmp_path / "nowhere" / "x.backup")])
    assert result.exit_code == 1 and "does not exist; create it first" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "nowhere").exists()
