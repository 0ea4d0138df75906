"""Panel helpers, fingerprint and positive deviance."""

import hashlib

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from reviewapp.analytics import ValidationParams, demean_by, fingerprint, validate
from reviewapp.analytics.deviance import positive_deviance, rep_edges
from reviewapp.analytics.panel import absorb, calendar_index, lag_within

HIGHER = {"x1": "higher", "x2": "higher", "x3": "higher"}


def test_demean_by_matches_groupby_transform():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 7, size=200)
    m = rng.normal(size=(200, 3))
    expected = m - pd.DataFrame(m).groupby(codes).transform("mean").to_numpy()
    np.testing.assert_allclose(demean_by(codes, m), expected, atol=1e-12)
    np.testing.assert_allclose(demean_by(codes, m[:, 0]), expected[:, 0], atol=1e-12)


def test_absorb_two_way_equals_dummy_residuals(make_panel):
    panel = make_panel(n_reps=15, period_shock=1.0).sample(frac=0.8, random_state=1)
    reps = pd.factorize(panel["rep"], sort=True)[0]
    periods = pd.factorize(panel["period"], sort=True)[0]
    out = absorb(panel["x1"].to_numpy(), reps, 15, periods, 8)
    expected = smf.ols("x1 ~ C(rep) + C(period)", panel).fit().resid.to_numpy()
    np.testing.assert_allclose(out.resid, expected, atol=1e-10)


