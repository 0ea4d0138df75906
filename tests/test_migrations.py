"""Migrations build the whole schema on an empty database and agree with the models.

Alembic's compare_metadata checks tables, columns, types, indexes, unique and foreign keys, but
not CHECK constraints: those are compared here by name with the models and by their SQL with a
database that create_all built. The review workflow rules that CHECK constraints back are tried
on the migrated schema too (tests/reviews/test_workflow.py tries them on create_all).
"""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy.exc import IntegrityError

from reviewapp import create_app
from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.extensions import db
from reviewapp.reviews.models import Review, ReviewState
from tests import factories
from tests.dbutil import scratch_database


def _app_on(url: str, options: dict):
    return create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url,
                       "SQLALCHEMY_ENGINE_OPTIONS": options})


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """An app on a database that flask_migrate.upgrade() built from empty."""
    with scratch_database(tmp_path_factory.mktemp("migrated"), "migrations") as (url, options):
        app = _app_on(url, options)
        with app.app_context():
            upgrade()
        yield app
        with app.app_context():
            db.engine.dispose()


def _check_constraints(conn) -> dict[str, dict[str, str]]:
    """table -> {CHECK constraint name: its SQL as the database returns it, spaces normalised}."""
    inspector = sa.inspect(conn)
    return {table: {c["name"]: " ".join(c["sqltext"].split())
                    for c in inspector.get_check_constraints(table)}
            for table in inspector.get_table_names() if table != "alembic_version"}


def _missing_and_extra(models: dict[str, set[str]], migrated: dict[str, set[str]]) -> list[str]:
    found = []
    for table in sorted(set(models) | set(migrated)):
        want, got = models.get(table, set()), migrated.get(table, set())
        found += [f"{table}: {name} is missing from the migrated schema"
                  for name in sorted(want - got)]
        found += [f"{table}: {name} is in the migrated schema, not in the models"
                  for name in sorted(got - want)]
    return found


def _other_sql(models: dict[str, dict[str, str]], migrated: dict[str, dict[str, str]]):
    return [f"{table}: {name} is {sql!r} after the migrations, {models[table][name]!r} in the "
            "models" for table, checks in sorted(migrated.items())
            for name, sql in sorted(checks.items())
            if name in models.get(table, {}) and models[table][name] != sql]


