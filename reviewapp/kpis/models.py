"""KPI validation: runs (never edited), their per-candidate evidence, behaviour notes, settings.

A `ValidationRun` and its `ValidationCandidate` rows are written once, in the request or command
that ran the analysis, and never changed or deleted afterwards: the ORM refuses (see the event
listeners at the end). That is what lets anyone, later, see exactly why a number counts.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from reviewapp.auth.models import Team, User
from reviewapp.extensions import db
from reviewapp.metrics.models import Metric
from reviewapp.model_types import enum_column, utcnow


class RunScope(enum.StrEnum):
    ORGANISATION = "organisation"  # every rep; may change KPI statuses
    TEAM = "team"  # one team's reps; exploratory
    MANAGER = "manager"  # everyone below a manager; exploratory

    @property
    def label(self) -> str:
        return {"organisation": "Whole organisation", "team": "Team",
                "manager": "Manager's reps"}[self.value]


class ProposalStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class OrgSetting(db.Model):
    """Organisation-wide settings as key/value text (e.g. the primary outcome)."""

    __tablename__ = "org_settings"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))


class ValidationPolicy(db.Model):
    """HR's validation specification, fixed in advance. Each change is a new row (history)."""

    __tablename__ = "validation_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    grain: Mapped[str] = mapped_column(sa.String(8))
    lag: Mapped[int] = mapped_column(sa.SmallInteger)
    window_periods: Mapped[int] = mapped_column(sa.SmallInteger)
    period_effects: Mapped[bool] = mapped_column(default=True)
    alpha: Mapped[float] = mapped_column(sa.Float)
    margin: Mapped[float] = mapped_column(sa.Float)  # smallest standardised effect worth scoring
    reason: Mapped[str] = mapped_column(sa.Text, default="")

    created_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("lag IN (0, 1)", "lag"),
        sa.CheckConstraint("grain IN ('month', 'quarter')", "grain"),
        sa.CheckConstraint("alpha > 0 AND alpha < 0.5", "alpha"),
        sa.CheckConstraint("margin > 0", "margin"),
        sa.CheckConstraint("window_periods >= 4", "window"),
    )