def test_lag_uses_previous_period_not_previous_row():
    panel = pd.DataFrame(
        {
            "rep": ["a", "a", "a", "b", "b"],
            "period": [1, 2, 4, 3, 4],  # period 3 exists in the panel but not for rep a
            "x": [10.0, 20.0, 40.0, 30.0, 45.0],
        }
    )
    lagged = lag_within(panel.iloc[::-1], ["x"])
    np.testing.assert_array_equal(lagged["x"].to_numpy(), [np.nan, 10.0, np.nan, np.nan, 30.0])
    # A period missing for everybody is still a period: 2022-Q2 is absent, so Q3 has no lag.
    quarters = pd.to_datetime(["2022-01-01", "2022-07-01", "2022-10-01"] * 2)
    gap = pd.DataFrame({"rep": ["a"] * 3 + ["b"] * 3, "period": quarters,
                        "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    for grain in ("quarter", "period"):
        lagged = lag_within(gap, ["x"], grain=grain)
        np.testing.assert_array_equal(lagged["x"].to_numpy(),
                                      [np.nan, np.nan, 2, np.nan, np.nan, 5])


def test_calendar_index_of_labels():
    months = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-05-01"])
    by_month = calendar_index(months, "month")
    np.testing.assert_array_equal(by_month - by_month[0], [0, 1, 4])
    np.testing.assert_array_equal(calendar_index(months), [0, 1, 4])
    np.testing.assert_array_equal(calendar_index(pd.period_range("2024Q1", periods=3, freq="Q")),
                                  pd.period_range("2024Q1", periods=3, freq="Q").asi8)
    np.testing.assert_array_equal(calendar_index(pd.Index([3, 5, 6])), [3, 5, 6])


def test_fingerprint_ignores_order_and_sees_changes(make_panel):
    panel = make_panel(n_reps=12)
    digest = fingerprint(panel)
    # The canonical text, written out by hand: columns by name, rows by rep then period,
    # every double in full (%.17g), integral values without ".0", missing values as NA.
    tiny = pd.DataFrame({"y": [2.0, np.nan, 0.1], "rep": ["b", "b", "a"],
                         "period": pd.to_datetime(["2022-04-01", "2022-01-01", "2022-01-01"])})
    text = b"period,rep,y\n2022-01-01,a,0.10000000000000001\n2022-01-01,b,NA\n2022-04-01,b,2\n"
    assert fingerprint(tiny) == hashlib.sha256(text).hexdigest()
    shuffled = panel.sample(frac=1.0, random_state=5)[list(reversed(panel.columns))]
    assert fingerprint(shuffled) == digest
    changed = panel.copy()
    changed.loc[7, "x2"] += 1e-9
    assert fingerprint(changed) != digest


def test_rep_edges_are_the_dummy_regressions_rep_effects(make_panel):
    panel = make_panel(n_reps=20, n_periods=6, period_shock=1.0).sample(frac=0.9, random_state=2)
    panel = panel.sort_values(["rep", "period"]).reset_index(drop=True)
    reps, rep_labels = pd.factorize(panel["rep"], sort=True)
    periods = pd.factorize(panel["period"], sort=True)[0]
    coef = np.array([2.0])
    edges, sigma2 = rep_edges(panel["y"].to_numpy(), panel[["x1"]].to_numpy(), coef, reps, 20,
                              periods, 6)
    fit = smf.ols("r ~ C(rep) + C(period)", panel.assign(r=panel["y"] - 2.0 * panel["x1"])).fit()
    effects = np.array([0.0] + [fit.params[f"C(rep)[T.{r}]"] for r in rep_labels[1:]])
    np.testing.assert_allclose(edges, effects - effects.mean(), atol=1e-9)
    np.testing.assert_allclose(sigma2, fit.mse_resid * fit.df_resid / (fit.df_resid - 1))


def test_one_lucky_quarter_is_not_a_teachable_moment():
    """No true differences: shrinkage keeps nearly everyone off the list; short reps never."""
    rng = np.random.default_rng(11)
    listed = short_listed = 0
    for _ in range(40):
        n_reps, n_periods = 40, 8
        counts = np.where(np.arange(n_reps) < 20, n_periods, rng.integers(1, 4, size=n_reps))
        rep = np.repeat(np.arange(n_reps), counts)
        period = np.concatenate([np.arange(c) for c in counts])
        y = rng.normal(size=rep.size) + 0.5 * rng.normal(size=n_periods)[period]
        result = positive_deviance(y, np.empty((rep.size, 0)), np.empty(0), {}, rep,
                                   np.arange(n_reps), period, n_periods, 1.0, -1.0, 4)
        listed += len(result.teachable_moments)
        short_listed += sum(counts[e.rep] < 4 for e in result.teachable_moments)
        assert np.isnan(result.scores[counts < 4]).all() and result.n_excluded == (counts < 4).sum()
    assert short_listed == 0
    assert listed / (40 * 20) < 0.01  # against about 16 % without minimum and shrinkage


def test_coaching_respects_each_metrics_direction():
    rng = np.random.default_rng(4)
    n_reps, n_periods = 30, 8
    rep = np.repeat(np.arange(n_reps), n_periods)
    period = np.tile(np.arange(n_periods), n_reps)
    skill = rng.normal(size=n_reps)
    skill[0] = skill[1] = -3.0
    y = 3 * skill[rep] + rng.normal(size=rep.size)
    busy = rng.normal(size=rep.size)
    busy[rep == 0] += 5.0  # rep 0: very high on a higher-is-better activity
    slow = rng.normal(size=rep.size)
    slow[rep == 1] -= 5.0  # rep 1: very low on a lower-is-better activity (busy the right way)
    slow[rep == 0] += 5.0  # rep 0 is slow: the wrong way, not "busy"
    result = positive_deviance(y, np.empty((rep.size, 0)), np.empty(0),
                               {"calls": (busy, "higher"), "response_hours": (slow, "lower")},
                               rep, np.arange(n_reps), period, n_periods, 1.0, -1.0, 4)
    coached = {e.rep: e.metrics for e in result.coaching}
    assert "calls" in coached[0] and "response_hours" not in coached[0]
    assert "response_hours" in coached[1]


def test_positive_deviance_finds_planted_reps(make_panel):
    panel = make_panel(n_reps=40)
    star, busy = "r010", "r020"
    panel.loc[panel["rep"] == star, "y"] += 15.0  # beats what proposals predict
    panel.loc[panel["rep"] == busy, "x2"] += 6.0  # calls a lot ...
    panel.loc[panel["rep"] == busy, "y"] -= 15.0  # ... and sells little
    result = validate(panel, "y", ["x1", "x2", "x3"], HIGHER, ValidationParams())
    assert result.candidate("x1").decision == "kpi"
    assert result.candidate("x2").decision == "not_predictive"
    assert result.deviance_predictors == ["x1"]
    assert result.teachable_moments[0].rep == star
    scores = [e.score for e in result.teachable_moments]
    assert scores == sorted(scores, reverse=True) and min(scores) > 1.0
    coached = {e.rep: e.metrics for e in result.coaching}
    assert "x2" in coached[busy]
    assert star not in coached


def test_deviance_on_period_effects_only_when_nothing_passes(make_panel):
    panel = make_panel(n_reps=30)
    result = validate(panel, "y", ["x2", "x3"], HIGHER)
    assert all(c.decision != "kpi" for c in result.candidates)
    assert result.deviance_predictors == []
    assert "period effects only" in result.deviance_note
