"""The KPI demo step runs one organisation-wide validation, once."""

from datetime import date

import numpy as np
import pytest
import sqlalchemy as sa

from reviewapp.demo.kpis import load_kpis
from reviewapp.kpis.models import ValidationRun


def test_load_kpis_is_idempotent(sales, db):
    first = load_kpis(7)
    db.session.commit()
    run_id = db.session.scalar(sa.select(ValidationRun.id))
    assert first == {"kpi validation": f"run #{run_id}: calls_per_day not_predictive, "
                                       "emails_sent not_predictive, meetings kpi, proposals kpi"}
    assert db.session.get(ValidationRun, run_id).counts_for_status  # a policy run
    second = load_kpis(7)
    db.session.commit()
    assert second["kpi validation"].endswith("(already there)")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ValidationRun)) == 1


def test_load_kpis_without_metrics_does_nothing(org, db):
    assert "skipped" in load_kpis(7)["kpi validation"]


@pytest.mark.parametrize("today", [date(2026, 11, 26), date(2027, 2, 10), date(2027, 5, 20),
                                   date(2027, 8, 5)], ids=lambda d: d.isoformat())
def test_demo_data_shows_why_period_effects_matter(org, db, today):
    """The demo's company-wide season: with period effects calls per day is ruled out; without
    them the season passes for a within-rep effect. The data end with the last complete
    quarter of the day the demo is loaded, so the story must hold whichever quarter that is."""
    from reviewapp.demo.metrics import load_metrics, loaded_last_quarter
    from reviewapp.demo.people import load_people
    from reviewapp.kpis.runs import run_validation
    from reviewapp.metrics.periods import current_quarter

    load_people()
    load_metrics(7, today=today)
    db.session.commit()
    assert loaded_last_quarter() == current_quarter(today).shift(-1)
    with_effects = run_validation(None, "revenue", source="demo")
    calls = with_effects.result.candidate("calls_per_day")
    assert with_effects.verdicts["calls_per_day"] == "not_predictive" and calls.std_ci_high < 0.1
    assert with_effects.verdicts["meetings"] == with_effects.verdicts["proposals"] == "kpi"
    without = run_validation(None, "revenue", source="demo", period_effects=False)
    naive = without.result.candidate("calls_per_day")
    assert naive.std_ci_low > 0.1 and naive.q < 0.05  # the season looks like evidence
    assert not without.counts_for_status
    db.session.rollback()


def test_the_within_chart_draws_the_relation_the_verdict_rests_on(org, db):
    """The lab's second chart is the model's own view of each candidate: its slope is the
    run's coefficient, so the demo's season no longer draws a calls-per-day slope that the
    verdict denies (taking out only each rep's average, it drew a slope 16 times the
    coefficient)."""
    from reviewapp.demo.metrics import load_metrics
    from reviewapp.demo.people import load_people
    from reviewapp.kpis.charts import within_title
    from reviewapp.kpis.runs import run_validation

    load_people()
    load_metrics(7)
    db.session.commit()
    for effects in (True, False):
        outcome = run_validation(None, "revenue", source="demo", period_effects=effects)
        for candidate in outcome.run.candidates:
            within = candidate.chart["within"]
            assert within["slope"] == pytest.approx(candidate.coef, rel=1e-6), candidate.metric_key
        calls = next(c for c in outcome.run.candidates if c.metric_key == "calls_per_day")
        assert within_title(calls.chart["within"]) == ("Within each rep (adjusted)", "(adjusted)")
        if effects:
            assert calls.chart["within"]["net"] == ["season", "others"]
            # Calls against revenue with the season and the other metrics out: next to nothing.
            x, y = np.array(calls.chart["within"]["x"]), np.array(calls.chart["within"]["y"])
            assert abs(np.corrcoef(x, y)[0, 1]) < 0.15
        else:
            assert calls.chart["within"]["net"] == ["others"]
    db.session.rollback()
