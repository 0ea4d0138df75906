"""The demo goals load on top of the demo people and metrics, once."""

from datetime import date

import sqlalchemy as sa

from reviewapp.demo.goals import load_goals
from reviewapp.demo.metrics import load_metrics
from reviewapp.demo.people import load_people
from reviewapp.extensions import db
from reviewapp.goals.models import CheckIn, Goal, GoalAdjustment, GoalScope, GoalState
from reviewapp.goals.tracking import compute_progress

TODAY = date(2026, 11, 26)


def test_demo_goals_are_idempotent_and_tell_the_story(app):
    load_people()
    assert load_goals(7, today=TODAY) == {"goals": "skipped (load the demo metrics first)"}
    load_metrics(7)
    summary = load_goals(7, today=TODAY)
    db.session.commit()
    assert "2026-Q3, 2026-Q4" in summary["goals"]
    goals = list(db.session.scalars(sa.select(Goal)))
    assert load_goals(7, today=TODAY) == {"goals": "already loaded"}
    assert db.session.scalar(sa.select(sa.func.count(Goal.id))) == len(goals)

    team_goals = [g for g in goals if g.scope == GoalScope.TEAM]
    assert {g.team.name for g in team_goals} == {"North", "South", "West"}
    assert {g.quarter for g in goals} == {"2026-Q3", "2026-Q4"}
    individual = [g for g in goals if g.scope == GoalScope.INDIVIDUAL]
    assert all(g.parent is not None for g in individual)
    assert any(g.metric and g.metric.key == "calls_per_day" for g in goals)
    assert [g.owner.name for g in goals if g.state == GoalState.PROPOSED] == ["Priya Shah"]
    assert db.session.scalar(sa.select(sa.func.count(GoalAdjustment.id))) == 3
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) > 20
    # The complete quarter shows progress from the demo data.
    q3 = [g for g in goals if g.quarter == "2026-Q3"]
    progress = compute_progress(q3, TODAY)
    assert all(progress[g.id].fraction is not None for g in q3)
