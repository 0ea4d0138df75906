"""Following a goal through its period: check-ins, status overrides, milestones, comments."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from reviewapp.audit.services import record
from reviewapp.auth.models import User
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.goals import tracking
from reviewapp.goals.models import (
    CheckIn,
    Goal,
    GoalComment,
    GoalKind,
    GoalState,
    GoalStatus,
    Milestone,
)
from reviewapp.goals.periods import goal_period
from reviewapp.model_types import utcnow

MAX_NOTE = 500
MAX_COMMENT = 2000


def _require_active(goal: Goal, what: str) -> None:
    if goal.state != GoalState.ACTIVE:
        raise ServiceError(f"{what} start once the goal is agreed.")


def add_check_in(actor: User, goal: Goal, *, held_on: date | None, confidence: int | None,
                 note: str = "", progress: float | None = None,
                 today: date | None = None) -> CheckIn:
    """Record where a goal stands: a date in its period, confidence 1–5, a short note, and
    for a manual-percentage goal the new percentage."""
    today = today or date.today()
    _require_active(goal, "Check-ins")
    if held_on is None:
        raise ServiceError("Enter the date of the check-in.", field="held_on")
    if not goal.start_date <= held_on <= goal.end_date:
        raise ServiceError(f"{held_on.isoformat()} is outside the goal's period "
                           f"({goal_period(goal)}).", field="held_on")
    if held_on > today:
        raise ServiceError("A check-in cannot be dated in the future.", field="held_on")
    if confidence is None or not 1 <= confidence <= 5:
        raise ServiceError("Choose a confidence from 1 (low) to 5 (high).", field="confidence")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ServiceError(f"Keep the note under {MAX_NOTE} characters.", field="note")
    snapshot: dict = {}
    if goal.kind == GoalKind.PERCENT:
        if progress is None:
            raise ServiceError("Enter the progress in percent.", field="progress")
        if not 0 <= progress <= 100:
            raise ServiceError("Progress is a percentage from 0 to 100.", field="progress")
        snapshot["progress"] = float(progress)
        latest = db.session.scalar(sa.select(sa.func.max(CheckIn.held_on))
                                   .where(CheckIn.goal_id == goal.id))
        if latest is None or held_on >= latest:
            # The goal stands where its latest check-in by date puts it: one recorded late
            # for an earlier day is history, not the current percentage.
            goal.manual_percent = float(progress)
    else:
        now = tracking.compute_progress([goal], today)[goal.id]
        snapshot["progress"] = now.percent
        if goal.kind == GoalKind.METRIC:
            snapshot.update(metric_id=goal.metric_id, metric_value=now.current)
    same = sa.select(CheckIn.id).where(
        CheckIn.goal_id == goal.id, CheckIn.author_id == actor.id, CheckIn.held_on == held_on,
        CheckIn.confidence == confidence, CheckIn.note == note)
    if goal.kind == GoalKind.PERCENT:
        same = same.where(CheckIn.progress == snapshot["progress"])
    if db.session.scalar(same.limit(1)) is not None:
        # The same check-in sent again: a second click, a resubmitted page, another tab.
        raise ServiceError(f"This check-in of {held_on.strftime('%-d %b %Y')} is saved "
                           "already; change the note or the confidence to add another.",
                           field="note")
    check_in = CheckIn(goal=goal, author=actor, held_on=held_on, confidence=confidence,
                       note=note, **snapshot)
    db.session.add(check_in)
    db.session.flush()
    record(actor, "goal.check_in", "goal", goal.id,
           after={"held_on": held_on.isoformat(), "confidence": confidence,
                  "progress": check_in.progress})
    return check_in


def set_status(actor: User, goal: Goal, status: str | None, note: str = "") -> None:
    """Override the suggested status with a note; an empty status goes back to the suggestion."""
    _require_active(goal, "Status updates")
    before = {"status": goal.status_override.value if goal.status_override else None}
    if not status:
        goal.status_override = goal.status_note = None
    else:
        try:
            chosen = GoalStatus(status)
        except ValueError:
            raise ServiceError("Choose a status.", field="status") from None
        note = (note or "").strip()
        if not note:
            raise ServiceError("Say why the status differs from the suggestion.", field="note")
        goal.status_override, goal.status_note = chosen, note
    goal.status_set_by_id, goal.status_set_at = actor.id, utcnow()
    db.session.flush()
    record(actor, "goal.status", "goal", goal.id, before=before,
           after={"status": status or None}, reason=goal.status_note)


def toggle_milestone(actor: User, goal: Goal, milestone_id: int, done: bool) -> Milestone:
    """Tick a milestone off, or back on."""
    _require_active(goal, "Milestones")
    milestone = next((m for m in goal.milestones if m.id == milestone_id), None)
    if milestone is None:
        raise ServiceError("That milestone is not part of this goal.")
    milestone.done = done
    milestone.done_at = utcnow() if done else None
    db.session.flush()
    record(actor, "goal.milestone", "goal", goal.id,
           after={"milestone": milestone.title, "done": done})
    return milestone


def add_comment(actor: User, goal: Goal, body: str) -> GoalComment:
    """A comment on a goal, for everyone who can see it."""
    body = (body or "").strip()
    if not body:
        raise ServiceError("Write a comment first.", field="body")
    if len(body) > MAX_COMMENT:
        raise ServiceError(f"Keep comments under {MAX_COMMENT} characters.", field="body")
    comment = GoalComment(goal=goal, author=actor, body=body)
    db.session.add(comment)
    db.session.flush()
    return comment
