"""Each person's review to-do list across cycles: what they must do next, with its deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import joinedload

from reviewapp.auth.models import User
from reviewapp.cycles.models import Cycle, CycleStatus
from reviewapp.extensions import db
from reviewapp.reviews.models import Review, ReviewState


@dataclass(frozen=True)
class Task:
    url: str
    label: str
    due: date | None

    def overdue(self, today: date) -> bool:
        return self.due is not None and today > self.due


def _open_reviews(query) -> list[Review]:
    return list(db.session.scalars(
        query.join(Cycle).where(Cycle.status == CycleStatus.LAUNCHED)
        # Joined, not selected in: one statement whether the list is empty or long.
        .options(joinedload(Review.cycle), joinedload(Review.rep))
        .order_by(Cycle.period_start.desc(), Review.id)))


def _review_url(review: Review) -> str:
    return url_for("reviews.review", review_id=review.id)


def _by_due(tasks: list[Task]) -> list[Task]:
    return sorted(tasks, key=lambda t: (t.due is None, t.due or date.max))


def _peer_tasks(user: User, today: date | None = None) -> list[Task]:
    """Feedback requests to answer, colleagues to nominate or approve (reviewapp/peers)."""
    from reviewapp.peers.tasks import peer_tasks  # imported here: it builds on Task

    return peer_tasks(user, today)


def rep_tasks(user: User) -> list[Task]:
    """The rep's next steps: the self-assessment to write, the shared review to acknowledge."""
    tasks = []
    for review in _open_reviews(sa.select(Review).where(Review.rep_id == user.id)):
        due = review.deadline.due if review.deadline else None
        if review.state == ReviewState.SELF_REVIEW:
            tasks.append(Task(_review_url(review),
                              f"Write your self-assessment ({review.cycle.name})", due))
        elif review.state == ReviewState.SHARED:
            tasks.append(Task(_review_url(review),
                              f"Read and acknowledge your review ({review.cycle.name})", due))
    return _by_due(tasks + _peer_tasks(user))


# Above this many reviews of one kind in one cycle, the to-do list counts them and links to the
# cycle's page (filtered to that state) instead of naming each: 200 reports, a few lines.
TASKS_NAMED = 20
_COUNTED = {
    ReviewState.MANAGER_REVIEW: ("Write {n} reviews ({cycle})", "manager_due"),
    ReviewState.SELF_REVIEW: ("{n} self-assessments are overdue ({cycle}): remind them, or move "
                              "on without them", "self_due"),
    ReviewState.CALIBRATION: ("Share {n} reviews after calibration ({cycle})",
                              "calibration_due"),
}


def _counted_task(cycle: Cycle, state: ReviewState, n: int, today: date) -> Task | None:
    """The one line that stands for n reviews of the manager's in this cycle and state."""
    if state == ReviewState.SELF_REVIEW and today <= cycle.self_due:
        return None
    if state == ReviewState.CALIBRATION and not cycle.managers_share:
        return None
    words, due = _COUNTED[state]
    return Task(url_for("cycles.cycle", cycle_id=cycle.id, state=state.value, reviewer="me"),
                words.format(n=n, cycle=cycle.name), getattr(cycle, due))


