"""Reviews: one per rep per cycle, with competency ratings, KPI scores and the workflow state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviewapp.auth.models import User
from reviewapp.cycles.models import Cycle, CycleCompetency, CycleKpi
from reviewapp.extensions import db
from reviewapp.model_types import enum_column, utcnow
from reviewapp.reviews import lock
from reviewapp.reviews.states import ReviewState


@dataclass(frozen=True)
class Deadline:
    label: str
    due: date

    def overdue(self, today: date | None = None) -> bool:
        return (today or date.today()) > self.due


# The one place that says which of a cycle's deadlines the current step of a review has.
DEADLINES = {
    ReviewState.NOT_STARTED: ("Self-assessment due", "self_due"),
    ReviewState.SELF_REVIEW: ("Self-assessment due", "self_due"),
    ReviewState.MANAGER_REVIEW: ("Manager review due", "manager_due"),
    ReviewState.CALIBRATION: ("Calibration due", "calibration_due"),
    ReviewState.SHARED: ("Acknowledgement due", "acknowledgement_due"),
}

AFTER_SELF = ("manager_review", "calibration", "shared", "acknowledged", "finalized")
AFTER_MANAGER = ("calibration", "shared", "acknowledged", "finalized")
AFTER_CALIBRATION = ("shared", "acknowledged", "finalized")


class Review(db.Model):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycles.id", ondelete="CASCADE"))
    rep_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    state: Mapped[ReviewState] = mapped_column(
        enum_column(ReviewState, "review_state"), default=ReviewState.NOT_STARTED
    )
    version: Mapped[int] = mapped_column(default=1)

    # The rep's side.
    achievements: Mapped[str] = mapped_column(sa.Text, default="")
    goals_reflection: Mapped[str] = mapped_column(sa.Text, default="")
    development_wishes: Mapped[str] = mapped_column(sa.Text, default="")
    self_submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    self_skipped: Mapped[bool] = mapped_column(default=False)

    # The manager's side.
    strengths: Mapped[str] = mapped_column(sa.Text, default="")
    development_areas: Mapped[str] = mapped_column(sa.Text, default="")
    overall_comment: Mapped[str] = mapped_column(sa.Text, default="")
    reconciliation_note: Mapped[str] = mapped_column(sa.Text, default="")
    manager_submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # 1 low, 2 medium, 3 high: the manager's view of potential, for calibration's 9-box.
    potential: Mapped[int | None]

    # Sharing, the rep's answer and the lock.
    shared_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    conversation_requested_at: Mapped[datetime | None] = mapped_column(
        sa.DateTime(timezone=True))
    conversation_note: Mapped[str] = mapped_column(sa.Text, default="")
    finalized_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finalized_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    # Scores as last computed (the scoring service is the only writer).
    quant_score: Mapped[float | None] = mapped_column(sa.Float)
    qual_score: Mapped[float | None] = mapped_column(sa.Float)
    overall_score: Mapped[float | None] = mapped_column(sa.Float)
    effective_quant_weight: Mapped[float | None] = mapped_column(sa.Float)

    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    cycle: Mapped[Cycle] = relationship()
    rep: Mapped[User] = relationship(foreign_keys=[rep_id])
    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    ratings: Mapped[list[CompetencyRating]] = relationship(
        back_populates="review", cascade="all, delete-orphan",
        order_by="CompetencyRating.cycle_competency_id")
    kpi_scores: Mapped[list[KpiScore]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="KpiScore.cycle_kpi_id")
    acknowledgements: Mapped[list[Acknowledgement]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="Acknowledgement.id")
    finalized_by: Mapped[User | None] = relationship(foreign_keys=[finalized_by_id])

    @property
    def deadline(self) -> Deadline | None:
        """The deadline of the review's current step, if it has one."""
        if self.state not in DEADLINES:
            return None
        label, attribute = DEADLINES[self.state]
        return Deadline(label, getattr(self.cycle, attribute))

    # Optimistic locking: a save over a newer version fails instead of overwriting it.
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("cycle_id", "rep_id", name="uq_reviews_cycle_rep"),
        sa.CheckConstraint(
            f"state NOT IN {AFTER_SELF} OR self_submitted_at IS NOT NULL OR self_skipped",
            "self_done_before_manager"),
        sa.CheckConstraint(
            f"state NOT IN {AFTER_MANAGER} OR manager_submitted_at IS NOT NULL",
            "manager_done_before_calibration"),
        sa.CheckConstraint(f"state NOT IN {AFTER_CALIBRATION} OR shared_at IS NOT NULL",
                           "shared_before_acknowledged"),
        sa.CheckConstraint("state != 'finalized' OR finalized_at IS NOT NULL",
                           "finalized_has_time"),
        sa.CheckConstraint("potential IS NULL OR potential BETWEEN 1 AND 3", "potential_range"),
    )

    @property
    def acknowledgement(self) -> Acknowledgement | None:
        """The rep's acknowledgement of the review as it now stands (after a reopen, a new one)."""
        current = [a for a in self.acknowledgements if not a.superseded]
        return current[-1] if current else None


