"""Setting goals: create, edit, approve or return, delete, and the rules that keep them sound.

Every rule that says no raises ServiceError naming the form field at fault; nothing is saved
then (the view rolls back). Functions flush, never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from reviewapp import numbers, policy
from reviewapp.audit.services import record
from reviewapp.auth.models import Team, User
from reviewapp.errors import Conflict, ServiceError, claim_version
from reviewapp.extensions import db
from reviewapp.goals import alerts, tracking
from reviewapp.goals.alerts import GoalWarning, latest_validation_for  # noqa: F401 (public)
from reviewapp.goals.models import (
    Goal,
    GoalComment,
    GoalKind,
    GoalScope,
    GoalState,
    Milestone,
)
from reviewapp.goals.periods import describe_period, goal_period, resolve_period
from reviewapp.metrics.models import Metric
from reviewapp.model_types import utcnow
from reviewapp.notifications import events as email_events

MAX_TITLE = 200
_DATED_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*[:\-–—]?\s*(.+)$")


@dataclass
class GoalDraft:
    """A goal as entered on a form, before any rule has looked at it."""

    scope: str
    title: str
    kind: str
    description: str = ""
    team_id: int | None = None
    owner_id: int | None = None
    quarter: str | None = None  # "2026-Q3", or None for custom dates
    start_date: date | None = None
    end_date: date | None = None
    parent_id: int | None = None
    weight: float | None = 1.0
    metric_id: int | None = None
    start_value: float | None = None
    target_value: float | None = None
    milestones: str = ""  # one per line, optionally starting with a due date
    template_id: int | None = None


def parse_milestones(text: str) -> list[tuple[str, date | None]]:
    """Milestones from text: one per line, optionally 'YYYY-MM-DD title'."""
    items = []
    for raw in (text or "").splitlines():
        line = raw.strip().lstrip("-*•").strip()
        if not line:
            continue
        match = _DATED_LINE.match(line)
        due = None
        if match:
            try:
                due = date.fromisoformat(match[1])
            except ValueError:
                raise ServiceError(f"'{match[1]}' is not a date (use YYYY-MM-DD).",
                                   field="milestones") from None
            line = match[2].strip()
        if len(line) > MAX_TITLE:
            raise ServiceError(f"A milestone title is limited to {MAX_TITLE} characters.",
                               field="milestones")
        items.append((line, due))
    return items


def milestones_text(goal: Goal) -> str:
    """The milestones of a goal in the form's text format."""
    return "\n".join(f"{m.due.isoformat()} {m.title}" if m.due else m.title
                     for m in goal.milestones)


# Checks ---------------------------------------------------------------------------------------


def _owner(actor: User, draft: GoalDraft) -> tuple[Team | None, User | None, GoalState]:
    """Who owns the goal, and whether it starts agreed or proposed."""
    if draft.scope == GoalScope.TEAM:
        if policy.proposes_goals(actor):
            raise ServiceError("Team goals are set by the team's manager; you can propose "
                               "goals for yourself.", field="team")
        team = db.session.get(Team, draft.team_id) if draft.team_id else None
        if team is None:
            raise ServiceError("Choose a team.", field="team")
        if not policy.can_create_team_goal(actor, team):  # no name: it may not be theirs to see
            raise ServiceError("Choose one of the teams you manage.", field="team")
        return team, None, GoalState.ACTIVE
    if draft.scope != GoalScope.INDIVIDUAL:
        raise ServiceError("A goal is a team goal or an individual goal.", field="scope")
    owner = db.session.get(User, draft.owner_id) if draft.owner_id else None
    if owner is None:
        raise ServiceError("Choose whose goal this is.", field="owner")
    if policy.proposes_goals(actor):
        if owner.id != actor.id:
            raise ServiceError("You can propose goals only for yourself; goals for others are "
                               "set by their manager.", field="owner")
        if owner.manager_id is None:  # a proposal nobody could approve
            raise ServiceError("You have no manager in ReviewApp yet, so nobody could agree "
                               "to a goal you propose: ask HR to set your manager first.",
                               field="owner")
        return None, owner, GoalState.PROPOSED
    if not policy.can_set_goals_for(actor, owner):
        # No name: posting ids one by one would list everyone's.
        raise ServiceError("Choose one of your people.", field="owner")
    if not policy.is_reviewed(owner):
        raise ServiceError(f"{owner.name} is not a sales rep; individual goals are for reps.",
                           field="owner")
    return None, owner, GoalState.ACTIVE


