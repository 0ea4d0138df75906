"""What the goal forms offer: teams, people, goals to align to and metrics, per actor."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from reviewapp import policy
from reviewapp.auth.models import Role, Team, User
from reviewapp.extensions import db
from reviewapp.goals.models import Goal, GoalScope, GoalState
from reviewapp.goals.periods import goal_period
from reviewapp.metrics.models import KpiStatus, Metric
from reviewapp.model_types import among

NONE = [(0, "— none —")]


def led_teams(actor: User) -> list[Team]:
    """Teams the actor may set team goals for."""
    return list(db.session.scalars(
        sa.select(Team).where(policy.led_teams_clause(actor)).order_by(Team.name)))


def team_choices(actor: User) -> list[tuple[int, str]]:
    return [(t.id, t.name) for t in led_teams(actor)]


def my_reps(actor: User) -> list[User]:
    """Reps the actor may set goals for (a rep: only themselves, as a proposal)."""
    if policy.proposes_goals(actor):
        return [actor]
    if not policy.sets_goals(actor):
        return []
    ids = policy.people_scope_ids(actor)
    return list(db.session.scalars(
        sa.select(User).options(selectinload(User.team))
        .where(among(User.id, ids), User.role == Role.REP, User.active).order_by(User.name)))


def owner_choices(actor: User) -> list[tuple[int, str]]:
    return [(u.id, f"{u.name} ({u.team.name})" if u.team else u.name) for u in my_reps(actor)]


def parent_choices(actor: User, today: date | None = None) -> list[tuple[int, str]]:
    """Agreed team goals the actor can see, of periods not long over."""
    since = (today or date.today()) - timedelta(days=366)
    goals = db.session.scalars(
        sa.select(Goal).options(selectinload(Goal.team))
        .where(policy.visible_goals_clause(actor), Goal.scope == GoalScope.TEAM,
               Goal.state == GoalState.ACTIVE, Goal.end_date >= since)
        .order_by(Goal.start_date.desc(), Goal.title))
    return NONE + [(g.id, f"{g.team.name} · {g.title} · {goal_period(g)}") for g in goals]


def metric_choices(current: Metric | None = None) -> list[tuple[int, str]]:
    """Metrics in use, each marked with its kind and a KPI status that deserves a warning."""
    metrics = list(db.session.scalars(
        sa.select(Metric).where(sa.or_(Metric.archived.is_(False),
                                       Metric.id == (current.id if current else -1)))
        .order_by(Metric.kind.desc(), Metric.name)))
    out = NONE.copy()
    for m in metrics:
        note = m.kind.value
        if m.kpi_status in (KpiStatus.NOT_PREDICTIVE, KpiStatus.INCONCLUSIVE,
                            KpiStatus.UNDER_REVIEW, KpiStatus.KPI):
            note += f" · {m.kpi_status.label}"
        out.append((m.id, f"{m.name} ({note})"))
    return out


def offered_metrics() -> list[Metric]:
    """The metrics a goal form offers."""
    return list(db.session.scalars(sa.select(Metric).where(Metric.archived.is_(False))
                                   .order_by(Metric.name)))
