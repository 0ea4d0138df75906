"""Stored validation runs built directly (no analysis), for pages and the route matrix."""

import datetime as dt

import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.kpis.models import RunScope, ValidationCandidate, ValidationRun


def create_run(outcome, metric, *, scope=RunScope.ORGANISATION, created_by=None, team=None,
               manager=None, counts=None, teachable=(), coaching=(), decision="kpi",
               status_before=None, status_after=None) -> ValidationRun:
    """A run with one candidate row; `teachable`/`coaching` are users."""
    counts = scope == RunScope.ORGANISATION if counts is None else counts
    run = ValidationRun(
        created_by_id=created_by.id if created_by else None, source="test", scope=scope,
        team_id=team.id if team else None, scope_manager_id=manager.id if manager else None,
        scope_label="Whole organisation" if scope == RunScope.ORGANISATION else "Team",
        counts_for_status=counts, outcome_metric_id=outcome.id, outcome_key=outcome.key,
        primary_outcome_key="revenue", candidate_keys=[metric.key], grain="quarter", lag=0,
        window_periods=8, window_start=dt.date(2024, 1, 1), window_end=dt.date(2025, 10, 1),
        params={"alpha": 0.05, "deviance_threshold": 1.0, "coaching_threshold": -1.0},
        fingerprint="0" * 64, versions={"pandas": "x"}, n_reps=12, n_obs=96, n_periods=8,
        df_resid=80, oos_r2_full=0.3, oos_n_obs=24, holdout_periods=["2025-Q3", "2025-Q4"],
        decisions={metric.key: decision},
        teachable_moments=[{"rep_id": u.id, "score": 1.5, "n_obs": 8} for u in teachable],
        coaching=[{"rep_id": u.id, "score": -1.4, "metrics": [metric.key]} for u in coaching],
        deviance_note="test")
    db.session.add(run)
    db.session.flush()
    db.session.execute(sa.insert(ValidationCandidate), [{
        "run_id": run.id, "metric_id": metric.id, "metric_key": metric.key,
        "metric_name": metric.name, "position": 0, "direction": "higher",
        "decision": decision, "reason": "test reason", "sentence": f"{metric.name} evidence.",
        "n_reps": 12, "n_obs": 96, "coef": 2.0, "ci_low": 1.0, "ci_high": 3.0, "q": 0.01,
        "verdict": decision, "plain": f"{metric.name} evidence in plain words.",
        "status_before": status_before, "status_after": status_after}])
    db.session.commit()
    return run
