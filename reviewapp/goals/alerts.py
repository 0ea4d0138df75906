"""Warnings that carry the product's idea. They inform; they never block a save.

- A goal on a metric that did not predict results (KPI status not_predictive, inconclusive or
  under_review) says so, and links to the validation run that showed it.
- Too many goals on activity metrics for one rep in one period is micromanagement territory.
- A target that moves against the metric's direction counts a fall as success.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for

from reviewapp import policy
from reviewapp.auth.models import User
from reviewapp.extensions import db
from reviewapp.goals.models import Goal, GoalKind, GoalScope, GoalState
from reviewapp.kpis.models import ValidationRun
from reviewapp.kpis.queries import decided_by
from reviewapp.metrics.models import Direction, KpiStatus, Metric, MetricKind

WARN_STATUSES = (KpiStatus.NOT_PREDICTIVE, KpiStatus.INCONCLUSIVE, KpiStatus.UNDER_REVIEW)


@dataclass(frozen=True)
class GoalWarning:
    kind: str  # kpi | activity | direction
    message: str
    link: str | None = None
    link_text: str | None = None


def latest_validation_for(metric: Metric) -> ValidationRun | None:
    """The latest organisation-wide validation run that decided this metric's status."""
    row = decided_by([metric.id]).get(metric.id)
    return row.run if row is not None else None


def _outcome_name(run: ValidationRun) -> str:
    return run.outcome_metric.name if run.outcome_metric else "results"


def _run_url(run: ValidationRun, viewer: User | None) -> str | None:
    if not has_request_context():  # services also run from the command line
        return None
    if viewer is not None and not policy.can_view_validation_run(viewer, run):
        return None
    return url_for("kpis.run", run_id=run.id)


def kpi_warning(metric: Metric | None, viewer: User | None = None) -> GoalWarning | None:
    """The evidence against a metric, when the latest validation did not support it; the link
    to the run is given to viewers who may open it."""
    if metric is None or metric.kpi_status not in WARN_STATUSES:
        return None
    run = latest_validation_for(metric)
    outcome = _outcome_name(run) if run is not None else "results"
    if metric.kpi_status == KpiStatus.NOT_PREDICTIVE:
        message = f"{metric.name} did not predict {outcome} in the latest validation"
    elif metric.kpi_status == KpiStatus.INCONCLUSIVE:
        message = (f"{metric.name} is inconclusive: the latest validation could not show "
                   f"whether it predicts {outcome} with this much data")
    else:
        message = (f"{metric.name} is under review: the latest validation no longer showed "
                   f"that it predicts {outcome}")
    link = link_text = None
    if run is not None:
        message += f" — run #{run.id}"
        link = _run_url(run, viewer)
        link_text = f"See the evidence (run #{run.id})" if link else None
    message += ". Moving this number may not move results; keep the goal for direction only."
    return GoalWarning("kpi", message, link, link_text)


def activity_goal_count(owner_id: int, start: date, end: date,
                        exclude_goal_id: int | None = None) -> int:
    """The owner's proposed or agreed goals on activity metrics overlapping a period."""
    query = (
        sa.select(sa.func.count(Goal.id)).join(Metric, Goal.metric_id == Metric.id)
        .where(Goal.scope == GoalScope.INDIVIDUAL, Goal.owner_id == owner_id,
               Goal.kind == GoalKind.METRIC, Metric.kind == MetricKind.ACTIVITY,
               Goal.state != GoalState.RETURNED,
               Goal.start_date <= end, Goal.end_date >= start)
    )
    if exclude_goal_id is not None:
        query = query.where(Goal.id != exclude_goal_id)
    return db.session.scalar(query) or 0


def activity_warning(owner: User | None, metric: Metric | None, start: date, end: date,
                     exclude_goal_id: int | None = None, period: str = "", *,
                     saved: bool = False) -> GoalWarning | None:
    """More than GOALS_ACTIVITY_WARNING activity-metric goals for one rep in one period
    (counting this one: `saved` says it is theirs now, not one they would have)."""
    if owner is None or metric is None or metric.kind != MetricKind.ACTIVITY:
        return None
    limit = current_app.config.get("GOALS_ACTIVITY_WARNING", 3)
    count = activity_goal_count(owner.id, start, end, exclude_goal_id) + 1
    if count <= limit:
        return None
    return GoalWarning(
        "activity",
        f"{owner.name} {'has' if saved else 'would have'} {count} goals on activity metrics in "
        f"{period or 'this period'}"
        f". More than {limit} is micromanagement territory: consider one outcome goal, or fewer"
        " and broader goals.")


def direction_warning(metric: Metric | None, start_value: float | None,
                      target_value: float | None) -> GoalWarning | None:
    """A target on the wrong side of the start for the metric's direction."""
    if metric is None or start_value is None or target_value is None:
        return None
    wrong = (target_value < start_value if metric.direction == Direction.HIGHER
             else target_value > start_value)
    if not wrong:
        return None
    side = "below" if metric.direction == Direction.HIGHER else "above"
    return GoalWarning(
        "direction",
        f"The target is {side} the start value, but for {metric.name} {metric.direction.label}:"
        " progress will count a move in the wrong direction as success.")


def draft_warnings(*, owner: User | None, metric: Metric | None, start: date, end: date,
                   start_value: float | None, target_value: float | None,
                   exclude_goal_id: int | None = None, period: str = "",
                   viewer: User | None = None, saved: bool = False) -> list[GoalWarning]:
    """Warnings for a goal as entered on a form (`saved`: or as saved)."""
    found = [kpi_warning(metric, viewer),
             activity_warning(owner, metric, start, end, exclude_goal_id, period, saved=saved),
             direction_warning(metric, start_value, target_value)]
    return [w for w in found if w is not None]


def goal_warnings(goal: Goal, period: str = "", viewer: User | None = None) -> list[GoalWarning]:
    """Warnings shown on a goal's page."""
    if goal.kind != GoalKind.METRIC:
        return []
    owner = goal.owner if goal.scope == GoalScope.INDIVIDUAL else None
    return draft_warnings(owner=owner, metric=goal.metric, start=goal.start_date,
                          end=goal.end_date, start_value=goal.start_value,
                          target_value=goal.target_value, exclude_goal_id=goal.id,
                          period=period, viewer=viewer, saved=True)


def metric_notes(metrics: list[Metric], viewer: User | None = None) -> list[GoalWarning]:
    """Warnings for the metrics a form offers, so they show before anything is chosen."""
    return [w for w in (kpi_warning(m, viewer) for m in metrics) if w is not None]
