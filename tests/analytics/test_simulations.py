"""Decisions on generated panels: seasons, lags, singletons, error rates, power, feedback.

Seeded and small: each scenario runs a few dozen to a few hundred replications of a 30 x 8
panel (milliseconds each); rates are compared with a Monte-Carlo tolerance.
"""

import numpy as np
import pandas as pd
import pytest

from reviewapp.analytics import ValidationParams, validate, validate_two_ends
from reviewapp.analytics.panel import prepare_panel
from tests.analytics.simulate import monte_carlo_limit, panel

HIGHER = {"x": "higher"}
FAST = ValidationParams(bootstrap_draws=499)  # enough draws for decisions at 5 %


def _decisions(n: int, seed: int, params=FAST, **scenario) -> list[str]:
    rng = np.random.default_rng(seed)
    return [validate(panel(rng, **scenario), "y", ["x"], HIGHER, params, grain="quarter")
            .candidate("x").decision for _ in range(n)]


def _rate(decisions: list[str], decision: str = "kpi") -> float:
    return sum(d == decision for d in decisions) / len(decisions)


def test_a_company_wide_season_does_not_create_a_kpi():
    n = 150
    seasonal = _decisions(n, 1, season=1.0)
    assert _rate(seasonal) <= monte_carlo_limit(FAST.alpha, n)
    # The same panels without period effects: the season passes for evidence.
    naive = _decisions(60, 1, ValidationParams(bootstrap_draws=499, period_effects=False),
                       season=1.0)
    assert _rate(naive) > 0.3


def test_under_the_null_false_kpis_stay_at_or_under_alpha():
    n = 200
    assert _rate(_decisions(n, 2)) <= monte_carlo_limit(FAST.alpha, n)


def test_a_true_half_sd_effect_is_found_at_30_reps_by_8_quarters():
    assert _rate(_decisions(200, 3, effect=0.5)) >= 0.90


def test_an_underpowered_real_effect_is_inconclusive_not_not_predictive():
    decisions = _decisions(150, 4, n_reps=12, n_periods=6, effect=0.2)
    assert _rate(decisions, "inconclusive") > 0.5
    # The truth (0.2) is above the margin (0.1): ruling it out should happen at most as
    # often as the interval misses on that side (alpha / 2).
    assert _rate(decisions, "not_predictive") <= monte_carlo_limit(FAST.alpha / 2, 150)


def test_a_feedback_loop_is_caught_by_the_placebo():
    """More calls after a bad quarter, and deals that slip back: a KPI that is not one."""
    rng = np.random.default_rng(5)
    without, caught, kpis = 0, 0, 0
    n = 60
    for _ in range(n):
        data = panel(rng, n_reps=40, feedback=1.0, slip=0.6)
        blind = validate(data, "y", ["x"], HIGHER, ValidationParams(placebo=False),
                         grain="quarter").candidate("x")
        checked = validate(data, "y", ["x"], HIGHER, FAST, grain="quarter").candidate("x")
        without += blind.decision == "kpi"
        kpis += checked.decision == "kpi"
        caught += checked.placebo_flag
    assert without / n > 0.5  # the trap is real
    assert caught / n > 0.9 and kpis / n <= 0.05
    assert "follows results" in checked.plain


def test_no_kpi_when_the_placebo_cannot_run():
    """Four quarters leave three with a next one, too few for the placebo: the feedback loop
    above then passed as a KPI, its reason saying "no placebo effect"."""
    rng = np.random.default_rng(5)
    data = panel(rng, n_reps=40, n_periods=4, effect=0.6)
    result = validate(data, "y", ["x"], HIGHER, FAST, grain="quarter").candidate("x")
    assert result.q < 0.05 and result.lead_q is None
    assert result.decision == "inconclusive"
    assert "the placebo check" in result.reason and "could not be run" in result.reason


