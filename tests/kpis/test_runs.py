"""Runs: what is stored, that it is never edited, panel loading and evidence look-ups."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from reviewapp.analytics import fingerprint
from reviewapp.errors import ServiceError
from reviewapp.kpis import queries
from reviewapp.kpis.models import (
    ImmutableRecordError,
    RunScope,
    ValidationCandidate,
    ValidationRun,
)
from reviewapp.kpis.panel import load_panel, panel_fingerprint
from reviewapp.kpis.runs import Scope, run_validation, singular
from reviewapp.metrics.models import Observation
from tests.kpis.data import ALL_CANDIDATES, CANDIDATES, ensure_metrics


def test_run_stores_every_number_and_its_inputs(sales, db):
    outcome = run_validation(sales.org.hr, "revenue", ALL_CANDIDATES, lag=0)
    db.session.commit()
    db.session.expire_all()
    run = queries.run_with_candidates(outcome.run.id)
    assert run.created_by_id == sales.org.hr.id and run.counts_for_status
    assert run.outcome_key == "revenue" and run.candidate_keys == ALL_CANDIDATES
    assert run.period_effects and run.params["period_effects"] and run.params["margin"] == 0.1
    assert run.inference == "wild_bootstrap" and run.params["seed"] == int(run.fingerprint[:8], 16)
    assert run.previous_end == dt.date(2025, 7, 1) and run.n_reps_once == 0
    assert (run.grain, run.lag, run.window_periods) == ("quarter", 0, 8)
    assert (run.window_start, run.window_end) == (dt.date(2024, 1, 1), dt.date(2025, 10, 1))
    assert run.n_reps == 19 and run.n_obs == 19 * 8 and run.n_periods == 8
    assert run.params["alpha"] == 0.05 and run.params["min_reps"] == 10
    assert {"pandas", "statsmodels"} <= set(run.versions)
    assert run.fingerprint == fingerprint(outcome.panel.frame)
    assert run.decisions == {"calls_per_day": "not_predictive", "emails_sent": "not_predictive",
                             "meetings": "kpi", "proposals": "kpi"}
    assert run.holdout_periods == ["2025-Q3", "2025-Q4"]
    star = next(e for e in run.teachable_moments if e["rep_id"] == sales.star.id)
    assert star["score"] > 1 and run.teachable_moments[0]["rep_id"] == sales.star.id
    assert 0 < star["reliability"] <= 1 and star["n_obs"] == 8
    assert all(set(e) == {"rep_id", "score", "metrics"} for e in run.coaching)
    meetings = next(c for c in run.candidates if c.metric_key == "meetings")
    result = outcome.result.candidate("meetings")
    for name in ("coef", "se_classical", "se_cluster", "p", "q", "ci_low", "ci_high",
                 "partial_r2", "pooled_corr", "within_corr", "oos_gain"):
        assert getattr(meetings, name) == pytest.approx(getattr(result, name)), name
    assert meetings.std_effect == pytest.approx(result.standardised_effect)
    assert meetings.std_ci_low < meetings.std_effect < meetings.std_ci_high
    assert meetings.mde > 0 and meetings.lead_q is not None and not meetings.placebo_flag
    assert (meetings.verdict, meetings.previous_decision) == ("kpi", "kpi")
    assert meetings.sentence.startswith("Within the same rep, one more meeting a quarter goes "
                                        "with about $")
    assert (meetings.status_before, meetings.status_after) == ("candidate", "kpi")
    assert len(meetings.chart["pooled"]["x"]) == run.n_obs
    calls = next(c for c in run.candidates if c.metric_key == "calls_per_day")
    assert calls.sentence.startswith("Calls per day: no clear relation within reps")
    assert calls.std_ci_high < 0.1 and calls.verdict == "not_predictive"


def test_runs_are_never_edited_or_deleted(sales, db):
    run_id = run_validation(None, "revenue", CANDIDATES).run.id
    db.session.commit()
    run = db.session.get(ValidationRun, run_id)
    run.deviance_note = "tampered"
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()
    candidate = db.session.scalars(sa.select(ValidationCandidate)).first()
    candidate.decision = "kpi" if candidate.decision != "kpi" else "not_predictive"
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(ValidationRun, run_id))
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()
    for statement in (sa.update(ValidationRun).values(n_reps=1),
                      sa.delete(ValidationCandidate)):
        with pytest.raises(ImmutableRecordError):
            db.session.execute(statement)
        db.session.rollback()
    db.session.expire_all()
    assert db.session.get(ValidationRun, run_id).deviance_note != "tampered"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ValidationCandidate)) == 3


def test_evidence_lookups(sales, db):
    first = run_validation(None, "revenue").run.id
    mine = run_validation(sales.org.lead, "revenue",
                          scope=Scope(RunScope.MANAGER, manager=sales.org.lead)).run.id
    second = run_validation(None, "revenue").run.id
    db.session.commit()
    meetings = sales.metrics["meetings"]
    assert queries.made_kpi_by(meetings.id).run_id == first
    assert queries.kpi_evidence([meetings.id])[meetings.id].run_id == second
    assert queries.candidate_in_run(first, meetings.id).decision == "kpi"
    kpis = queries.current_kpis()
    assert [(m.key, ev.run_id) for m, ev in kpis] == [("meetings", second),
                                                       ("proposals", second)]
    assert [r.id for _, r in queries.history_of(meetings)] == [first, mine, second]


def test_panel_rolls_monthly_data_up_with_each_metrics_rule(org, db):
    metrics = ensure_metrics()
    rows = []
    for month, (revenue, calls) in enumerate([(10, 30), (20, 40), (30, 50), (40, 60)], start=1):
        start = dt.date(2025, month, 1)
        rows += [{"rep_id": org.rep.id, "metric_id": metrics["revenue"].id, "grain": "month",
                  "period_start": start, "value": revenue},
                 {"rep_id": org.rep.id, "metric_id": metrics["calls_per_day"].id,
                  "grain": "month", "period_start": start, "value": calls}]
    db.session.execute(sa.insert(Observation), rows)
    db.session.commit()
    panel = load_panel(metrics["revenue"], [metrics["calls_per_day"]], "quarter", window=2)
    frame = panel.frame
    assert list(frame.columns) == ["rep", "period", "revenue", "calls_per_day"]
    assert frame["revenue"].tolist() == [60, 40]  # sum
    assert frame["calls_per_day"].tolist() == [40, 60]  # mean
    assert [p.label for p in panel.periods] == ["2025-Q1", "2025-Q2"]
    monthly = load_panel(metrics["revenue"], [metrics["calls_per_day"]], "month", window=2)
    assert monthly.frame["revenue"].tolist() == [30, 40]
    assert monthly.window_start == dt.date(2025, 3, 1)


def test_panel_keeps_only_reps_in_scope_and_in_window(sales, db):
    metrics = sales.metrics
    manager = sales.org.lead  # a manager with data must not enter the panel
    db.session.execute(sa.insert(Observation), [{
        "rep_id": manager.id, "metric_id": metrics["revenue"].id, "grain": "quarter",
        "period_start": dt.date(2025, 10, 1), "value": 1.0}])
    db.session.commit()
    panel = load_panel(metrics["revenue"], [metrics["meetings"]], "quarter", window=4)
    assert manager.id not in set(panel.frame["rep"])
    assert panel.frame["period"].min() == pd.Timestamp("2025-01-01")
    assert len(panel.frame) == 19 * 4
    team = load_panel(metrics["revenue"], [metrics["meetings"]], "quarter",
                      rep_ids=[sales.star.id, sales.org.rep.id])
    assert set(team.frame["rep"]) == {sales.star.id, sales.org.rep.id}


def test_only_hr_or_the_system_runs_organisation_wide(sales, db):
    with pytest.raises(ServiceError) as error:
        run_validation(sales.org.lead, "revenue", CANDIDATES)
    assert error.value.field == "scope"


def test_quarterly_data_cannot_be_read_monthly(sales, db):
    with pytest.raises(ServiceError) as error:
        run_validation(None, "revenue", CANDIDATES, grain="month")
    assert error.value.field == "grain"


@pytest.mark.parametrize("outcome,candidates,field", [
    ("meetings", CANDIDATES, "outcome"),
    ("nope", CANDIDATES, "outcome"),
    ("revenue", [], "candidates"),
    ("revenue", ["new_business"], "candidates"),
    ("revenue", ["meetings", "meetings"], "candidates"),
    ("revenue", ["unknown"], "candidates"),
])
def test_bad_requests_name_the_field(org, db, outcome, candidates, field):
    ensure_metrics()
    with pytest.raises(ServiceError) as error:
        run_validation(None, outcome, candidates)
    assert error.value.field == field


def test_no_data_stores_an_insufficient_run(org, db):
    ensure_metrics()
    outcome = run_validation(None, "revenue", CANDIDATES)
    db.session.commit()
    assert outcome.run.window_start is None and outcome.run.insufficient_reason
    assert set(outcome.run.decisions.values()) == {"insufficient_data"}


def test_fast_fingerprint_equals_the_analytics_one():
    rng = np.random.default_rng(3)
    n = 60
    frame = pd.DataFrame({
        "rep": np.repeat(np.arange(20), 3) + 1000,
        "period": pd.to_datetime(np.tile(["2025-01-01", "2025-04-01", "2025-07-01"], 20)),
        "revenue": rng.normal(size=n) * 1e5,
        "meetings": np.round(rng.normal(size=n) * 10),
        "calls": rng.normal(size=n),
    })
    frame.loc[3, "calls"] = np.nan
    frame.loc[4, "meetings"] = -0.0
    frame.loc[5, "revenue"] = 1e-300
    frame.loc[6, "revenue"] = 0.1
    shuffled = frame.sample(frac=1, random_state=1)
    assert panel_fingerprint(shuffled) == fingerprint(shuffled)
    assert panel_fingerprint(frame.iloc[:0]) == fingerprint(frame.iloc[:0])
    changed = frame.copy()
    changed.loc[7, "calls"] += 1e-12
    assert panel_fingerprint(changed) != panel_fingerprint(frame)


def test_units_read_as_singular():
    assert [singular(u) for u in ["meetings", "calls/day", "calls per day", "$", "", "ss"]] == [
        "meeting", "call/day", "calls per day", "$", "", "ss"]

