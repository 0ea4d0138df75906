"""Reading runs and evidence back: for pages, for the rep's KPI list, for review cycles."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from reviewapp import policy
from reviewapp.audit.models import AuditEvent
from reviewapp.auth.models import Role, User
from reviewapp.extensions import db
from reviewapp.kpis.models import ValidationCandidate, ValidationRun
from reviewapp.metrics.models import KpiStatus, Metric, MetricKind


def visible_runs(actor: User, limit: int = 200) -> list[ValidationRun]:
    """Runs the actor may see (policy.visible_runs_clause), newest first."""
    query = (sa.select(ValidationRun)
             .options(joinedload(ValidationRun.created_by),
                      joinedload(ValidationRun.outcome_metric))
             .where(policy.visible_runs_clause(actor)))
    return list(db.session.scalars(query.order_by(ValidationRun.id.desc()).limit(limit)))


def metric_names(runs: Iterable[ValidationRun]) -> dict[str, str]:
    """Display name of every metric key the runs decided on (one statement); a run keeps keys."""
    keys = {key for run in runs for key in run.decisions}
    if not keys:
        return {}
    return dict(db.session.execute(
        sa.select(Metric.key, Metric.name).where(Metric.key.in_(keys))).all())


def run_with_candidates(run_id: int) -> ValidationRun | None:
    """A run with its candidate rows, creator and outcome loaded (3 statements)."""
    return db.session.scalar(
        sa.select(ValidationRun).where(ValidationRun.id == run_id).options(
            selectinload(ValidationRun.candidates), joinedload(ValidationRun.created_by),
            joinedload(ValidationRun.outcome_metric), joinedload(ValidationRun.team)))


def candidate_in_run(run_id: int, metric_id: int) -> ValidationCandidate | None:
    """Metric X's evidence in run N (its sentence, numbers and decision)."""
    return db.session.scalar(sa.select(ValidationCandidate).where(
        ValidationCandidate.run_id == run_id, ValidationCandidate.metric_id == metric_id))


def _latest_counted(metric_ids: Iterable[int], *conditions) -> dict[int, ValidationCandidate]:
    ids = list(metric_ids)
    if not ids:
        return {}
    latest = (sa.select(ValidationCandidate.metric_id,
                        sa.func.max(ValidationCandidate.run_id).label("run_id"))
              .where(ValidationCandidate.metric_id.in_(ids),
                     ValidationCandidate.status_after.is_not(None), *conditions)
              .group_by(ValidationCandidate.metric_id).subquery())
    rows = db.session.scalars(
        sa.select(ValidationCandidate)
        .join(latest, sa.and_(ValidationCandidate.metric_id == latest.c.metric_id,
                              ValidationCandidate.run_id == latest.c.run_id))
        .options(joinedload(ValidationCandidate.run)))
    return {row.metric_id: row for row in rows}


def kpi_evidence(metric_ids: Iterable[int]) -> dict[int, ValidationCandidate]:
    """Per metric, its row in the latest counted run that found it a KPI (made or confirmed)."""
    return _latest_counted(metric_ids, ValidationCandidate.status_after == KpiStatus.KPI.value)


def made_kpi_by(metric_id: int) -> ValidationCandidate | None:
    """The row of the run that last made this metric a KPI (from any other status)."""
    return _latest_counted([metric_id],
                           ValidationCandidate.status_after == KpiStatus.KPI.value,
                           ValidationCandidate.status_before != KpiStatus.KPI.value
                           ).get(metric_id)


def decided_by(metric_ids: Iterable[int]) -> dict[int, ValidationCandidate]:
    """Per metric, its row in the latest counted run (the one its status now rests on)."""
    return _latest_counted(metric_ids)


def current_kpis() -> list[tuple[Metric, ValidationCandidate | None]]:
    """Metrics that are KPIs now, with the evidence from the run that last confirmed them."""
    metrics = list(db.session.scalars(
        sa.select(Metric).where(Metric.kind == MetricKind.ACTIVITY,
                                Metric.kpi_status == KpiStatus.KPI,
                                sa.not_(Metric.archived)).order_by(Metric.name)))
    evidence = kpi_evidence(m.id for m in metrics)
    return [(m, evidence.get(m.id)) for m in metrics]


def history_of(metric: Metric) -> list[tuple[ValidationCandidate, ValidationRun]]:
    """Every run that tested the metric, oldest first."""
    rows = db.session.execute(
        sa.select(ValidationCandidate, ValidationRun)
        .join(ValidationRun, ValidationRun.id == ValidationCandidate.run_id)
        .where(ValidationCandidate.metric_id == metric.id)
        .options(joinedload(ValidationRun.created_by), joinedload(ValidationRun.outcome_metric))
        .order_by(ValidationRun.id)).all()
    return [(c, r) for c, r in rows]


@dataclass(frozen=True)
class StatusEvent:
    at: datetime
    before: str | None
    after: str
    run_id: int | None
    actor: str
    reason: str | None


def status_timeline(metric: Metric) -> list[StatusEvent]:
    """The metric's KPI statuses over time, from the audit log (creation, runs, HR)."""
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "metric",
                                    AuditEvent.entity_id == metric.id,
                                    AuditEvent.action.in_(["metric.create", "kpi.status"]))
        .options(joinedload(AuditEvent.actor)).order_by(AuditEvent.at, AuditEvent.id))
    out = []
    for e in events:
        after = (e.after or {}).get("kpi_status")
        if after is None:
            continue
        out.append(StatusEvent(e.at, (e.before or {}).get("kpi_status"), after,
                               (e.after or {}).get("run_id"),
                               e.actor.name if e.actor else "the system", e.reason))
    return out


EXPLORATORY_DAYS = 30


def exploratory_before(run: ValidationRun, days: int = EXPLORATORY_DAYS) -> list[ValidationRun]:
    """Exploratory runs (dry runs included) on the same outcome in the `days` before `run`.

    Listed on a run's page, so that a specification search is visible to whoever reads it.
    """
    since = run.created_at - timedelta(days=days)
    return list(db.session.scalars(
        sa.select(ValidationRun).options(joinedload(ValidationRun.created_by))
        .where(ValidationRun.outcome_metric_id == run.outcome_metric_id,
               sa.not_(ValidationRun.counts_for_status), ValidationRun.id != run.id,
               ValidationRun.created_at >= since, ValidationRun.created_at <= run.created_at)
        .order_by(ValidationRun.id.desc())))


def provisional_ids(metric_ids: Iterable[int]) -> set[int]:
    """Metrics whose latest policy run passed them at the latest period end only."""
    return {mid for mid, row in decided_by(metric_ids).items() if row.verdict == "provisional"}


def reps_by_id(ids: Iterable[int]) -> dict[int, User]:
    """Users by id, in one statement."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}


def lab_candidates() -> list[Metric]:
    """Activity metrics that may be validated: not archived, not retired."""
    return list(db.session.scalars(
        sa.select(Metric).where(Metric.kind == MetricKind.ACTIVITY, sa.not_(Metric.archived),
                                Metric.kpi_status != KpiStatus.RETIRED).order_by(Metric.name)))


def rep_count() -> int:
    """Reps in the organisation (for the lab page)."""
    return db.session.scalar(sa.select(sa.func.count()).where(User.role == Role.REP)) or 0
