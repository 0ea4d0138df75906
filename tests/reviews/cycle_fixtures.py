"""Fixtures of the cycle tests: metrics whose KPI status rests on a hand-written validation run
(no statsmodels, so the tests stay fast), and the editor's form data.

The fixture `kpis` is defined as `kpis_fixture`; import it explicitly:
`from tests.reviews.cycle_fixtures import kpis_fixture  # noqa: F401`.
"""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.extensions import db
from reviewapp.kpis.models import RunScope, ValidationCandidate, ValidationRun
from reviewapp.metrics.catalogue import add_metric
from reviewapp.metrics.models import KpiStatus, Metric

MEETINGS_SENTENCE = ("Within the same rep, one more meeting in a quarter goes with $2,480 more "
                     "revenue (95% CI 1,900 to 3,050; q = 0.0004).")


def activity(key: str, name: str, *, status: KpiStatus = KpiStatus.CANDIDATE,
             unit: str = "", rollup: str = "sum") -> Metric:
    """An activity metric with the given KPI status (set directly, as the brief allows)."""
    metric = add_metric(None, key=key, name=name, kind="activity", direction="higher",
                        rollup=rollup, unit=unit)
    metric.kpi_status = status
    return metric


def record_run(outcome: Metric, decided: list[tuple[Metric, str, str, str]]) -> ValidationRun:
    """An organisation-wide run that moved each (metric, before, after, sentence)."""
    run = ValidationRun(
        source="cli", scope=RunScope.ORGANISATION, scope_label="Whole organisation",
        counts_for_status=True, outcome_metric_id=outcome.id, outcome_key=outcome.key,
        primary_outcome_key=outcome.key, candidate_keys=[m.key for m, *_ in decided],
        grain="quarter", lag=0, window_periods=8, params={}, fingerprint="0" * 64,
        versions={}, n_reps=16, n_obs=128, n_periods=8, df_resid=100,
        decisions={m.key: after for m, _, after, _ in decided},
        status_changes={m.key: [before, after] for m, before, after, _ in decided})
    db.session.add(run)
    db.session.flush()
    for position, (metric, before, after, sentence) in enumerate(decided):
        db.session.add(ValidationCandidate(
            run_id=run.id, metric_id=metric.id, metric_key=metric.key, metric_name=metric.name,
            position=position, direction="higher", decision=after, reason="test",
            sentence=sentence, n_reps=16, n_obs=128, q=0.0004 if after == "kpi" else 0.6,
            status_before=before, status_after=after))
    db.session.flush()
    return run


@pytest.fixture(name="kpis")
def kpis_fixture(org):
    """Meetings and proposals are KPIs (by run #1); calls per day is not predictive."""
    revenue = add_metric(None, key="revenue", name="Revenue", kind="outcome",
                         direction="higher", rollup="sum", unit="$")
    meetings = activity("meetings", "Meetings", status=KpiStatus.KPI, unit="meetings")
    proposals = activity("proposals", "Proposals", status=KpiStatus.KPI, unit="proposals")
    calls = activity("calls_per_day", "Calls per day", status=KpiStatus.NOT_PREDICTIVE,
                     unit="calls", rollup="mean")
    run = record_run(revenue, [
        (meetings, "candidate", "kpi", MEETINGS_SENTENCE),
        (proposals, "candidate", "kpi", "Proposals predict revenue within rep."),
        (calls, "candidate", "not_predictive", "Calls per day do not predict revenue."),
    ])
    db.session.commit()
    return SimpleNamespace(org=org, revenue=revenue, meetings=meetings, proposals=proposals,
                           calls=calls, run=run)


def cycle_form(org, kpi_rows=(), **overrides) -> dict:
    """POST data for the cycle editor: team Alpha, every default competency, the given
    KPI rows as (metric, target, weight)."""
    competencies = ensure_default_competencies()
    db.session.commit()
    start = date.today() + timedelta(days=10)
    data = {
        "name": "Q3 2026 reviews", "period": "2026-Q3",
        "self_due": start.isoformat(), "manager_due": (start + timedelta(days=14)).isoformat(),
        "calibration_due": (start + timedelta(days=28)).isoformat(),
        "acknowledgement_due": (start + timedelta(days=42)).isoformat(),
        "quant_weight": "0.5", "band_2": "70", "band_3": "90", "band_4": "100",
        "band_5": "115", "teams": [str(org.team.id)], "people": [],
        "competencies": [str(c.id) for c in competencies],
        "kpi": [str(m.id) for m, _, _ in kpi_rows],
    }
    for metric, target, weight in kpi_rows:
        data[f"target_{metric.id}"] = str(target)
        data[f"weight_{metric.id}"] = str(weight)
    data.update(overrides)
    return data
