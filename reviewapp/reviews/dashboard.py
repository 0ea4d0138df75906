"""Review tasks for the dashboards: each person's next step with its deadline."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from reviewapp.auth.models import User
from reviewapp.cycles.models import Cycle, CycleStatus
from reviewapp.extensions import db
from reviewapp.reviews.models import Review, ReviewState


@dataclass(frozen=True)
class Task:
    review_id: int
    label: str
    due: date | None

    def overdue(self, today: date) -> bool:
        return self.due is not None and today > self.due


def _open_reviews(query) -> list[Review]:
    return list(db.session.scalars(
        query.join(Cycle).where(Cycle.status == CycleStatus.LAUNCHED)
        .options(selectinload(Review.cycle), selectinload(Review.rep))
        .order_by(Cycle.period_start.desc(), Review.id)))


def rep_tasks(user: User) -> list[Task]:
    """The rep's own next step in each open review."""
    tasks = []
    for review in _open_reviews(sa.select(Review).where(Review.rep_id == user.id)):
        deadline = review.deadline
        if review.state == ReviewState.SELF_REVIEW:
            label = f"Write your self-assessment ({review.cycle.name})"
        elif review.state == ReviewState.SHARED:
            label = f"Read and acknowledge your review ({review.cycle.name})"
        else:
            label = f"{review.cycle.name}: {review.state.label.lower()} — nothing to do now"
        tasks.append(Task(review.id, label, deadline.due if deadline else None))
    return tasks


def manager_tasks(user: User) -> list[Task]:
    """Reviews waiting for this manager: to write, or self-assessments still outstanding."""
    tasks = []
    reviews = _open_reviews(sa.select(Review).where(
        Review.manager_id == user.id,
        Review.state.in_([ReviewState.SELF_REVIEW, ReviewState.MANAGER_REVIEW])))
    for review in reviews:
        if review.state == ReviewState.MANAGER_REVIEW:
            tasks.append(Task(review.id, f"Review {review.rep.name}", review.deadline.due))
        else:
            tasks.append(Task(review.id, f"Waiting for {review.rep.name}'s self-assessment",
                              review.deadline.due))
    return tasks


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
