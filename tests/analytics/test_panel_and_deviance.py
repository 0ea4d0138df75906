"""Panel helpers, fingerprint and positive deviance."""

import hashlib

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.stats.outliers_influence import OLSInfluence

from reviewapp.analytics import ValidationParams, demean_by, fingerprint, validate
from reviewapp.analytics.deviance import studentized_external
from reviewapp.analytics.panel import absorb, lag_within

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


def test_studentized_external_matches_ols_influence(make_panel):
    panel = make_panel(n_reps=20, n_periods=6, period_shock=1.0)
    fit = smf.ols("y ~ x1 + x3 + C(period)", panel).fit()
    expected = OLSInfluence(fit).resid_studentized_external
    periods = pd.factorize(panel["period"], sort=True)[0]
    got = studentized_external(panel["y"].to_numpy(), panel[["x1", "x3"]].to_numpy(), periods, 6)
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    only_periods = OLSInfluence(smf.ols("y ~ C(period)", panel).fit())
    np.testing.assert_allclose(
        studentized_external(panel["y"].to_numpy(), np.empty((len(panel), 0)), periods, 6),
        only_periods.resid_studentized_external,
        rtol=1e-9,
    )


def test_positive_deviance_finds_planted_reps(make_panel):
    panel = make_panel(n_reps=40)
    star, busy = "r010", "r020"
    panel.loc[panel["rep"] == star, "y"] += 15.0  # beats what proposals predict
    panel.loc[panel["rep"] == busy, "x2"] += 6.0  # calls a lot ...
    panel.loc[panel["rep"] == busy, "y"] -= 15.0  # ... and sells little
    result = validate(panel, "y", ["x1", "x2", "x3"], HIGHER, ValidationParams())
    assert result.candidate("x1").decision == "kpi"
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
    assert all(c.decision == "not_predictive" for c in result.candidates)
    assert result.deviance_predictors == []
    assert "period effects only" in result.deviance_note
