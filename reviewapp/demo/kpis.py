"""Demo step: one policy run (organisation-wide, every candidate) over the demo metric data."""

import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.kpis import queries
from reviewapp.kpis.models import RunScope, ValidationRun
from reviewapp.kpis.runs import run_validation
from reviewapp.kpis.settings import primary_outcome_key
from reviewapp.metrics.catalogue import metric_by_key

SUMMARY_KEY = "kpi validation"


def _summary(run: ValidationRun) -> str:
    decisions = ", ".join(f"{key} {decision}" for key, decision in run.decisions.items())
    return f"run #{run.id}: {decisions}"


def load_kpis(seed: int) -> dict:
    """Validate every candidate against the primary outcome once; later calls change nothing.

    The analysis is deterministic (the bootstrap's seed comes from the data's fingerprint), so
    `seed` is not needed; it is accepted like every step's.
    """
    existing = db.session.scalar(
        sa.select(ValidationRun).where(ValidationRun.scope == RunScope.ORGANISATION)
        .order_by(ValidationRun.id).limit(1))
    if existing is not None:
        return {SUMMARY_KEY: _summary(existing) + " (already there)"}
    outcome = metric_by_key(primary_outcome_key())
    candidates = [m.key for m in queries.lab_candidates()]
    if outcome is None or not candidates:
        return {SUMMARY_KEY: "skipped: no outcome or candidate metrics yet"}
    result = run_validation(None, outcome.key, candidates, source="demo")  # the policy's spec
    return {SUMMARY_KEY: _summary(result.run)}