def check_tracking(kind: GoalKind, *, metric_id, start_value, target_value, milestones: str,
                   start: date, end: date, rep_ids: list[int], owner_label: str):
    """Rules of the measure: a metric with data and a target away from the start, or at
    least one milestone inside the period. Returns (metric, milestones)."""
    if kind == GoalKind.METRIC:
        start_value = numbers.checked(start_value, "start_value")
        target_value = numbers.checked(target_value, "target_value")
        metric = db.session.get(Metric, metric_id) if metric_id else None
        if metric is None or metric.archived:
            raise ServiceError("Choose a metric.", field="metric")
        if start_value is None:
            raise ServiceError("Enter the start value.", field="start_value")
        if target_value is None:
            raise ServiceError("Enter the target.", field="target_value")
        if target_value == start_value:
            raise ServiceError("The target equals the start value, so progress cannot be "
                               "measured: set a target above or below the start.",
                               field="target_value")
        if not tracking.has_data(rep_ids, metric.id):
            raise ServiceError(f"{owner_label} has no {metric.name} data yet: link a metric "
                               "with data, or track this goal manually.", field="metric")
        return metric, []
    items = parse_milestones(milestones)
    if kind == GoalKind.CHECKLIST and not items:
        raise ServiceError("List at least one milestone, one per line.", field="milestones")
    for title, due in items:
        if due is not None and not start <= due <= end:
            raise ServiceError(f"Milestone '{title}' is due {due.isoformat()}, outside the "
                               f"goal's period ({describe_period(None, start, end)}).",
                               field="milestones")
    return None, items


def check_parent(actor: User, goal: Goal, parent_id: int | None) -> Goal | None:
    """Alignment: to an agreed team goal of the same period; individual goals to their own
    team's goals; never a loop."""
    if not parent_id:
        return None
    parent = db.session.get(Goal, parent_id)
    if parent is None or not policy.can_view_goal(actor, parent):
        raise ServiceError("Choose a goal to align to from the list.", field="parent")
    if parent.id == goal.id:
        raise ServiceError("A goal cannot align to itself.", field="parent")
    if parent.scope != GoalScope.TEAM:
        raise ServiceError(f"Goals align to team goals; '{parent.title}' is an individual goal.",
                           field="parent")
    if parent.state != GoalState.ACTIVE:
        raise ServiceError(f"'{parent.title}' is not agreed yet.", field="parent")
    if goal.scope == GoalScope.INDIVIDUAL and goal.owner.team_id != parent.team_id:
        team = goal.owner.team.name if goal.owner.team else "no team"
        raise ServiceError(f"{goal.owner.name}'s goals align to goals of their team ({team}); "
                           f"'{parent.title}' belongs to {parent.team.name}.", field="parent")
    if not (parent.start_date <= goal.start_date and goal.end_date <= parent.end_date):
        raise ServiceError(
            f"'{parent.title}' runs {goal_period(parent)} and this goal {goal_period(goal)}: "
            "a goal aligns only to a goal whose period contains its own.", field="parent")
    ancestor, seen = parent, set()
    while ancestor is not None and ancestor.id not in seen:
        if goal.id is not None and ancestor.id == goal.id:
            raise ServiceError(f"Aligning to '{parent.title}' would make a loop: it already "
                               "aligns, directly or further up, to this goal.", field="parent")
        seen.add(ancestor.id)
        ancestor = ancestor.parent
    return parent


def check_children_fit(goal: Goal, start: date, end: date) -> None:
    """A team goal's new period must still contain the goals aligned to it."""
    outside = [c for c in goal.children if c.start_date < start or c.end_date > end]
    if outside:
        names = ", ".join(f"'{c.title}'" for c in outside[:3])
        raise ServiceError(f"{len(outside)} aligned goal(s) would fall outside the new period "
                           f"({names}); change or unlink them first.", field="end_date")


MAX_WEIGHT = 100.0


def _weight(value: float | None) -> float:
    if value is None:
        return 1.0
    value = numbers.checked(value, "weight")
    if value <= 0:
        raise ServiceError("The weight must be above zero (1 = equal to its siblings).",
                           field="weight")
    if value > MAX_WEIGHT:
        # A weight of 1e12 made one aligned goal swamp its nine siblings (roll-up 0%).
        raise ServiceError(f"The weight is at most {MAX_WEIGHT:g} (1 = equal to its "
                           "siblings, 2 = counts twice).", field="weight")
    return float(value)


