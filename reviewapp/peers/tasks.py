"""Peer feedback on the to-do lists: requests to answer, nominations to make and to approve."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import selectinload

from reviewapp.auth.models import User
from reviewapp.cycles.models import Cycle, CycleStatus
from reviewapp.extensions import db
from reviewapp.peers.models import HOLDING, PeerRequest, PeerRequestState
from reviewapp.reviews.dashboard import Task
from reviewapp.reviews.models import Review, ReviewState

S = PeerRequestState
WRITING = (ReviewState.SELF_REVIEW, ReviewState.MANAGER_REVIEW)


def _open(today: date):
    """Launched cycles asking peers, whose answering time has not passed."""
    return sa.and_(Cycle.status == CycleStatus.LAUNCHED, Cycle.peer_feedback,
                   Cycle.peer_due >= today)


def to_answer(user: User, today: date | None = None) -> list[Task]:
    """Requests the person was asked and has not answered or declined yet."""
    today = today or date.today()
    requests = db.session.scalars(
        sa.select(PeerRequest).join(Review).join(Cycle)
        .where(PeerRequest.peer_id == user.id, PeerRequest.state == S.REQUESTED,
               Review.state != ReviewState.FINALIZED, _open(today))
        .options(selectinload(PeerRequest.review).selectinload(Review.rep),
                 selectinload(PeerRequest.review).selectinload(Review.cycle))
        .order_by(PeerRequest.id))
    return [Task(url_for("peers.request_page", request_id=r.id),
                 f"Give feedback on {r.review.rep.name}'s work ({r.review.cycle.name})",
                 r.review.cycle.peer_due) for r in requests]


def _reviews_with_counts(query, today: date) -> list[tuple[Review, int, int]]:
    """(review, nominations held, nominations waiting for approval) for the reviews asked."""
    holding = sa.func.count(PeerRequest.id).filter(PeerRequest.state.in_(HOLDING))
    waiting = sa.func.count(PeerRequest.id).filter(PeerRequest.state == S.PROPOSED)
    rows = db.session.execute(
        query.join(Cycle).outerjoin(PeerRequest, PeerRequest.review_id == Review.id)
        .where(Review.state.in_(WRITING), _open(today)).options(selectinload(Review.cycle))
        .group_by(Review.id).order_by(Review.id)
        .add_columns(holding, waiting)).all()
    return [(review, held, waits) for review, held, waits in rows]


def to_nominate(user: User, today: date | None = None) -> list[Task]:
    """The rep's reviews that still need colleagues nominated."""
    today = today or date.today()
    tasks = []
    for review, held, _ in _reviews_with_counts(
            sa.select(Review).where(Review.rep_id == user.id), today):
        if held < review.cycle.peer_min_responses:
            tasks.append(Task(url_for("reviews.review", review_id=review.id, _anchor="peers"),
                              f"Nominate colleagues for peer feedback ({review.cycle.name})",
                              review.cycle.peer_due))
    return tasks


def to_approve(user: User, today: date | None = None) -> list[Task]:
    """Nominations waiting for the reviewing manager."""
    today = today or date.today()
    tasks = []
    for review, _, waiting in _reviews_with_counts(
            sa.select(Review).where(Review.manager_id == user.id)
            .options(selectinload(Review.rep)), today):
        if waiting:
            tasks.append(Task(url_for("reviews.review", review_id=review.id, _anchor="peers"),
                              f"Approve the colleagues {review.rep.name} nominated for peer "
                              "feedback", review.cycle.peer_due))
    return tasks


def peer_tasks(user: User, today: date | None = None) -> list[Task]:
    """Everything peer feedback asks of this person now."""
    return to_answer(user, today) + to_nominate(user, today) + to_approve(user, today)


def reminder_items(cycle_id: int | None = None, today: date | None = None) -> list:
    """The requests still to answer, as deadlines for the reminders' digest (each goes to the
    peer alone; nothing in it says who else was asked or answered). Past the deadline nobody
    can answer, so a request is never "overdue"."""
    from reviewapp.notifications.outbox import page_path
    from reviewapp.notifications.reminders import Item

    query = (sa.select(PeerRequest).join(Review).join(Cycle, Cycle.id == Review.cycle_id)
             .where(PeerRequest.state == S.REQUESTED, Review.state != ReviewState.FINALIZED,
                    Cycle.status == CycleStatus.LAUNCHED, Cycle.peer_feedback,
                    Cycle.peer_due >= (today or date.today()))
             .options(selectinload(PeerRequest.peer),
                      selectinload(PeerRequest.review).selectinload(Review.rep),
                      selectinload(PeerRequest.review).selectinload(Review.cycle))
             .order_by(PeerRequest.id))
    if cycle_id is not None:
        query = query.where(Review.cycle_id == cycle_id)
    items = []
    for request in db.session.scalars(query):
        cycle = request.review.cycle
        items.append(Item(request.peer, f"peer:{request.id}:{cycle.peer_due.isoformat()}",
                          f"Give feedback on {request.review.rep.name}'s work ({cycle.name})",
                          cycle.peer_due, page_path("peers.request_page", request_id=request.id),
                          cycle.id))
    return items
