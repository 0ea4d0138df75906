"""Walk a review through the workflow with the real services (each step committed)."""

from __future__ import annotations

import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.notifications.models import OutboxMessage
from reviewapp.reviews import decisions
from reviewapp.reviews.models import Review
from reviewapp.reviews.services import (
    ManagerAssessment,
    SelfAssessment,
    save_manager,
    save_self,
    submit_manager,
    submit_self,
)


def review_of(rep) -> Review:
    return db.session.scalar(sa.select(Review).where(Review.rep_id == rep.id))


def self_done(review: Review) -> None:
    ratings = {r.cycle_competency_id: (4, "Closed the Acme renewal early.")
               for r in review.ratings}
    save_self(review.rep, review, SelfAssessment("Won two deals.", "On track.", "Negotiation.",
                                                 ratings), expected_version=None)
    submit_self(review.rep, review)
    db.session.commit()


def manager_done(review: Review, reconciliation_note: str = "") -> None:
    """Write and submit the manager's side (a note for when the two sides diverge)."""
    ratings = {r.cycle_competency_id: (3, "Solid, steady work.") for r in review.ratings}
    save_manager(review.manager, review, ManagerAssessment("Reliable.", "Forecasting.",
                                                           "A good quarter.",
                                                           reconciliation_note, ratings),
                 expected_version=None)
    submit_manager(review.manager, review)
    db.session.commit()


def shared(review: Review, hr) -> None:
    self_done(review)
    manager_done(review)
    decisions.share(hr, review)
    db.session.commit()


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
