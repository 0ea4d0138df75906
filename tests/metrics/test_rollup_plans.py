"""Pages read one rep's (or one page of reps') roll-ups by the rep, whatever the size of the
organisation.

The roll-up table's primary key starts with the rep; its (grain, period) index serves the
readings over every rep. Not knowing how many reps a json_each list holds, SQLite took the
grain index for the readings with reps given too, and so read every rep's roll-ups of a grain
to keep a few: a rep's metrics page took 23 ms at 2,000 reps (4 ms at 500 and now at 2,000),
a manager's team metrics 32 ms (8 ms now). Each reading with reps given is planned here on
SQLite and must look its rows up by the rep. PostgreSQL plans `rep_id = ANY(...)` by the key
with the statistics it keeps.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from reviewapp.auth.models import Role, User
from reviewapp.extensions import db
from reviewapp.metrics import rollups
from reviewapp.metrics.catalogue import add_metric
from tests.factories import create_user

QUARTER, MONTH = date(2026, 4, 1), date(2026, 5, 1)
GRAIN_INDEX = "ix_metric_rollups_grain_period"


@pytest.fixture
def planned(app):
    """(rep id, metric id), and the SELECTs on the roll-up table that a reading then sends."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the plans checked here are SQLite's")
    rep = create_user(Role.REP, email="planned@rollups.test")
    metric = add_metric(None, key="calls", name="Calls", kind="activity", direction="higher",
                        rollup="sum")
    db.session.commit()
    sent: list[tuple[str, tuple]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        if "metric_rollups" in statement and statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield rep.id, metric.id, sent
    sa.event.remove(db.engine, "before_cursor_execute", record)


READINGS = {
    "a rep's metrics page": lambda rep, metric, grain: rollups.rep_values(rep, grain),
    "a rep's metrics": lambda rep, metric, grain: rollups.metrics_of(rep, grain),
    "a review's KPI actuals": lambda rep, metric, grain: rollups.one_period(
        rep, [metric], grain, QUARTER if grain == "quarter" else MONTH),
    "a page of the team table": lambda rep, metric, grain: rollups.period_table(
        [rep], grain, QUARTER if grain == "quarter" else MONTH),
    "a team's periods": lambda rep, metric, grain: rollups.periods_and_metrics([rep], grain),
    "a scope's periods (reps as a subquery)": lambda rep, metric, grain:
        rollups.periods_and_metrics(sa.select(User.id).where(User.id == rep), grain),
    "values for goals and reviews": lambda rep, metric, grain: rollups.values_in(
        [rep], [metric], grain, first=date(2025, 1, 1), last=date(2026, 12, 31)),
}


@pytest.mark.parametrize("grain", ["quarter", "month"])
@pytest.mark.parametrize("reading", list(READINGS))
def test_a_reading_with_reps_given_looks_the_roll_ups_up_by_rep(planned, reading, grain):
    rep, metric, sent = planned
    READINGS[reading](rep, metric, grain)
    assert sent, "the reading sent no statement on the roll-up table"
    connection = db.session.connection()
    for statement, parameters in sent:
        plan = [row[3] for row in connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {statement}", parameters)]
        on_the_table = [step for step in plan if "metric_rollups" in step]
        assert on_the_table, plan
        assert not any(GRAIN_INDEX in step for step in on_the_table), plan
        assert all("(rep_id=?" in step for step in on_the_table), plan


def test_a_reading_over_every_rep_still_uses_the_grain_index(planned):
    """The unary plus is kept to readings that name reps: a period over everyone (the team
    table's sort by a metric) is read by grain and period."""
    _, metric, sent = planned
    column = rollups.period_values(metric, "quarter", QUARTER)
    db.session.execute(sa.select(column.c.rep_id, column.c.value)).all()
    connection = db.session.connection()
    statement, parameters = sent[-1]
    plan = " | ".join(row[3] for row in connection.exec_driver_sql(
        f"EXPLAIN QUERY PLAN {statement}", parameters))
    assert GRAIN_INDEX in plan