def test_a_lag_never_uses_a_non_adjacent_period():
    rng = np.random.default_rng(6)
    data = panel(rng, n_reps=30, n_periods=9)
    missing = data["period"] == data["period"].unique()[4]
    data = data[~missing]  # the fifth quarter is missing for everybody
    prep = prepare_panel(data, "y", ["x"], lag=1, grain="quarter")
    calendar = pd.PeriodIndex(prep.periods[prep.period_codes]).asi8
    lagged = data.set_index(["rep", "period"])["x"]
    for i in range(prep.n_obs):
        rep, period = prep.reps[prep.rep_codes[i]], prep.periods[prep.period_codes[i]]
        assert prep.x[i, 0] == lagged[(rep, period - 1)]  # exactly one quarter back
    gap = pd.Period(data["period"].min()).ordinal + 4
    assert gap not in set(calendar) and gap + 1 not in set(calendar)  # no lag across the gap
    result = validate(data, "y", ["x"], HIGHER, ValidationParams(lag=1), grain="quarter")
    assert result.n_obs == 30 * 6  # 9 quarters, minus the first, the gap and the one after


def test_reps_seen_once_change_neither_the_verdict_nor_the_cluster_count():
    rng = np.random.default_rng(7)
    core = panel(rng, n_reps=25, effect=0.4)
    once = panel(rng, n_reps=60, n_periods=8, effect=0.0)
    once = once.groupby("rep").sample(1, random_state=1).assign(rep=lambda f: f["rep"] + 1000)
    both = pd.concat([core, once], ignore_index=True)
    alone = validate(core, "y", ["x"], HIGHER, grain="quarter")
    mixed = validate(both, "y", ["x"], HIGHER, grain="quarter")
    assert (mixed.n_reps, mixed.n_obs, mixed.n_reps_once) == (25, 25 * 8, 60)
    a, m = alone.candidate("x"), mixed.candidate("x")
    assert m.decision == a.decision
    for name in ("coef", "se_cluster", "p", "q", "ci_low", "ci_high", "mde", "lead_p"):
        assert getattr(m, name) == pytest.approx(getattr(a, name), rel=1e-9), name
    # Noise from many one-quarter reps cannot lift a panel of two long-lived reps over the
    # minimum: it has no verdict.
    few = pd.concat([panel(rng, n_reps=2), once], ignore_index=True)
    assert validate(few, "y", ["x"], HIGHER).candidate("x").decision == "insufficient_data"


def test_two_period_ends_confirm_or_leave_a_pass_provisional():
    rng = np.random.default_rng(8)
    strong = panel(rng, n_reps=40, n_periods=9, effect=0.6)
    ends = validate_two_ends(strong, "y", ["x"], HIGHER, window=8, grain="quarter")
    assert ends.latest.n_periods == ends.previous.n_periods == 8
    assert ends.verdicts == {"x": "kpi"}
    # Only five quarters of history: the window ending a quarter earlier has four, too few
    # for the placebo (each needs a next quarter), so the pass at the latest end is
    # provisional until the next quarter.
    short = panel(rng, n_reps=40, n_periods=5, effect=0.6)
    ends = validate_two_ends(short, "y", ["x"], HIGHER, window=5, grain="quarter")
    assert ends.latest.candidate("x").decision == "kpi"
    assert ends.previous_decisions["x"] == "inconclusive"
    assert "placebo check" in ends.previous.candidate("x").reason
    assert ends.verdicts["x"] == "provisional"


def test_a_metric_that_only_rides_the_season_is_not_called_a_between_rep_trap():
    """Everyone's activity and revenue rise in the same quarters, and nothing else: read raw,
    the pooled correlation was high and the note said 'the pattern is about who the people
    are'. With period effects the pooled correlation compares people within a quarter."""
    rng = np.random.default_rng(11)
    data = panel(rng, n_reps=40, season=3.0)
    assert data["x"].corr(data["y"]) > 0.5  # the raw picture
    result = validate(data, "y", ["x"], HIGHER, FAST, grain="quarter").candidate("x")
    assert abs(result.pooled_corr) < 0.3 and not result.trap and result.trap_note is None


