"""Competencies and review cycles, with what a cycle freezes at launch."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviewapp.auth.models import Team, User
from reviewapp.extensions import db
from reviewapp.metrics.models import Metric
from reviewapp.model_types import enum_column, utcnow

DEFAULT_BANDS = [0.70, 0.90, 1.00, 1.15]  # attainment thresholds for scores 2, 3, 4, 5


class CycleStatus(enum.StrEnum):
    DRAFT = "draft"
    LAUNCHED = "launched"
    CLOSED = "closed"


class Competency(db.Model):
    """A qualitative dimension HR maintains, with a behavioural anchor for each level 1–5."""

    __tablename__ = "competencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    anchors: Mapped[list[str]] = mapped_column(sa.JSON)  # five texts, for levels 1..5
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


cycle_teams = sa.Table(
    "cycle_teams", db.metadata,
    sa.Column("cycle_id", sa.ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("team_id", sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
)
cycle_people = sa.Table(
    "cycle_people", db.metadata,
    sa.Column("cycle_id", sa.ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Cycle(db.Model):
    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    period_label: Mapped[str] = mapped_column(sa.String(16))  # e.g. 2026-Q3
    period_start: Mapped[date]
    period_end: Mapped[date]
    self_due: Mapped[date]
    manager_due: Mapped[date]
    calibration_due: Mapped[date]
    acknowledgement_due: Mapped[date]
    quant_weight: Mapped[float] = mapped_column(sa.Float, default=0.5)
    bands: Mapped[list[float]] = mapped_column(sa.JSON, default=lambda: list(DEFAULT_BANDS))
    status: Mapped[CycleStatus] = mapped_column(
        enum_column(CycleStatus, "cycle_status"), default=CycleStatus.DRAFT
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    launched_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    launched_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id",
                                                                     ondelete="SET NULL"))
    # Whether reviewing managers may share their reviews themselves after calibration.
    managers_share: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Peer feedback (reviewapp/peers): on or off, at most this many peers per review, answers
    # shown only from this many on (fewer cannot stay anonymous), and the last day to answer.
    peer_feedback: Mapped[bool] = mapped_column(default=False)
    peer_reviewers: Mapped[int] = mapped_column(default=5)
    peer_min_responses: Mapped[int] = mapped_column(default=3)
    peer_due: Mapped[date | None]
    # Moves on with every save of the draft: an editor opened before another save loses.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    teams: Mapped[list[Team]] = relationship(secondary=cycle_teams, order_by="Team.name")
    people: Mapped[list[User]] = relationship(secondary=cycle_people, order_by="User.name")
    kpis: Mapped[list[CycleKpi]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan", order_by="CycleKpi.position"
    )
    competencies: Mapped[list[CycleCompetency]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan", order_by="CycleCompetency.position"
    )

    __table_args__ = (
        sa.CheckConstraint("quant_weight >= 0 AND quant_weight <= 1", "weight_range"),
        sa.CheckConstraint("period_start <= period_end", "period_order"),
        sa.CheckConstraint("peer_min_responses >= 3", "peer_min_range"),
        sa.CheckConstraint("peer_reviewers >= peer_min_responses AND peer_reviewers <= 12",
                           "peer_reviewers_range"),
        sa.CheckConstraint("NOT peer_feedback OR peer_due IS NOT NULL", "peer_due_when_on"),
    )

    @property
    def review_label(self) -> str:
        """'2026-Q3 quarterly review' as it is, 'Bench cycle' as 'Bench cycle review': for
        sentences about one review of the cycle (not 'the 2026-Q3 quarterly review review')."""
        return self.name if self.name.lower().rstrip(" .").endswith("review") else \
            f"{self.name} review"

    @property
    def launched(self) -> bool:
        return self.status != CycleStatus.DRAFT


class CycleKpi(db.Model):
    """A KPI in a cycle's scope, with its target and, from launch, the evidence that made it one."""

    __tablename__ = "cycle_kpis"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycles.id", ondelete="CASCADE"))
    metric_id: Mapped[int] = mapped_column(sa.ForeignKey("metrics.id"))
    target: Mapped[float] = mapped_column(sa.Float)
    weight: Mapped[float] = mapped_column(sa.Float, default=1.0)
    position: Mapped[int] = mapped_column(default=0)
    # Frozen at launch: what the metric meant and why it counted.
    frozen_name: Mapped[str | None] = mapped_column(sa.String(120))
    frozen_unit: Mapped[str | None] = mapped_column(sa.String(32))
    frozen_direction: Mapped[str | None] = mapped_column(sa.String(8))
    frozen_rollup: Mapped[str | None] = mapped_column(sa.String(8))
    evidence_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("validation_runs.id"))
    evidence_candidate_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("validation_candidates.id"))
    evidence_sentence: Mapped[str | None] = mapped_column(sa.Text)
    evidence_q: Mapped[float | None] = mapped_column(sa.Float)

    cycle: Mapped[Cycle] = relationship(back_populates="kpis")
    metric: Mapped[Metric] = relationship()
    targets: Mapped[list[CycleKpiTarget]] = relationship(
        back_populates="cycle_kpi", cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("cycle_id", "metric_id", name="uq_cycle_kpis_cycle_metric"),
        sa.CheckConstraint("target > 0", "target_positive"),
        sa.CheckConstraint("weight > 0", "weight_positive"),
    )

    @property
    def name(self) -> str:
        return self.frozen_name or self.metric.name

    @property
    def direction(self) -> str:
        return self.frozen_direction or self.metric.direction.value

    def target_for(self, rep_id: int) -> float:
        """The rep's own target if set, else the cycle's."""
        for t in self.targets:
            if t.rep_id == rep_id:
                return t.target
        return self.target


class CycleKpiTarget(db.Model):
    """A per-rep target overriding the cycle's target for one KPI."""

    __tablename__ = "cycle_kpi_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_kpi_id: Mapped[int] = mapped_column(sa.ForeignKey("cycle_kpis.id", ondelete="CASCADE"))
    rep_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    target: Mapped[float] = mapped_column(sa.Float)

    cycle_kpi: Mapped[CycleKpi] = relationship(back_populates="targets")

    __table_args__ = (
        sa.UniqueConstraint("cycle_kpi_id", "rep_id", name="uq_cycle_kpi_targets_kpi_rep"),
        sa.CheckConstraint("target > 0", "target_positive"),
    )


class CycleCompetency(db.Model):
    """A competency in a cycle; name, meaning and anchors are copied at launch."""

    __tablename__ = "cycle_competencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycles.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(sa.ForeignKey("competencies.id"))
    position: Mapped[int] = mapped_column(default=0)
    frozen_name: Mapped[str | None] = mapped_column(sa.String(80))
    frozen_description: Mapped[str | None] = mapped_column(sa.Text)
    frozen_anchors: Mapped[list[str] | None] = mapped_column(sa.JSON)

    cycle: Mapped[Cycle] = relationship(back_populates="competencies")
    competency: Mapped[Competency] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("cycle_id", "competency_id", name="uq_cycle_competencies_pair"),
    )

    @property
    def name(self) -> str:
        return self.frozen_name or self.competency.name

    @property
    def description(self) -> str:
        return self.frozen_description if self.frozen_name else self.competency.description

    @property
    def anchors(self) -> list[Any]:
        return self.frozen_anchors or self.competency.anchors
