"""Peer feedback: who was asked about a review, and what they answered.

An answer is one row per competency, keyed by the review (for the lock on finalised reviews and
for the aggregate) and by the request it answers (so that HR can see who answered). Pages for
the rep and the manager read answers by review only and never by request: nothing they see
carries the author. No timestamp is kept per answer.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviewapp.auth.models import User
from reviewapp.cycles.models import CycleCompetency
from reviewapp.extensions import db
from reviewapp.model_types import enum_column, utcnow
from reviewapp.reviews.models import Review


class PeerRequestState(enum.StrEnum):
    PROPOSED = "proposed"    # nominated by the rep, waiting for the manager
    REQUESTED = "requested"  # the manager approved (or added) it: the peer is asked
    ANSWERED = "answered"
    DECLINED = "declined"    # the peer said no, with a reason
    REMOVED = "removed"      # the manager took the nomination off before asking

    @property
    def label(self) -> str:
        return {"proposed": "waiting for the manager's approval", "requested": "asked",
                "answered": "answered", "declined": "declined",
                "removed": "removed by the manager"}[self.value]


S = PeerRequestState
# Requests that hold a place among the review's peers (at most the cycle's number of reviewers).
HOLDING = (S.PROPOSED, S.REQUESTED, S.ANSWERED)
# The peer was asked: they may open the request (to answer, decline or read their answer).
ASKED = (S.REQUESTED, S.ANSWERED, S.DECLINED)


class PeerRequest(db.Model):
    """One colleague asked (or proposed to be asked) for feedback on one review."""

    __tablename__ = "peer_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"),
                                           index=True)
    peer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    state: Mapped[PeerRequestState] = mapped_column(
        enum_column(PeerRequestState, "peer_request_state"), default=S.PROPOSED)
    nominated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    decline_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    review: Mapped[Review] = relationship()
    peer: Mapped[User] = relationship(foreign_keys=[peer_id])
    answers: Mapped[list[PeerAnswer]] = relationship(
        back_populates="request", cascade="all, delete-orphan",
        order_by="PeerAnswer.cycle_competency_id")

    __table_args__ = (
        sa.UniqueConstraint("review_id", "peer_id", name="uq_peer_requests_review_peer"),
        sa.CheckConstraint("state != 'declined' OR length(decline_reason) > 0",
                           "decline_has_reason"),
    )


class PeerAnswer(db.Model):
    """A peer's rating of one competency (None: not observed), with the example behind it."""

    __tablename__ = "peer_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"),
                                           index=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("peer_requests.id", ondelete="CASCADE"))
    cycle_competency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cycle_competencies.id", ondelete="CASCADE"))
    rating: Mapped[int | None]
    example: Mapped[str] = mapped_column(sa.Text, default="")

    request: Mapped[PeerRequest] = relationship(back_populates="answers")
    cycle_competency: Mapped[CycleCompetency] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("request_id", "cycle_competency_id", name="uq_peer_answers_pair"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", "rating_range"),
        sa.CheckConstraint("rating IS NULL OR length(example) > 0", "rating_has_example"),
    )
