"""KPI status: how a counted validation run, or HR by hand, moves a metric's status.

Rules (DESIGN.md, issue #5):
- Only organisation-wide runs against the primary outcome move statuses ("counted" runs).
- candidate / not_predictive / insufficient_data take the run's decision, except that a run
  without enough data never overturns an earlier verdict (not_predictive stays).
- kpi: a pass keeps it; a failure makes it under_review. Insufficient data also makes it
  under_review: a KPI that can no longer be checked must not keep scoring unexamined.
- under_review: a pass makes it kpi again; a second failure makes it not_predictive;
  insufficient data gives no verdict, so it stays under_review.
- retired: only HR retires and reinstates (to candidate), with a written reason. Retired and
  archived metrics are not validated.
"""

from __future__ import annotations

from reviewapp.audit.services import record
from reviewapp.auth.models import User
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.metrics.models import KpiStatus, Metric, MetricKind

PASS, FAIL, NO_VERDICT = "kpi", "not_predictive", "insufficient_data"


def next_status(current: KpiStatus, decision: str) -> KpiStatus:
    """The status after a counted run with this decision for the metric."""
    if decision not in (PASS, FAIL, NO_VERDICT):
        raise ValueError(f"unknown decision {decision!r}")
    if current == KpiStatus.RETIRED:
        return current
    if current == KpiStatus.KPI:
        return KpiStatus.KPI if decision == PASS else KpiStatus.UNDER_REVIEW
    if current == KpiStatus.UNDER_REVIEW:
        return {PASS: KpiStatus.KPI, FAIL: KpiStatus.NOT_PREDICTIVE,
                NO_VERDICT: KpiStatus.UNDER_REVIEW}[decision]
    if current == KpiStatus.NOT_PREDICTIVE and decision == NO_VERDICT:
        return current
    return KpiStatus(decision)


def change_status(actor: User | None, metric: Metric, new: KpiStatus, *, run_id: int | None,
                  reason: str) -> None:
    """Set a metric's status and audit it (with the run that caused it, if any)."""
    before = metric.kpi_status
    if before == new:
        return
    metric.kpi_status = new
    record(actor, "kpi.status", "metric", metric.id,
           before={"kpi_status": before.value if before else None},
           after={"kpi_status": new.value, "run_id": run_id}, reason=reason)


def retire(actor: User, metric: Metric, reason: str) -> None:
    """HR takes a metric out of KPI validation and scoring, with a written reason."""
    _check_by_hand(metric, reason)
    if metric.kpi_status == KpiStatus.RETIRED:
        raise ServiceError(f"{metric.name} is already retired.")
    change_status(actor, metric, KpiStatus.RETIRED, run_id=None, reason=reason.strip())
    db.session.flush()


def reinstate(actor: User, metric: Metric, reason: str) -> None:
    """HR brings a retired metric back as a candidate; it needs a new run to become a KPI."""
    _check_by_hand(metric, reason)
    if metric.kpi_status != KpiStatus.RETIRED:
        raise ServiceError(f"{metric.name} is not retired.")
    change_status(actor, metric, KpiStatus.CANDIDATE, run_id=None, reason=reason.strip())
    db.session.flush()


def _check_by_hand(metric: Metric, reason: str) -> None:
    if metric.kind != MetricKind.ACTIVITY:
        raise ServiceError("Only activity metrics have a KPI status.")
    if len((reason or "").strip()) < 10:
        raise ServiceError("Write a reason of at least 10 characters.", field="reason")