def test_upgrade_on_empty_database_matches_models(migrated):
    with migrated.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
        tables = set(sa.inspect(conn).get_table_names())
    assert diff == [], f"models and migrations differ: {diff}"
    assert set(db.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_upgrade_makes_the_check_constraints_of_the_models(migrated, tmp_path):
    with migrated.app_context(), db.engine.connect() as conn:
        after_upgrade = _check_constraints(conn)
    # Names as the naming convention makes them (ck_<table>_<name>, enums' included).
    named = {table.name: {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
             for table in db.metadata.sorted_tables}
    assert sum(map(len, named.values())) > 0
    problems = _missing_and_extra(named, {t: set(checks) for t, checks in after_upgrade.items()})
    # The SQL: the same database normalises what create_all writes from the models alike.
    with scratch_database(tmp_path, "create_all") as (url, options):
        app = _app_on(url, options)
        with app.app_context():
            db.create_all()
            with db.engine.connect() as conn:
                from_models = _check_constraints(conn)
            db.engine.dispose()
    problems += _other_sql(from_models, after_upgrade)
    assert not problems, "CHECK constraints differ:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def review_id(migrated) -> int:
    """Rita's review, in self-review, of a cycle launched on the migrated schema."""
    with migrated.app_context():
        org = factories.build_org()
        today = date.today()
        draft = CycleDraft(
            name="Migrated cycle", period="2026-Q3", self_due=today + timedelta(days=5),
            manager_due=today + timedelta(days=10), calibration_due=today + timedelta(days=15),
            acknowledgement_due=today + timedelta(days=20), team_ids=[org.team.id],
            competency_ids=[c.id for c in ensure_default_competencies()])
        launch(org.hr, save_cycle(org.hr, None, draft))
        db.session.commit()
        return db.session.scalar(sa.select(Review.id).where(Review.rep_id == org.rep.id))


OUT_OF_ORDER = [
    # (the change, the CHECK constraint that refuses it)
    ("state = 'manager_review'", "ck_reviews_self_done_before_manager"),
    ("state = 'calibration', self_skipped = TRUE", "ck_reviews_manager_done_before_calibration"),
    ("state = 'approved'", "ck_reviews_review_state"),
]


@pytest.mark.parametrize("change,constraint", OUT_OF_ORDER, ids=[c for _, c in OUT_OF_ORDER])
def test_migrated_schema_refuses_review_states_out_of_order(migrated, review_id, change,
                                                            constraint):
    with migrated.app_context():
        with pytest.raises(IntegrityError) as refused, db.engine.begin() as conn:
            conn.execute(sa.text(f"UPDATE reviews SET {change} WHERE id = :id"),
                         {"id": review_id})
        assert constraint in str(refused.value.orig)
        assert db.session.get(Review, review_id).state == ReviewState.SELF_REVIEW


def test_migrated_schema_accepts_review_states_in_order(migrated, review_id):
    with migrated.app_context(), db.engine.connect() as conn:
        conn.execute(sa.text("UPDATE reviews SET state = 'manager_review', self_skipped = TRUE "
                             "WHERE id = :id"), {"id": review_id})
        conn.execute(sa.text("UPDATE reviews SET state = 'calibration', "
                             "manager_submitted_at = CURRENT_TIMESTAMP WHERE id = :id"),
                     {"id": review_id})
        assert conn.scalar(sa.text("SELECT state FROM reviews WHERE id = :id"),
                           {"id": review_id}) == "calibration"
        conn.rollback()


def test_upgrading_a_database_with_reviews_keeps_their_ratings_and_scores(tmp_path):
    """SQLite rebuilds a table to alter it; with foreign keys on, dropping the old `reviews`
    would cascade to every rating and KPI score. An upgrade must keep them."""
    from alembic.command import upgrade as alembic_upgrade  # noqa: F401
    from flask_migrate import upgrade as flask_upgrade

    with scratch_database(tmp_path, "upgrade_data") as (url, options):
        app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url,
                          "SQLALCHEMY_ENGINE_OPTIONS": options})
        with app.app_context():
            flask_upgrade(revision="0005")
            with db.engine.begin() as conn:
                conn.execute(sa.text(
                    "INSERT INTO users (id, email, name, role, active, password_hash, "
                    "created_at) VALUES (1, 'r@x.test', 'R', 'rep', true, '', CURRENT_TIMESTAMP)"))
                conn.execute(sa.text(
                    "INSERT INTO competencies (id, name, description, anchors, active, position)"
                    " VALUES (1, 'C', '', '[\"a\",\"b\",\"c\",\"d\",\"e\"]', true, 0)"))
                conn.execute(sa.text(
                    "INSERT INTO cycles (id, name, period_label, period_start, period_end, "
                    "self_due, manager_due, calibration_due, acknowledgement_due, quant_weight, "
                    "bands, status, created_at) VALUES (1, 'Q', '2026-Q1', '2026-01-01', "
                    "'2026-03-31', '2026-04-07', '2026-04-14', '2026-04-21', '2026-04-28', 0.5,"
                    " '[0.7, 0.9, 1.0, 1.15]', 'launched', CURRENT_TIMESTAMP)"))
                conn.execute(sa.text(
                    "INSERT INTO cycle_competencies (id, cycle_id, competency_id, position) "
                    "VALUES (1, 1, 1, 0)"))
                conn.execute(sa.text(
                    "INSERT INTO reviews (id, cycle_id, rep_id, state, version, achievements, "
                    "goals_reflection, development_wishes, self_skipped, strengths, "
                    "development_areas, overall_comment, reconciliation_note, created_at, "
                    "updated_at) VALUES (1, 1, 1, 'self_review', 1, 'kept', '', '', false, '', "
                    "'', '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
                conn.execute(sa.text(
                    "INSERT INTO competency_ratings (id, review_id, cycle_competency_id, "
                    "self_rating, self_note, manager_note) VALUES (1, 1, 1, 4, 'evidence', '')"))
            flask_upgrade()
            with db.engine.connect() as conn:
                ratings = conn.execute(sa.text(
                    "SELECT self_rating, self_note FROM competency_ratings")).all()
                review = conn.execute(sa.text("SELECT achievements FROM reviews")).all()
                fk = (conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
                      if conn.dialect.name == "sqlite" else 1)
            db.engine.dispose()
        assert review == [("kept",)]
        assert ratings == [(4, "evidence")]
        assert fk == 1, "foreign keys must be back on after the migration"