def _set_milestones(goal: Goal, items: list[tuple[str, date | None]]) -> None:
    existing = {m.title: m for m in goal.milestones}
    kept = []
    for position, (title, due) in enumerate(items):
        milestone = existing.pop(title, None) or Milestone(title=title)
        milestone.position, milestone.due = position, due
        kept.append(milestone)
    goal.milestones = kept


def snapshot(goal: Goal) -> dict:
    """The audited fields of a goal."""
    return {
        "scope": goal.scope.value, "team_id": goal.team_id, "owner_id": goal.owner_id,
        "title": goal.title, "quarter": goal.quarter,
        "start_date": goal.start_date.isoformat(), "end_date": goal.end_date.isoformat(),
        "parent_id": goal.parent_id, "weight": goal.weight, "kind": goal.kind.value,
        "metric_id": goal.metric_id, "start_value": goal.start_value,
        "target_value": goal.target_value, "state": goal.state.value,
    }


def measured_rep_ids(goal: Goal) -> list[int]:
    """Whose data a goal is measured on (works before the goal is flushed)."""
    if goal.scope == GoalScope.TEAM:
        return tracking.team_members([goal.team.id])[goal.team.id]
    return [goal.owner.id]


# Operations -----------------------------------------------------------------------------------


def _kind(value: str) -> GoalKind:
    try:
        return GoalKind(value)
    except ValueError:
        raise ServiceError("Choose how progress is measured.", field="kind") from None


def _apply(actor: User, goal: Goal, draft: GoalDraft, *, tracked: bool) -> list[GoalWarning]:
    """Check a draft and copy it onto the goal; `tracked` also sets metric, target, period."""
    title = (draft.title or "").strip()
    if not title:
        raise ServiceError("Enter a title.", field="title")
    if len(title) > MAX_TITLE:
        raise ServiceError(f"A title is limited to {MAX_TITLE} characters.", field="title")
    goal.title, goal.description = title, (draft.description or "").strip()
    goal.weight = _weight(draft.weight)
    if tracked:
        goal.quarter, goal.start_date, goal.end_date = resolve_period(
            draft.quarter, draft.start_date, draft.end_date)
        goal.kind = _kind(draft.kind)
    rep_ids = measured_rep_ids(goal)
    metric, items = check_tracking(
        goal.kind, metric_id=draft.metric_id if tracked else goal.metric_id,
        start_value=draft.start_value if tracked else goal.start_value,
        target_value=draft.target_value if tracked else goal.target_value,
        # Agreed, a checklist keeps its milestones (ticked ones too): Edit replaced them all.
        milestones=draft.milestones if tracked else milestones_text(goal),
        start=goal.start_date, end=goal.end_date, rep_ids=rep_ids, owner_label=goal.owner_name)
    if tracked:
        goal.metric = metric
        goal.start_value = draft.start_value if metric else None
        goal.target_value = draft.target_value if metric else None
        if goal.kind == GoalKind.PERCENT and goal.manual_percent is None:
            goal.manual_percent = 0.0
    if tracked:
        _set_milestones(goal, items)
    if goal.id is not None and goal.scope == GoalScope.TEAM:
        check_children_fit(goal, goal.start_date, goal.end_date)
    parent = check_parent(actor, goal, draft.parent_id)
    warnings = alerts.draft_warnings(
        owner=goal.owner, metric=goal.metric, start=goal.start_date, end=goal.end_date,
        start_value=goal.start_value, target_value=goal.target_value, exclude_goal_id=goal.id,
        period=goal_period(goal), saved=True)
    # Last: joining the parent's children would let a query flush a half-made goal.
    goal.parent = parent
    return warnings


def create_goal(actor: User, draft: GoalDraft) -> tuple[Goal, list[GoalWarning]]:
    """A new goal: agreed when a manager sets it, proposed when a rep proposes their own."""
    team, owner, state = _owner(actor, draft)
    goal = Goal(scope=GoalScope(draft.scope), team=team, owner=owner, state=state,
                created_by=actor, template_id=draft.template_id)
    if state == GoalState.ACTIVE:
        goal.approved_by_id, goal.approved_at = actor.id, utcnow()
    warnings = _apply(actor, goal, draft, tracked=True)
    if state == GoalState.PROPOSED:
        _not_proposed_already(goal, owner)
    db.session.add(goal)
    db.session.flush()
    record(actor, "goal.propose" if state == GoalState.PROPOSED else "goal.create", "goal",
           goal.id, after=snapshot(goal))
    if state == GoalState.PROPOSED:
        email_events.goal_proposal_waiting(actor, goal)
    return goal, warnings


