"""Progress of goals, computed when shown: from observations, manual percentages or milestones.

Nothing here is stored: a goal's progress is direction for the people involved, never a number
a review could pick up as a score. Pages ask for many goals at once and get them in a fixed
number of statements (team members, then observations), whatever the number of goals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from reviewapp.auth.models import Role, User
from reviewapp.extensions import db
from reviewapp.goals import progress as maths
from reviewapp.goals.models import Goal, GoalKind, GoalScope, GoalStatus
from reviewapp.metrics.data import observation_rows
from reviewapp.metrics.models import Observation, Rollup
from reviewapp.model_types import among


@dataclass(frozen=True)
class Progress:
    """How far a goal has come, and what status that suggests."""

    fraction: float | None  # not clamped
    current: float | None  # metric goals: the value over the period so far
    elapsed: float  # share of the period behind us
    expected: float  # the progress we would expect by now
    suggested: GoalStatus | None
    status: GoalStatus | None  # the override when there is one, else the suggestion
    overridden: bool
    basis: str  # in words: where the current value comes from

    @property
    def percent(self) -> float | None:
        return None if self.fraction is None else self.fraction * 100.0

    @property
    def bar(self) -> float:
        return maths.bar_percent(self.fraction)

    @property
    def expected_percent(self) -> float:
        return self.expected * 100.0


def is_cumulative(goal: Goal) -> bool:
    """Whether progress is expected to grow with time (see progress.expected_fraction)."""
    if goal.kind != GoalKind.METRIC or goal.metric is None:
        return True
    return goal.metric.rollup == Rollup.SUM


def team_members(team_ids: Sequence[int]) -> dict[int, list[int]]:
    """Active reps of each team, by team id (one statement)."""
    members: dict[int, list[int]] = {tid: [] for tid in team_ids}
    if not team_ids:
        return members
    rows = db.session.execute(
        sa.select(User.team_id, User.id)
        .where(User.team_id.in_(list(team_ids)), User.role == Role.REP, User.active)
    )
    for team_id, user_id in rows:
        members[team_id].append(user_id)
    return members


def measured_ids(goal: Goal, members: dict[int, list[int]]) -> list[int]:
    """Whose observations count for the goal: the owner, or the team's reps."""
    if goal.scope == GoalScope.TEAM:
        return members.get(goal.team_id, [])
    return [goal.owner_id]


def has_data(rep_ids: Sequence[int], metric_id: int) -> bool:
    """Whether any of these reps has any observation of the metric."""
    if not rep_ids:
        return False
    return db.session.scalar(
        sa.select(Observation.id)
        .where(among(Observation.rep_id, rep_ids), Observation.metric_id == metric_id)
        .limit(1)
    ) is not None


def metric_values(goals: Sequence[Goal], observations: Sequence[tuple],
                  members: dict[int, list[int]]) -> dict[int, float]:
    """The metric goals' values over their periods for their reps, rolled up as each metric
    says, all in one pass (see progress.goal_values); a goal without data in its period is
    absent. `observations`: (rep, metric, grain, period start, value) rows."""
    pairs = []
    for goal in goals:
        if goal.kind != GoalKind.METRIC or goal.metric is None:
            continue
        first, last, how = goal.start_date.isoformat(), goal.end_date.isoformat(), \
            goal.metric.rollup.value
        team = goal.scope == GoalScope.TEAM
        pairs += [(goal.id, rep_id, goal.metric_id, first, last, how, team)
                  for rep_id in measured_ids(goal, members)]
    return maths.goal_values(pairs, observations)


def _basis(goal: Goal, n_members: int) -> str:
    if goal.kind == GoalKind.PERCENT:
        return "the latest check-in's percentage"
    if goal.kind == GoalKind.CHECKLIST:
        done = sum(1 for m in goal.milestones if m.done)
        return f"{done} of {len(goal.milestones)} milestones done"
    name, how = goal.metric.name, goal.metric.rollup.value
    if goal.scope != GoalScope.TEAM:
        return {"sum": f"{name} summed over the period",
                "mean": f"{name} averaged over the period",
                "last": f"the latest {name} value in the period"}[how]
    reps = f"the team's {n_members} reps"
    return {"sum": f"{name} summed over the period across {reps}",
            "mean": f"{name} averaged over the period, then across {reps}",
            "last": f"the latest {name} value of each of {reps}, added up"}[how]


def compute_progress(goals: Sequence[Goal], today: date | None = None) -> dict[int, Progress]:
    """Progress of each goal, by id. Load goals with their metric and milestones first."""
    today = today or date.today()
    metric_goals = [g for g in goals if g.kind == GoalKind.METRIC and g.metric is not None]
    members = team_members(sorted({g.team_id for g in metric_goals
                                   if g.scope == GoalScope.TEAM}))
    rows: list[tuple] = []
    if metric_goals:
        rep_ids = sorted({r for g in metric_goals for r in measured_ids(g, members)})
        rows = observation_rows(
            rep_ids, sorted({g.metric_id for g in metric_goals}),
            # A week counts on its Thursday: one that starts up to 3 days before may count.
            start=min(g.start_date for g in metric_goals) - timedelta(days=3),
            end=max(g.end_date for g in metric_goals))
    values = metric_values(metric_goals, rows, members)
    result = {}
    for goal in goals:
        current = None
        if goal.kind == GoalKind.METRIC:
            current = values.get(goal.id)
            fraction = maths.progress_fraction(current, goal.start_value, goal.target_value)
        elif goal.kind == GoalKind.PERCENT:
            fraction = None if goal.manual_percent is None else goal.manual_percent / 100.0
        else:
            fraction = maths.checklist_fraction(sum(1 for m in goal.milestones if m.done),
                                                len(goal.milestones))
        result[goal.id] = _progress(goal, fraction, current, today,
                                    len(members.get(goal.team_id, [])))
    return result


def _progress(goal: Goal, fraction: float | None, current: float | None, today: date,
              n_members: int) -> Progress:
    cumulative = is_cumulative(goal)
    elapsed = maths.elapsed_fraction(goal.start_date, goal.end_date, today)
    suggested = maths.suggest_status(fraction, elapsed, cumulative=cumulative)
    suggested_status = GoalStatus(suggested) if suggested else None
    return Progress(
        fraction=fraction, current=current, elapsed=elapsed,
        expected=maths.expected_fraction(elapsed, cumulative),
        suggested=suggested_status,
        status=goal.status_override or suggested_status,
        overridden=goal.status_override is not None,
        basis=_basis(goal, n_members),
    )


def rolled_up(goal: Goal, progress: dict[int, Progress]) -> float | None:
    """A goal's aligned goals, rolled up by weight (agreed goals only)."""
    return maths.weighted_rollup(
        (progress[c.id].fraction if c.id in progress else None, c.weight)
        for c in goal.children if c.is_active)