def manager_tasks(user: User, today: date | None = None) -> list[Task]:
    """Reviews to write, overdue self-assessments, calibrations to join, conversations asked:
    named one by one, or counted per cycle when there are more than TASKS_NAMED."""
    today = today or date.today()
    groups = db.session.execute(
        sa.select(Cycle, Review.state, sa.func.count(Review.id))
        .join(Review, Review.cycle_id == Cycle.id)
        .where(Review.manager_id == user.id, Cycle.status == CycleStatus.LAUNCHED,
               Review.state.in_(list(_COUNTED)))
        .group_by(Cycle.id, Review.state)).all()
    tasks, counted = [], []
    for cycle, state, n in groups:
        if state == ReviewState.CALIBRATION:
            tasks.append(Task(url_for("cycles.calibration", cycle_id=cycle.id),
                              f"Calibrate {cycle.name}: {n} of your reviews",
                              cycle.calibration_due))
        if n > TASKS_NAMED:
            counted.append(sa.and_(Review.cycle_id == cycle.id, Review.state == state))
            task = _counted_task(cycle, state, n, today)
            if task is not None:
                tasks.append(task)
    named = sa.select(Review).where(
        Review.manager_id == user.id,
        sa.or_(Review.state.in_(list(_COUNTED)), sa.and_(
            Review.state == ReviewState.SHARED, Review.conversation_requested_at.is_not(None))))
    if counted:
        named = named.where(sa.not_(sa.or_(*counted)))
    for review in _open_reviews(named):
        due = review.deadline.due if review.deadline else None
        if review.state == ReviewState.MANAGER_REVIEW:
            tasks.append(Task(_review_url(review), f"Review {review.rep.name}", due))
        elif review.state == ReviewState.SELF_REVIEW and today > review.cycle.self_due:
            what = "remind them, or move on without it" if review.rep.active else \
                "they have left, so move on without it"
            tasks.append(Task(_review_url(review), f"{review.rep.name}'s self-assessment is "
                              f"overdue: {what}", due))
        elif review.state == ReviewState.CALIBRATION and review.cycle.managers_share:
            tasks.append(Task(_review_url(review),
                              f"Share {review.rep.name}'s review after calibration", due))
        if review.state == ReviewState.SHARED and review.conversation_requested_at:
            asked = review.conversation_requested_at
            tasks.append(Task(_review_url(review),
                              f"Talk with {review.rep.name} about their review (asked on "
                              f"{asked:%d %b}); it waits for their acknowledgement", None))
    return _by_due(tasks + _peer_tasks(user, today))


def hr_tasks(today: date | None = None) -> list[Task]:
    """HR's next steps per launched cycle: calibrate, chase acknowledgements, finalise."""
    today = today or date.today()
    rows = db.session.execute(
        sa.select(Cycle, Review.state, sa.func.count(Review.id))
        .join(Review, Review.cycle_id == Cycle.id)
        .where(Cycle.status == CycleStatus.LAUNCHED,
               Review.state.in_([ReviewState.CALIBRATION, ReviewState.SHARED,
                                 ReviewState.ACKNOWLEDGED]))
        .group_by(Cycle.id, Review.state).order_by(Cycle.period_start.desc())).all()
    tasks = []
    for cycle, state, n in rows:
        page = url_for("cycles.cycle", cycle_id=cycle.id)
        if state == ReviewState.CALIBRATION:
            tasks.append(Task(url_for("cycles.calibration", cycle_id=cycle.id),
                              f"Calibrate and share {n} reviews ({cycle.name})",
                              cycle.calibration_due))
        elif state == ReviewState.SHARED and today > cycle.acknowledgement_due:
            tasks.append(Task(page, f"{n} reviews not acknowledged by the deadline: finalise "
                              f"without acknowledgement or chase ({cycle.name})",
                              cycle.acknowledgement_due))
        elif state == ReviewState.ACKNOWLEDGED:
            tasks.append(Task(page, f"Finalise {n} acknowledged reviews ({cycle.name})", None))
    return _by_due(tasks)


def cycle_progress() -> list[tuple[Cycle, dict[str, int]]]:
    """For HR: each launched cycle with its reviews counted by state."""
    rows = db.session.execute(
        sa.select(Cycle, Review.state, sa.func.count(Review.id))
        .join(Review, Review.cycle_id == Cycle.id)
        .where(Cycle.status == CycleStatus.LAUNCHED)
        .group_by(Cycle.id, Review.state).order_by(Cycle.period_start.desc())).all()
    out: dict[int, tuple[Cycle, dict[str, int]]] = {}
    for cycle, state, count in rows:
        out.setdefault(cycle.id, (cycle, {}))[1][state.label] = count
    return list(out.values())
