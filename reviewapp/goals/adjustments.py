"""Adjusting an agreed goal mid-period: markets change, and rigid targets are one of the things
ReviewApp exists to avoid. The goal keeps its history: old values, when, who and why."""

from __future__ import annotations

from datetime import date

from reviewapp.audit.services import record
from reviewapp.auth.models import User
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.goals import alerts
from reviewapp.goals.alerts import GoalWarning
from reviewapp.goals.models import Goal, GoalAdjustment, GoalKind, GoalScope, GoalState
from reviewapp.goals.periods import describe_period, goal_period, resolve_period
from reviewapp.goals.services import (
    check_children_fit,
    check_parent,
    check_tracking,
    check_version,
    flush_goal,
    measured_rep_ids,
)

TRACKED = ("metric_id", "start_value", "target_value", "quarter", "start_date", "end_date")


def _values(goal: Goal) -> dict:
    return {
        "metric_id": goal.metric_id, "start_value": goal.start_value,
        "target_value": goal.target_value, "quarter": goal.quarter,
        "start_date": goal.start_date.isoformat(), "end_date": goal.end_date.isoformat(),
    }


def adjust_goal(actor: User, goal: Goal, *, reason: str, quarter: str | None,
                start_date: date | None, end_date: date | None, metric_id: int | None = None,
                start_value: float | None = None, target_value: float | None = None,
                today: date | None = None, expected_version: int | None = None,
                ) -> tuple[GoalAdjustment, list[GoalWarning]]:
    """Change the target, the metric or the period of an agreed goal, with a reason."""
    check_version(goal, expected_version)
    today = today or date.today()
    if goal.state != GoalState.ACTIVE:
        raise ServiceError("Only an agreed goal is adjusted; edit a proposal directly.")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Give the reason for the change; it stays with the goal's history.",
                           field="reason")
    label, start, end = resolve_period(quarter, start_date, end_date)
    metric = None
    if goal.kind == GoalKind.METRIC:  # a checklist keeps its milestones: checked below
        metric, _ = check_tracking(goal.kind, metric_id=metric_id, start_value=start_value,
                                   target_value=target_value, milestones="", start=start,
                                   end=end, rep_ids=measured_rep_ids(goal),
                                   owner_label=goal.owner_name)
    before = _values(goal)
    goal.quarter, goal.start_date, goal.end_date = label, start, end
    if metric is not None:
        goal.metric, goal.start_value, goal.target_value = metric, start_value, target_value
        goal.metric_id = metric.id
    after = _values(goal)
    changed = {k for k in TRACKED if before[k] != after[k]}
    if not changed:
        raise ServiceError("Nothing changed: adjust the target, the metric or the period.",
                           field="target_value" if goal.kind == GoalKind.METRIC else "quarter")
    if goal.parent is not None:
        check_parent(actor, goal, goal.parent.id)
    if goal.scope == GoalScope.TEAM:
        check_children_fit(goal, start, end)
    for milestone in goal.milestones:
        if milestone.due is not None and not start <= milestone.due <= end:
            raise ServiceError(f"Milestone '{milestone.title}' is due {milestone.due}, outside "
                               f"the new period ({describe_period(label, start, end)}).",
                               field="end_date")
    adjustment = GoalAdjustment(
        goal=goal, changed_by=actor, effective_on=min(max(today, start), end), reason=reason,
        before={k: before[k] for k in sorted(changed)},
        after={k: after[k] for k in sorted(changed)})
    db.session.add(adjustment)
    flush_goal(goal)
    record(actor, "goal.adjust", "goal", goal.id, before=adjustment.before,
           after=adjustment.after, reason=reason)
    warnings = alerts.goal_warnings(goal, period=goal_period(goal))
    return adjustment, warnings
