"""The goal panels of the dashboards: a rep's goals with the next check-in due; a manager's
goals at risk and proposals waiting for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from reviewapp import policy
from reviewapp.auth.models import User
from reviewapp.extensions import db
from reviewapp.goals import progress as maths
from reviewapp.goals import tracking
from reviewapp.goals.models import NEEDS_ATTENTION, CheckIn, Goal, GoalScope, GoalState
from reviewapp.goals.queries import GoalFacts, goal_facts, goals_query, visible_goals
from reviewapp.goals.tracking import Progress
from reviewapp.model_types import among

AT_RISK_SHOWN = 10  # the panel lists this many; the goals page has them all


@dataclass(frozen=True)
class GoalLine:
    goal: Goal | GoalFacts
    progress: Progress
    next_due: date | None


def _last_check_ins(goal_ids: list[int]) -> dict[int, date]:
    if not goal_ids:
        return {}
    rows = db.session.execute(sa.select(CheckIn.goal_id, sa.func.max(CheckIn.held_on))
                              .where(among(CheckIn.goal_id, goal_ids)).group_by(CheckIn.goal_id))
    return dict(rows.all())


def rep_panel(user: User, today: date | None = None) -> list[GoalLine]:
    """The rep's own goals running today (and proposals), with progress and next check-in."""
    today = today or date.today()
    goals = [g for g in visible_goals(user, owner_id=user.id, active_on=today)
             if g.scope == GoalScope.INDIVIDUAL]
    progress = tracking.compute_progress(goals, today)
    last = _last_check_ins([g.id for g in goals])
    every = int(current_app.config.get("GOALS_CHECK_IN_DAYS", 14))
    return [GoalLine(g, progress[g.id],
                     maths.next_check_in(g.start_date, g.end_date, last.get(g.id), every, today)
                     if g.is_active else None)
            for g in goals]


def manager_panel(user: User, today: date | None = None) -> dict:
    """Agreed goals in the manager's scope running today that are at risk or off track (the
    first AT_RISK_SHOWN, and how many), and how many proposals wait for their decision."""
    today = today or date.today()
    # Every running goal counts, so they are read as plain columns, which are also all the
    # panel's lines show (title, owner, progress): no goal is loaded whole.
    # Someone who left (account deactivated) is no longer among the manager's people.
    running = goal_facts(user, states=[GoalState.ACTIVE], active_on=today, owners_active=True)
    progress = tracking.compute_progress(running, today)
    at_risk = [g for g in running if progress[g.id].status in NEEDS_ATTENTION]
    shown = [GoalLine(g, progress[g.id], None) for g in at_risk[:AT_RISK_SHOWN]]
    proposed = db.session.scalar(  # a count in SQL: the proposals are listed on the goals page
        goals_query(user, states=[GoalState.PROPOSED])
        .where(policy.managed_goals_clause(user)).with_only_columns(sa.func.count()))
    return {"at_risk": shown, "at_risk_total": len(at_risk),
            "proposed": proposed or 0, "running": len(running)}