def test_a_lag_takes_the_period_before_each_window_for_its_first_period():
    """With lag 1, the window's first period lost its lag (the period before was cut away
    with the rest): 7 of the 8 quarters were used."""
    rng = np.random.default_rng(12)
    data = panel(rng, n_reps=30, n_periods=10, effect=0.5)
    ends = validate_two_ends(data, "y", ["x"], HIGHER, ValidationParams(lag=1), window=8,
                             grain="quarter")
    assert ends.latest.n_periods == ends.previous.n_periods == 8
    assert ends.latest.n_obs == ends.previous.n_obs == 30 * 8


def test_a_mistyped_value_gives_no_verdict_rather_than_a_wrong_one():
    """One rep-quarter's revenue typed 100 times too large swelled the spread until a real
    driver read as 'the data rule out an effect worth scoring' (two such runs demote a KPI)."""
    rng = np.random.default_rng(13)
    data = panel(rng, n_reps=40, effect=0.6)
    clean = validate(data, "y", ["x"], HIGHER, FAST, grain="quarter").candidate("x")
    assert clean.decision == "kpi"
    typo = data.copy()
    typo.loc[17, "y"] = typo.loc[17, "y"] * 100 + 500
    result = validate(typo, "y", ["x"], HIGHER, FAST, grain="quarter").candidate("x")
    assert result.decision == "inconclusive"
    assert result.reason.startswith("some values lie far outside the rest (the most extreme: "
                                    "one rep's y of ")
    assert "check them for typos" in result.plain
    # Ordinary data never trip it.
    for seed in range(20):
        ordinary = panel(np.random.default_rng(100 + seed), n_reps=40, effect=0.3)
        decision = validate(ordinary, "y", ["x"], HIGHER, FAST, grain="quarter").candidate("x")
        assert "far outside" not in decision.reason


def test_one_reps_outcome_in_a_new_quarter_confirms_nothing():
    """Five quarters: the pass is provisional. One rep's revenue for the quarter under way (no
    activity at all) moved both windows on a quarter and made it 'kpi'."""
    rng = np.random.default_rng(8)
    short = panel(rng, n_reps=40, n_periods=5, effect=0.6)
    assert validate_two_ends(short, "y", ["x"], HIGHER, window=5,
                             grain="quarter").verdicts["x"] == "provisional"
    early = short.iloc[[0]].copy()
    early["period"] = short["period"].max() + 1
    early["x"] = np.nan
    ends = validate_two_ends(pd.concat([short, early], ignore_index=True), "y", ["x"], HIGHER,
                             window=5, grain="quarter")
    assert ends.verdicts["x"] == "provisional"


def test_a_mistyped_value_overturns_no_earlier_verdict():
    """The typo's 'inconclusive' moved every KPI under review, and the next click demoted it."""
    rng = np.random.default_rng(13)
    data = panel(rng, n_reps=40, n_periods=9, effect=0.6)
    typo = data.copy()
    last = typo.index[typo["period"] == typo["period"].max()][3]
    typo.loc[last, "y"] = typo.loc[last, "y"] * 100 + 500
    ends = validate_two_ends(typo, "y", ["x"], HIGHER, FAST, window=8, grain="quarter")
    assert ends.latest.candidate("x").decision == "inconclusive"
    assert ends.latest.candidate("x").suspect
    assert ends.verdicts["x"] == "insufficient_data"  # no verdict: the status stays


def test_a_candidate_tracked_by_few_reps_does_not_starve_the_others():
    """A pilot metric on 15 of 120 reps shrank the joint sample to its 15 reps and a proven
    KPI came out inconclusive (q = 0.087)."""
    rng = np.random.default_rng(21)
    data = panel(rng, n_reps=120, n_periods=8, effect=0.3)
    alone = validate(data, "y", ["x"], HIGHER, FAST, grain="quarter").candidate("x")
    assert alone.decision == "kpi"
    data["pilot"] = np.where(data["rep"] < 15, rng.normal(size=len(data)), np.nan)
    both = validate(data, "y", ["x", "pilot"], {"x": "higher", "pilot": "higher"}, FAST,
                    grain="quarter")
    assert both.candidate("x").decision == "kpi" and both.n_obs == alone.n_obs
    pilot = both.candidate("pilot")
    assert pilot.decision == "insufficient_data" and "covers at least half" in pilot.reason