def _not_proposed_already(goal: Goal, owner: User) -> None:
    """The same proposal sent again (a second click, a resubmitted page) waits once, and its
    manager gets one email, not two."""
    with db.session.no_autoflush:  # the new goal may sit in the session, half made
        waiting = db.session.scalar(sa.select(Goal.id).where(
            Goal.owner_id == owner.id, Goal.state == GoalState.PROPOSED,
            Goal.title == goal.title, Goal.start_date == goal.start_date,
            Goal.end_date == goal.end_date).limit(1))
    if waiting is not None:
        raise ServiceError("You proposed this goal already; it waits for your manager's "
                           "decision.", field="title")


class GoalConflict(Conflict):
    """The goal changed after the form was opened."""


CHANGED_MEANWHILE = ("Someone else changed this goal after you opened the form. What you "
                     "entered is below; check it against the goal as it is now and save again.")


def check_version(goal: Goal, expected: int | None, message: str = CHANGED_MEANWHILE) -> None:
    """A form opened at `expected` loses when someone saved the goal since; then moves the
    version on for this change, written at once: of two requests that both read the same
    version, the second's write matches no row and it loses here, before it changes anything."""
    if goal.id is None:
        return
    claim_version(goal, expected, GoalConflict(message))
    flush_goal(goal, message)


def flush_goal(goal: Goal, message: str = CHANGED_MEANWHILE) -> None:
    """Flush; a write that raced another one from the same version (both passed
    check_version before either wrote) loses as a GoalConflict, never as a lost update."""
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()  # the session is unusable after a failed flush
        raise GoalConflict(message) from None


def update_goal(actor: User, goal: Goal, draft: GoalDraft,
                expected_version: int | None = None) -> list[GoalWarning]:
    """Edit a goal. Once agreed, its target, metric and period change only through
    adjust_goal, which keeps the history; a returned goal goes back for approval."""
    check_version(goal, expected_version)
    before = snapshot(goal)
    tracked = goal.state != GoalState.ACTIVE
    warnings = _apply(actor, goal, draft, tracked=tracked)
    resubmitted = goal.state == GoalState.RETURNED and actor.id == goal.owner_id
    if resubmitted:
        goal.state = GoalState.PROPOSED
    flush_goal(goal)
    record(actor, "goal.update", "goal", goal.id, before=before, after=snapshot(goal))
    if resubmitted:
        email_events.goal_proposal_waiting(actor, goal)
    return warnings


DECIDED_MEANWHILE = ("The proposal changed after you opened it, or someone decided on it: "
                     "look at it as it is now before you decide.")


def approve_goal(actor: User, goal: Goal, comment: str = "",
                 expected_version: int | None = None) -> None:
    """The manager agrees to a proposed goal (as it was when they opened it)."""
    check_version(goal, expected_version, DECIDED_MEANWHILE)
    if goal.state != GoalState.PROPOSED:
        raise ServiceError(f"Only a proposed goal can be approved; this one is "
                           f"{goal.state.label.lower()}.")
    goal.state, goal.approved_by_id, goal.approved_at = GoalState.ACTIVE, actor.id, utcnow()
    if comment.strip():
        db.session.add(GoalComment(goal=goal, author=actor, body=comment.strip()))
    flush_goal(goal, DECIDED_MEANWHILE)
    record(actor, "goal.approve", "goal", goal.id, after={"state": goal.state.value})


def return_goal(actor: User, goal: Goal, comment: str,
                expected_version: int | None = None) -> None:
    """The manager sends a proposed goal back, saying why."""
    check_version(goal, expected_version, DECIDED_MEANWHILE)
    if goal.state != GoalState.PROPOSED:
        raise ServiceError(f"Only a proposed goal can be returned; this one is "
                           f"{goal.state.label.lower()}.")
    if not (comment or "").strip():
        raise ServiceError("Say what should change, so the goal can come back better.",
                           field="comment")
    goal.state = GoalState.RETURNED
    db.session.add(GoalComment(goal=goal, author=actor, body=comment.strip()))
    flush_goal(goal, DECIDED_MEANWHILE)
    record(actor, "goal.return", "goal", goal.id, after={"state": goal.state.value},
           reason=comment.strip())
    email_events.goal_returned(actor, goal, comment.strip())


def delete_goal(actor: User, goal: Goal) -> None:
    """Remove a goal (its check-ins and history go with it; aligned goals are unlinked)."""
    before = snapshot(goal)
    for child in list(goal.children):
        child.parent = None
    db.session.delete(goal)
    db.session.flush()
    record(actor, "goal.delete", "goal", goal.id, before=before)