class CompetencyRating(db.Model):
    """The rep's and the manager's 1–5 rating of one competency, each with written evidence."""

    __tablename__ = "competency_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"))
    cycle_competency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cycle_competencies.id", ondelete="CASCADE"))
    self_rating: Mapped[int | None]
    self_note: Mapped[str] = mapped_column(sa.Text, default="")
    manager_rating: Mapped[int | None]
    manager_note: Mapped[str] = mapped_column(sa.Text, default="")
    # Calibration keeps the manager's rating and sets the calibrated one beside it.
    calibrated_rating: Mapped[int | None]
    calibration_reason: Mapped[str] = mapped_column(sa.Text, default="")
    calibrated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    calibrated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    review: Mapped[Review] = relationship(back_populates="ratings")
    calibrated_by: Mapped[User | None] = relationship(foreign_keys=[calibrated_by_id])
    cycle_competency: Mapped[CycleCompetency] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("review_id", "cycle_competency_id", name="uq_competency_ratings_pair"),
        sa.CheckConstraint("self_rating IS NULL OR self_rating BETWEEN 1 AND 5", "self_range"),
        sa.CheckConstraint("manager_rating IS NULL OR manager_rating BETWEEN 1 AND 5",
                           "manager_range"),
        sa.CheckConstraint("calibrated_rating IS NULL OR calibrated_rating BETWEEN 1 AND 5",
                           "calibrated_range"),
        sa.CheckConstraint(
            "calibrated_rating IS NULL OR length(calibration_reason) > 0",
            "calibration_needs_reason"),
    )

    @property
    def rating(self) -> int | None:
        """The rating that counts: the calibrated one if calibration changed it."""
        return self.calibrated_rating if self.calibrated_rating is not None \
            else self.manager_rating


class KpiScore(db.Model):
    """One KPI's actual, target, attainment and band score in a review; overrides are explained."""

    __tablename__ = "kpi_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"))
    cycle_kpi_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle_kpis.id", ondelete="CASCADE"))
    actual: Mapped[float | None] = mapped_column(sa.Float)
    target: Mapped[float] = mapped_column(sa.Float)
    attainment: Mapped[float | None] = mapped_column(sa.Float)
    computed_score: Mapped[int | None]
    override_score: Mapped[int | None]
    override_justification: Mapped[str] = mapped_column(sa.Text, default="")
    overridden_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    overridden_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    review: Mapped[Review] = relationship(back_populates="kpi_scores")
    cycle_kpi: Mapped[CycleKpi] = relationship()
    overridden_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("review_id", "cycle_kpi_id", name="uq_kpi_scores_pair"),
        sa.CheckConstraint("override_score IS NULL OR override_score BETWEEN 1 AND 5",
                           "override_range"),
        sa.CheckConstraint(
            "override_score IS NULL OR length(override_justification) > 0",
            "override_needs_justification"),
    )

    @property
    def score(self) -> int | None:
        """The score that counts: the override if there is one, else the computed score."""
        return self.override_score if self.override_score is not None else self.computed_score


class Acknowledgement(db.Model):
    """The rep's "I have read this review" (not "I agree"), with the name as typed and an
    optional comment. Never edited or withdrawn; a reopened review keeps it, superseded."""

    __tablename__ = "review_acknowledgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"),
                                           index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    typed_name: Mapped[str] = mapped_column(sa.String(200))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    acknowledged_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True),
                                                      default=utcnow)
    superseded: Mapped[bool] = mapped_column(default=False)

    review: Mapped[Review] = relationship(back_populates="acknowledgements")
    user: Mapped[User] = relationship()

    __table_args__ = (sa.CheckConstraint("length(typed_name) > 0", "typed_name_present"),)


lock.install_after_create(db.metadata)
