"""Goals as a review shows them: for context, never scored.

Progress leaves this module as words ("72% of the way to $50,000"), never as a number, so that
nothing downstream can fold a goal into a review score. Only validated KPIs score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from reviewapp.auth.models import User
from reviewapp.extensions import db
from reviewapp.goals.models import Goal, GoalScope, GoalState
from reviewapp.goals.periods import goal_period
from reviewapp.goals.tracking import compute_progress


@dataclass(frozen=True)
class ReviewGoal:
    """One goal in a review: words only."""

    goal_id: int
    title: str
    period: str
    progress_label: str
    status_label: str


def _amount(value: float, unit: str) -> str:
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"
    if unit in ("$", "€", "£"):
        return unit + text
    return f"{text} {unit}".strip()


def goals_for_review(rep: User, start: date, end: date,
                     today: date | None = None) -> list[ReviewGoal]:
    """The rep's agreed individual goals overlapping a review period, described in words."""
    goals = list(db.session.scalars(
        sa.select(Goal).options(selectinload(Goal.metric), selectinload(Goal.milestones))
        .where(Goal.scope == GoalScope.INDIVIDUAL, Goal.owner_id == rep.id,
               Goal.state == GoalState.ACTIVE, Goal.start_date <= end, Goal.end_date >= start)
        .order_by(Goal.start_date, Goal.title)))
    progress = compute_progress(goals, today)
    out = []
    for goal in goals:
        p = progress[goal.id]
        if p.fraction is None:
            label = "no progress to show yet"
        elif goal.metric is not None:
            label = (f"{p.fraction * 100:.0f}% of the way to "
                     f"{_amount(goal.target_value, goal.metric.unit)} ({goal.metric.name})")
        else:
            label = f"{p.fraction * 100:.0f}% ({p.basis})"
        out.append(ReviewGoal(goal.id, goal.title, goal_period(goal), label,
                              p.status.label if p.status else "—"))
    return out
