"""KPI status: how a policy run, or HR by hand, moves a metric's status.

Rules (DESIGN.md, issues #5 and #11):
- Only policy runs move statuses (organisation-wide, primary outcome, HR's validation policy,
  every active candidate, not a dry run).
- A run's verdict per candidate is kpi (passed at both of the last two period ends),
  provisional (passed at the latest end only), not_predictive (the interval rules out any
  effect worth scoring), inconclusive (not shown with this much data) or insufficient_data.
- candidate / not_predictive / inconclusive / insufficient_data take the verdict; provisional
  becomes inconclusive (shown as provisional, not scoring, until the next period confirms);
  a run without enough data never overturns an earlier verdict.
- kpi: a pass (confirmed or at the latest end) keeps it; its first failure makes it
  under_review; insufficient data too (a KPI that cannot be checked must not keep scoring
  unexamined).
- under_review: a confirmed pass makes it kpi again; provisional or insufficient data leave
  it under review; a second failure gives the verdict (not_predictive or inconclusive).
- retired: only HR retires and reinstates (to candidate), with a written reason. Retired and
  archived metrics are not validated.
"""

from __future__ import annotations

from reviewapp.audit.services import record
from reviewapp.auth.models import User
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.metrics.models import KpiStatus, Metric, MetricKind

PASS, PROVISIONAL, FAIL, UNSHOWN, NO_VERDICT = (
    "kpi", "provisional", "not_predictive", "inconclusive", "insufficient_data")
VERDICTS = (PASS, PROVISIONAL, FAIL, UNSHOWN, NO_VERDICT)


def next_status(current: KpiStatus, verdict: str, *, new_evidence: bool = True) -> KpiStatus:
    """The status after a policy run with this verdict for the metric. `new_evidence`: the run
    ends at a later period than the one that put the metric under review; a KPI under review
    takes a failing verdict only from the *next* run (the same data again, a second click or
    a cron job, confirmed nothing new)."""
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}")
    if current == KpiStatus.RETIRED:
        return current
    if current == KpiStatus.KPI:
        return KpiStatus.KPI if verdict in (PASS, PROVISIONAL) else KpiStatus.UNDER_REVIEW
    if current == KpiStatus.UNDER_REVIEW:
        if verdict in (PROVISIONAL, NO_VERDICT):
            return current
        if verdict != PASS and not new_evidence:
            return current
        return KpiStatus(verdict)
    if verdict == NO_VERDICT and current in (KpiStatus.NOT_PREDICTIVE, KpiStatus.INCONCLUSIVE):
        return current
    if verdict == PROVISIONAL:
        return KpiStatus.INCONCLUSIVE
    return KpiStatus(verdict)


STATUS_WORDS = {
    KpiStatus.CANDIDATE: "candidate: not validated yet",
    KpiStatus.KPI: "KPI",
    KpiStatus.NOT_PREDICTIVE: "not predictive: the data rule out an effect worth scoring",
    KpiStatus.INCONCLUSIVE: "inconclusive: not shown with this much data",
    KpiStatus.INSUFFICIENT_DATA: "insufficient data for a verdict",
    KpiStatus.UNDER_REVIEW: "under review: the latest validation did not confirm it",
    KpiStatus.RETIRED: "retired by HR",
}


def status_words(metric: Metric) -> str:
    """The metric's KPI status in a few plain words (for the launch check and warnings)."""
    return STATUS_WORDS.get(metric.kpi_status, "an outcome") if metric.kpi_status else (
        "an outcome")


def under_review_since(metrics) -> dict[str, object]:
    """metric key → the window end of the run that put it under review, for those under
    review (from the audit of their status changes)."""
    from reviewapp.audit.models import AuditEvent
    from reviewapp.kpis.models import ValidationRun

    waiting = {m.id: m.key for m in metrics if m.kpi_status == KpiStatus.UNDER_REVIEW}
    if not waiting:
        return {}
    found: dict[str, object] = {}
    events = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "kpi.status",
                                    AuditEvent.entity_type == "metric",
                                    AuditEvent.entity_id.in_(list(waiting)))
        .order_by(AuditEvent.id.desc()))
    for event in events:
        key = waiting.get(event.entity_id)
        after = event.after or {}
        if key in found or after.get("kpi_status") != KpiStatus.UNDER_REVIEW.value:
            continue
        run = db.session.get(ValidationRun, after.get("run_id")) if after.get("run_id") else None
        found[key] = run.window_end if run is not None else None
    return found


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