class ValidationRun(db.Model):
    """One KPI validation: inputs, data fingerprint, versions, results. Never edited."""

    __tablename__ = "validation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow,
                                                 index=True)
    # None: the system (command line, demo loader).
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(sa.String(16))  # web, cli, demo
    scope: Mapped[RunScope] = mapped_column(enum_column(RunScope, "run_scope"))
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"),
                                                index=True)
    scope_manager_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    scope_label: Mapped[str] = mapped_column(sa.String(200))
    # Whether the run could change KPI statuses: a policy run (organisation-wide, primary
    # outcome, the policy's specification, every active candidate, not a dry run).
    counts_for_status: Mapped[bool] = mapped_column(default=False, index=True)
    policy_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("validation_policies.id"), index=True)  # the policy in force then
    exploratory_reason: Mapped[str | None] = mapped_column(sa.Text)  # why it did not count
    dry_run: Mapped[bool] = mapped_column(default=False)
    period_effects: Mapped[bool] = mapped_column(default=True)
    inference: Mapped[str] = mapped_column(sa.String(16), default="cluster_t")
    n_reps_once: Mapped[int] = mapped_column(default=0)  # reps seen once, left out
    previous_end: Mapped[date | None]  # last period of the window ending one period earlier
    outcome_metric_id: Mapped[int] = mapped_column(sa.ForeignKey("metrics.id"), index=True)
    outcome_key: Mapped[str] = mapped_column(sa.String(64))
    primary_outcome_key: Mapped[str] = mapped_column(sa.String(64))  # at the time of the run
    candidate_keys: Mapped[list[str]] = mapped_column(sa.JSON)
    grain: Mapped[str] = mapped_column(sa.String(8))
    lag: Mapped[int] = mapped_column(sa.SmallInteger)
    window_periods: Mapped[int] = mapped_column(sa.SmallInteger)  # periods asked for
    window_start: Mapped[date | None]
    window_end: Mapped[date | None]  # first day of the last period in the window
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    versions: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    n_reps: Mapped[int]
    n_obs: Mapped[int]
    n_periods: Mapped[int]
    df_resid: Mapped[int | None]
    oos_r2_full: Mapped[float | None] = mapped_column(sa.Float)
    oos_n_obs: Mapped[int] = mapped_column(default=0)
    holdout_periods: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # None when the panel supported a verdict; else why no candidate could get one.
    insufficient_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Decisions by metric key, and the status changes the run made ({key: [before, after]}).
    decisions: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    status_changes: Mapped[dict[str, list[str]]] = mapped_column(sa.JSON, default=dict)
    # [{"rep_id", "score", "n_obs"}] and [{"rep_id", "score", "metrics"}], best first.
    teachable_moments: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    coaching: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    deviance_predictors: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    deviance_note: Mapped[str] = mapped_column(sa.Text, default="")

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    scope_manager: Mapped[User | None] = relationship(foreign_keys=[scope_manager_id])
    team: Mapped[Team | None] = relationship()
    outcome_metric: Mapped[Metric] = relationship()
    policy: Mapped[ValidationPolicy | None] = relationship()
    candidates: Mapped[list[ValidationCandidate]] = relationship(
        back_populates="run", order_by="ValidationCandidate.position", viewonly=True)

    __table_args__ = (
        sa.CheckConstraint("lag IN (0, 1)", "lag"),
        sa.CheckConstraint("grain IN ('month', 'quarter')", "grain"),
        sa.CheckConstraint("NOT counts_for_status OR scope = 'organisation'",
                           "only_org_runs_count"),
        sa.CheckConstraint("NOT (counts_for_status AND dry_run)", "dry_runs_never_count"),
    )

    @property
    def is_exploratory(self) -> bool:
        return not self.counts_for_status

    @property
    def actor_label(self) -> str:
        return self.created_by.name if self.created_by else "the system"

    def __repr__(self) -> str:
        return f"<ValidationRun #{self.id} {self.outcome_key} {self.scope.value}>"


class ValidationCandidate(db.Model):
    """One candidate metric's evidence and decision in one run. Never edited."""

    __tablename__ = "validation_candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("validation_runs.id"))
    metric_id: Mapped[int] = mapped_column(sa.ForeignKey("metrics.id"))
    metric_key: Mapped[str] = mapped_column(sa.String(64))
    metric_name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(sa.SmallInteger)
    direction: Mapped[str] = mapped_column(sa.String(8))
    decision: Mapped[str] = mapped_column(sa.String(32))
    reason: Mapped[str] = mapped_column(sa.Text)
    sentence: Mapped[str] = mapped_column(sa.Text)
    n_reps: Mapped[int]
    n_obs: Mapped[int]
    coef: Mapped[float | None] = mapped_column(sa.Float)
    se_classical: Mapped[float | None] = mapped_column(sa.Float)
    se_cluster: Mapped[float | None] = mapped_column(sa.Float)
    t: Mapped[float | None] = mapped_column(sa.Float)
    p: Mapped[float | None] = mapped_column(sa.Float)
    q: Mapped[float | None] = mapped_column(sa.Float)
    ci_low: Mapped[float | None] = mapped_column(sa.Float)
    ci_high: Mapped[float | None] = mapped_column(sa.Float)
    std_effect: Mapped[float | None] = mapped_column(sa.Float)
    std_ci_low: Mapped[float | None] = mapped_column(sa.Float)
    std_ci_high: Mapped[float | None] = mapped_column(sa.Float)
    mde: Mapped[float | None] = mapped_column(sa.Float)  # standardised, at 80% power
    lead_coef: Mapped[float | None] = mapped_column(sa.Float)  # placebo
    lead_q: Mapped[float | None] = mapped_column(sa.Float)
    placebo_flag: Mapped[bool] = mapped_column(default=False)
    # The decision on the window ending one period earlier, and the verdict of both ends.
    previous_decision: Mapped[str | None] = mapped_column(sa.String(32))
    verdict: Mapped[str] = mapped_column(sa.String(32), default="insufficient_data")
    plain: Mapped[str] = mapped_column(sa.Text, default="")  # the verdict in plain words
    partial_r2: Mapped[float | None] = mapped_column(sa.Float)
    pooled_corr: Mapped[float | None] = mapped_column(sa.Float)
    within_corr: Mapped[float | None] = mapped_column(sa.Float)
    within_sd: Mapped[float | None] = mapped_column(sa.Float)
    oos_gain: Mapped[float | None] = mapped_column(sa.Float)
    trap: Mapped[bool] = mapped_column(default=False)
    trap_note: Mapped[str | None] = mapped_column(sa.Text)
    # The KPI status before and after this run (equal when it changed nothing; both None for
    # exploratory runs). Lets "the run that made X a KPI" be one indexed query.
    status_before: Mapped[str | None] = mapped_column(sa.String(32))
    status_after: Mapped[str | None] = mapped_column(sa.String(32))
    # A small anonymous sample of points for the pooled-versus-within chart.
    chart: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    run: Mapped[ValidationRun] = relationship(back_populates="candidates")
    metric: Mapped[Metric] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("run_id", "metric_id", name="uq_validation_candidates_run_metric"),
        sa.Index("ix_validation_candidates_metric_run", "metric_id", "run_id"),
        sa.CheckConstraint(
            "decision IN ('kpi', 'not_predictive', 'inconclusive', 'insufficient_data')",
            "decision"),
        sa.CheckConstraint(
            "verdict IN ('kpi', 'provisional', 'not_predictive', 'inconclusive', "
            "'insufficient_data')", "verdict"),
    )

    @property
    def provisional(self) -> bool:
        """Passed at the latest period end only: not scoring until the next one confirms."""
        return self.verdict == "provisional"


