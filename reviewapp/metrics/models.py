"""The metric catalogue, observations (one value per rep, metric and period) and import batches."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviewapp.auth.models import User
from reviewapp.extensions import db
from reviewapp.model_types import enum_column, utcnow


class MetricKind(enum.StrEnum):
    ACTIVITY = "activity"
    OUTCOME = "outcome"


class Direction(enum.StrEnum):
    HIGHER = "higher"
    LOWER = "lower"

    @property
    def label(self) -> str:
        return "higher is better" if self is Direction.HIGHER else "lower is better"


class Rollup(enum.StrEnum):
    SUM = "sum"
    MEAN = "mean"
    LAST = "last"


class KpiStatus(enum.StrEnum):
    CANDIDATE = "candidate"
    KPI = "kpi"
    NOT_PREDICTIVE = "not_predictive"  # the data rule out an effect worth scoring
    INCONCLUSIVE = "inconclusive"  # not shown with this much data (or only provisionally)
    INSUFFICIENT_DATA = "insufficient_data"
    UNDER_REVIEW = "under_review"
    RETIRED = "retired"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize().replace("Kpi", "KPI")


class BatchStatus(enum.StrEnum):
    APPLIED = "applied"
    UNDONE = "undone"


class Metric(db.Model):
    __tablename__ = "metrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    unit: Mapped[str] = mapped_column(sa.String(32), default="")
    kind: Mapped[MetricKind] = mapped_column(enum_column(MetricKind, "metric_kind"))
    direction: Mapped[Direction] = mapped_column(enum_column(Direction, "direction"))
    rollup: Mapped[Rollup] = mapped_column(enum_column(Rollup, "rollup"))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # Only activity metrics carry a KPI status; outcome metrics are what KPIs must predict.
    kpi_status: Mapped[KpiStatus | None] = mapped_column(enum_column(KpiStatus, "kpi_status"))
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'activity' AND kpi_status IS NOT NULL) OR "
            "(kind = 'outcome' AND kpi_status IS NULL)",
            "status_only_for_activity",
        ),
    )

    @property
    def is_kpi(self) -> bool:
        return self.kpi_status == KpiStatus.KPI

    def __repr__(self) -> str:
        return f"<Metric {self.key}>"


class ImportBatch(db.Model):
    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    source: Mapped[str] = mapped_column(sa.String(16))  # web, cli, api, demo
    filename: Mapped[str] = mapped_column(sa.String(255))
    checksum: Mapped[str] = mapped_column(sa.String(64), index=True)
    layout: Mapped[str] = mapped_column(sa.String(8))
    row_count: Mapped[int] = mapped_column(default=0)
    new_count: Mapped[int] = mapped_column(default=0)
    changed_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    status: Mapped[BatchStatus] = mapped_column(
        enum_column(BatchStatus, "batch_status"), default=BatchStatus.APPLIED
    )
    undone_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    undone_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    undone_by: Mapped[User | None] = relationship(foreign_keys=[undone_by_id])


class Observation(db.Model):
    __tablename__ = "observations"

    id: Mapped[int] = mapped_column(primary_key=True)
    rep_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    metric_id: Mapped[int] = mapped_column(sa.ForeignKey("metrics.id", ondelete="CASCADE"),
                                           index=True)
    grain: Mapped[str] = mapped_column(sa.String(8))
    period_start: Mapped[date]
    value: Mapped[float] = mapped_column(sa.Float)
    batch_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("import_batches.id", ondelete="SET NULL"), index=True
    )

    rep: Mapped[User] = relationship()
    metric: Mapped[Metric] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("rep_id", "metric_id", "grain", "period_start",
                            name="uq_observations_rep_metric_period"),
        sa.CheckConstraint("grain IN ('day', 'week', 'month', 'quarter')", "grain"),
    )


class ReplacedValue(db.Model):
    """A value an import overwrote, kept so that undoing the import can bring it back."""

    __tablename__ = "replaced_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("import_batches.id", ondelete="CASCADE"), index=True
    )
    rep_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    metric_id: Mapped[int] = mapped_column(sa.ForeignKey("metrics.id", ondelete="CASCADE"))
    grain: Mapped[str] = mapped_column(sa.String(8))
    period_start: Mapped[date]
    old_value: Mapped[float] = mapped_column(sa.Float)
    old_batch_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("import_batches.id", ondelete="SET NULL")
    )


class MetricRollup(db.Model):
    """One metric of one rep over one quarter, or a month rolled up from days or weeks (a
    month stored as such is read from the observations), under every rule (sum, mean, latest
    value), so that pages read a period with SQL instead of rolling observations up on every
    request, and a metric's rule (or a cycle's frozen one) picks a column. Kept equal to a
    recomputation by reviewapp.metrics.rollups, in the same transaction as every import and
    undo."""

    __tablename__ = "metric_rollups"

    rep_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                        primary_key=True)
    metric_id: Mapped[int] = mapped_column(sa.ForeignKey("metrics.id", ondelete="CASCADE"),
                                           primary_key=True)
    grain: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    period_start: Mapped[date] = mapped_column(primary_key=True)
    sum_value: Mapped[float] = mapped_column(sa.Float)
    mean_value: Mapped[float] = mapped_column(sa.Float)
    last_value: Mapped[float] = mapped_column(sa.Float)
    n: Mapped[int] = mapped_column()  # observations rolled into it (at the coarsest grain)

    __table_args__ = (
        sa.CheckConstraint("grain IN ('month', 'quarter')", "grain"),
        sa.CheckConstraint("n > 0", "n_positive"),
        sa.Index("ix_metric_rollups_grain_period", "grain", "period_start"),
    )
