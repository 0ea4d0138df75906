"""The KPI demo step runs one organisation-wide validation, once."""

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


def test_demo_data_shows_why_period_effects_matter(org, db):
    """The demo's company-wide season: with period effects calls per day is ruled out; without
    them the season passes for a within-rep effect."""
    from reviewapp.demo.metrics import load_metrics
    from reviewapp.demo.people import load_people
    from reviewapp.kpis.runs import run_validation

    load_people()
    load_metrics(7)
    db.session.commit()
    with_effects = run_validation(None, "revenue", source="demo")
    calls = with_effects.result.candidate("calls_per_day")
    assert with_effects.verdicts["calls_per_day"] == "not_predictive" and calls.std_ci_high < 0.1
    assert with_effects.verdicts["meetings"] == with_effects.verdicts["proposals"] == "kpi"
    without = run_validation(None, "revenue", source="demo", period_effects=False)
    naive = without.result.candidate("calls_per_day")
    assert naive.std_ci_low > 0.1 and naive.q < 0.05  # the season looks like evidence
    assert not without.counts_for_status
    db.session.rollback()