class BehaviourNote(db.Model):
    """What a teachable-moment rep does differently; may propose a new candidate metric."""

    __tablename__ = "kpi_behaviour_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"),
                                                  index=True)
    rep_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                        index=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("validation_runs.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    proposed_key: Mapped[str | None] = mapped_column(sa.String(64))
    proposed_name: Mapped[str | None] = mapped_column(sa.String(120))
    proposed_description: Mapped[str | None] = mapped_column(sa.Text)
    proposal_status: Mapped[ProposalStatus | None] = mapped_column(
        enum_column(ProposalStatus, "proposal_status"))
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_metric_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("metrics.id", ondelete="SET NULL"))

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    rep: Mapped[User] = relationship(foreign_keys=[rep_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    run: Mapped[ValidationRun] = relationship()
    created_metric: Mapped[Metric | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "(proposed_key IS NULL AND proposal_status IS NULL) OR "
            "(proposed_key IS NOT NULL AND proposal_status IS NOT NULL)",
            "proposal_complete",
        ),
    )

    @property
    def has_proposal(self) -> bool:
        return self.proposal_status is not None


# Never edited: refuse updates and deletes of runs and their candidates in the ORM. ----------


class ImmutableRecordError(RuntimeError):
    """Someone tried to change or delete a validation run or its evidence."""


IMMUTABLE = (ValidationRun, ValidationCandidate, ValidationPolicy)


def _refuse_update(_mapper, _connection, target) -> None:
    # before_update also fires for objects that are dirty only through a collection.
    if Session.object_session(target).is_modified(target, include_collections=False):
        raise ImmutableRecordError(f"{type(target).__name__} rows are never edited.")


def _refuse_delete(_mapper, _connection, target) -> None:
    raise ImmutableRecordError(f"{type(target).__name__} rows are never deleted.")


for _model in IMMUTABLE:
    event.listen(_model, "before_update", _refuse_update)
    event.listen(_model, "before_delete", _refuse_delete)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """Bulk `update(ValidationRun)` / `delete(...)` statements bypass the mapper events."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ in IMMUTABLE:
        raise ImmutableRecordError(f"{mapper.class_.__name__} rows are never edited or deleted.")
