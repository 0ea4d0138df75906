"""The database's own lock on finalised reviews, on SQLite and PostgreSQL.

Services already refuse to change a finalised review; these triggers make the database refuse
too, whatever writes (a forgotten code path, a script, a direct SQL UPDATE). A finalised review
may only leave `finalized` (HR's audited reopen); every other update of it, and any insert,
update or delete of its ratings, KPI scores or acknowledgements, is refused. The same DDL is
installed by the migration and, for databases built with create_all, by the table events below.
"""

from __future__ import annotations

import sqlalchemy as sa

MESSAGE = "review is finalized and locked"
# Peer requests and answers (reviewapp/peers) freeze with the review: nobody may answer, decline
# or be asked about a finalised review.
CHILD_TABLES = ("competency_ratings", "kpi_scores", "review_acknowledgements", "peer_requests",
                "peer_answers")


def _sqlite_statements(tables) -> list[str]:
    out = [f"""
CREATE TRIGGER IF NOT EXISTS lock_finalized_reviews BEFORE UPDATE ON reviews
WHEN OLD.state = 'finalized' AND NEW.state = 'finalized'
BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""]
    for table in tables:
        for event, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")):
            out.append(f"""
CREATE TRIGGER IF NOT EXISTS lock_finalized_{table}_{event.lower()}
BEFORE {event} ON {table}
WHEN (SELECT state FROM reviews WHERE id = {row}.review_id) = 'finalized'
BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")
    return out


def _postgresql_statements(tables) -> list[str]:
    out = [f"""
CREATE OR REPLACE FUNCTION lock_finalized_review() RETURNS trigger AS $$
BEGIN
  IF OLD.state = 'finalized' AND NEW.state = 'finalized' THEN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql""", """
DROP TRIGGER IF EXISTS lock_finalized_reviews ON reviews""", """
CREATE TRIGGER lock_finalized_reviews BEFORE UPDATE ON reviews
FOR EACH ROW EXECUTE FUNCTION lock_finalized_review()""", f"""
CREATE OR REPLACE FUNCTION lock_finalized_review_rows() RETURNS trigger AS $$
DECLARE
  target integer;
BEGIN
  IF TG_OP = 'INSERT' THEN target := NEW.review_id; ELSE target := OLD.review_id; END IF;
  IF (SELECT state FROM reviews WHERE id = target) = 'finalized' THEN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql"""]
    for table in tables:
        out.append(f"DROP TRIGGER IF EXISTS lock_finalized_{table} ON {table}")
        out.append(f"""
CREATE TRIGGER lock_finalized_{table} BEFORE INSERT OR UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION lock_finalized_review_rows()""")
    return out


def lock_statements(dialect: str, tables=CHILD_TABLES) -> list[str]:
    """The DDL that installs the lock on this database (for these child tables)."""
    if dialect == "sqlite":
        return _sqlite_statements(tables)
    if dialect == "postgresql":
        return _postgresql_statements(tables)
    return []


def install(connection) -> None:
    """Install (or re-install) the lock triggers on an existing schema (on the child tables it
    has so far: an early migration runs before later ones add theirs, which install again)."""
    existing = set(sa.inspect(connection).get_table_names())
    tables = [table for table in CHILD_TABLES if table in existing]
    for statement in lock_statements(connection.dialect.name, tables):
        connection.execute(sa.text(statement))


def unlock_all_for_maintenance(connection) -> None:
    """Move finalised reviews out of `finalized` so that rows may be deleted (tests' teardown
    and deleting a whole database; never called by the application)."""
    connection.execute(sa.text(
        "UPDATE reviews SET state = 'acknowledged' WHERE state = 'finalized'"))


def install_after_create(metadata: sa.MetaData) -> None:
    """create_all installs the lock once every table exists."""

    def _after_create(target, connection, tables=None, **kw) -> None:
        if "reviews" in target.tables and sa.inspect(connection).has_table("reviews"):
            install(connection)

    sa.event.listen(metadata, "after_create", _after_create)
