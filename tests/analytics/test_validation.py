"""KPI validation checked against independent statsmodels dummy regressions and known truths."""

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.multitest import multipletests

from reviewapp.analytics import ValidationParams, bh_qvalues, validate

CANDIDATES = ["x1", "x2", "x3"]
HIGHER = dict.fromkeys(CANDIDATES, "higher")
RTOL = 1e-8


def _dummy_fits(frame: pd.DataFrame, formula: str):
    """Plain and cluster-by-rep (use_t) fits of the dummy regression, codes built on `frame`."""
    codes = pd.factorize(frame["rep"], sort=True)[0]
    model = smf.ols(formula, frame)
    plain = model.fit()
    cluster = model.fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
    return plain, cluster


def _assert_matches(result, plain, cluster, keys=CANDIDATES):
    ci = cluster.conf_int(alpha=0.05)
    for key in keys:
        c = result.candidate(key)
        np.testing.assert_allclose(c.coef, cluster.params[key], rtol=RTOL)
        np.testing.assert_allclose(c.se_classical, plain.bse[key], rtol=RTOL)
        np.testing.assert_allclose(c.se_cluster, cluster.bse[key], rtol=RTOL)
        np.testing.assert_allclose(c.t, cluster.tvalues[key], rtol=RTOL)
        np.testing.assert_allclose(c.p, cluster.pvalues[key], rtol=1e-6, atol=1e-300)
        np.testing.assert_allclose([c.ci_low, c.ci_high], ci.loc[key], rtol=RTOL)
    assert result.df_resid == plain.df_resid


def test_joint_fit_matches_two_way_dummy_regression(make_panel):
    panel = make_panel(period_shock=1.0)
    result = validate(panel, "y", CANDIDATES, HIGHER)
    assert result.params.period_effects and result.inference == "cluster_t"
    plain, cluster = _dummy_fits(panel, "y ~ x1 + x2 + x3 + C(rep) + C(period)")
    _assert_matches(result, plain, cluster)
    assert cluster.df_resid_inference == result.n_reps - 1


def test_rep_effects_only_when_asked(make_panel):
    panel = make_panel()
    result = validate(panel, "y", CANDIDATES, HIGHER, ValidationParams(period_effects=False))
    plain, cluster = _dummy_fits(panel, "y ~ x1 + x2 + x3 + C(rep)")
    _assert_matches(result, plain, cluster)


def test_period_effects_on_unbalanced_panel_match_two_way_dummies(make_panel):
    panel = make_panel(period_shock=2.0)
    # Unbalanced: alternating projections must still equal the dummy regression.
    panel = panel.sample(frac=0.85, random_state=3)
    result = validate(panel, "y", CANDIDATES, HIGHER, ValidationParams(period_effects=True))
    plain, cluster = _dummy_fits(panel, "y ~ x1 + x2 + x3 + C(rep) + C(period)")
    _assert_matches(result, plain, cluster)


def test_lag_equals_manually_shifted_panel(make_panel):
    panel = make_panel()
    result = validate(panel, "y", CANDIDATES, HIGHER, ValidationParams(lag=1))
    shifted = panel.sort_values(["rep", "period"]).copy()
    shifted[CANDIDATES] = shifted.groupby("rep")[CANDIDATES].shift(1)
    shifted = shifted.dropna()
    assert result.n_obs == len(shifted) == 40 * 7
    plain, cluster = _dummy_fits(shifted, "y ~ x1 + x2 + x3 + C(rep) + C(period)")
    _assert_matches(result, plain, cluster)


def test_incomplete_rows_dropped_before_cluster_codes(make_panel):
    panel = make_panel()
    panel.loc[panel["rep"] == "r005", "y"] = np.nan  # a rep with no complete row at all
    panel.loc[[3, 50, 77], "x2"] = np.nan
    result = validate(panel, "y", CANDIDATES, HIGHER, ValidationParams(bootstrap_below=2))
    complete = panel.dropna()
    assert result.n_reps == 39
    assert result.n_obs == len(complete) == 40 * 8 - 8 - 3
    plain, cluster = _dummy_fits(complete, "y ~ x1 + x2 + x3 + C(rep) + C(period)")
    _assert_matches(result, plain, cluster)
    assert cluster.df_resid_inference == 38


def test_partial_r2_and_standardised_effect(make_panel):
    panel = make_panel()
    result = validate(panel, "y", CANDIDATES, HIGHER)
    # FWL: residualise y and x1 on the other candidates and both effects, squared correlation.
    ry = smf.ols("y ~ x2 + x3 + C(rep) + C(period)", panel).fit().resid
    rx = smf.ols("x1 ~ x2 + x3 + C(rep) + C(period)", panel).fit().resid
    np.testing.assert_allclose(result.candidate("x1").partial_r2, np.corrcoef(ry, rx)[0, 1] ** 2)
    # Standardised by the variation the model compares: within rep and period.
    two_way = {c: smf.ols(f"{c} ~ C(rep) + C(period)", panel).fit().resid for c in ("y", "x1")}
    expected = result.candidate("x1").coef * two_way["x1"].std() / two_way["y"].std()
    np.testing.assert_allclose(result.candidate("x1").standardised_effect, expected)
    # With period effects, both correlations leave the season out, as the model does: within,
    # rep and period effects out; pooled (people compared), each period's mean out.
    both = {c: smf.ols(f"{c} ~ C(rep) + C(period)", panel).fit().resid for c in ("y", "x2")}
    np.testing.assert_allclose(result.candidate("x2").within_corr,
                               both["y"].corr(both["x2"]))
    across = panel[["y", "x2"]] - panel.groupby("period")[["y", "x2"]].transform("mean")
    np.testing.assert_allclose(result.candidate("x2").pooled_corr,
                               across["y"].corr(across["x2"]))
    # Without them, as before: raw across everyone, and each rep's own average out.
    plain = validate(panel, "y", CANDIDATES, HIGHER, ValidationParams(period_effects=False))
    within = panel[["y", "x2"]] - panel.groupby("rep")[["y", "x2"]].transform("mean")
    np.testing.assert_allclose(plain.candidate("x2").within_corr,
                               within["y"].corr(within["x2"]))
    np.testing.assert_allclose(plain.candidate("x2").pooled_corr, panel["y"].corr(panel["x2"]))


def test_bh_q_matches_multipletests(make_panel):
    p = np.array([0.001, 0.04, 0.04, 0.3, 0.02, 0.9, 0.0001])
    np.testing.assert_allclose(bh_qvalues(p), multipletests(p, method="fdr_bh")[1])
    result = validate(make_panel(), "y", CANDIDATES, HIGHER)
    ps = [result.candidate(k).p for k in CANDIDATES]
    qs = [result.candidate(k).q for k in CANDIDATES]
    np.testing.assert_allclose(qs, multipletests(ps, method="fdr_bh")[1])


def _holdout_r2(panel, formula, period_effects):
    """Independent OOS R^2: dummy fit on training periods, predict the last two."""
    last = sorted(panel["period"].unique())[-2:]
    train = panel[~panel["period"].isin(last)]
    hold = panel[panel["period"].isin(last) & panel["rep"].isin(train["rep"])].copy()
    fit = smf.ols(formula, train).fit()
    actual = hold["y"]
    if period_effects:
        # Held-out periods have no estimate: predict at a training period, centre per period.
        pred = fit.predict(hold.assign(period=train["period"].iloc[0]))
        actual = actual - actual.groupby(hold["period"]).transform("mean")
        pred = pred - pred.groupby(hold["period"]).transform("mean")
    else:
        pred = fit.predict(hold)
    return 1 - ((actual - pred) ** 2).sum() / ((actual - actual.mean()) ** 2).sum()


@pytest.mark.parametrize("period_effects", [False, True])
def test_out_of_sample_gain_matches_refits(make_panel, period_effects):
    panel = make_panel(period_shock=1.0)
    panel = panel.drop(index=[1, 2, 30]).reset_index(drop=True)  # some unbalance
    panel = panel[~((panel["rep"] == "r007") & (panel["period"] < "2023-07-01"))]  # holdout only
    params = ValidationParams(period_effects=period_effects)
    result = validate(panel, "y", CANDIDATES, HIGHER, params)
    fe = " + C(rep)" + (" + C(period)" if period_effects else "")
    full = _holdout_r2(panel, "y ~ x1 + x2 + x3" + fe, period_effects)
    np.testing.assert_allclose(result.oos_r2_full, full, rtol=1e-9)
    for key in CANDIDATES:
        others = " + ".join(k for k in CANDIDATES if k != key)
        reduced = _holdout_r2(panel, f"y ~ {others}" + fe, period_effects)
        np.testing.assert_allclose(result.candidate(key).oos_gain, full - reduced, rtol=1e-7)


def test_known_truth_kpi_and_between_rep_trap(make_panel):
    names = {"x1": "Proposals", "x2": "Calls per day", "x3": "Emails", "y": "revenue"}
    result = validate(
        make_panel(),
        "y",
        CANDIDATES,
        HIGHER,
        names=names,
        units={"x1": "proposal"},
        grain="quarter",
    )
    x1, x2 = result.candidate("x1"), result.candidate("x2")
    assert x1.decision == "kpi"
    assert 1.8 < x1.coef < 2.2 and x1.q < 0.05 and x1.oos_gain > 0 and not x1.trap
    assert x1.sentence.startswith("Within the same rep, one more proposal a quarter goes with")
    assert "likely between" in x1.sentence and "CI" not in x1.sentence
    assert x1.plain == ("Within the same rep, more Proposals went with more revenue; the pattern "
                        "held on the 2 quarters the model had not seen.")
    assert x2.decision == "not_predictive"
    assert x2.pooled_corr < -0.3 and abs(x2.within_corr) < 0.15
    assert x2.trap and x2.trap_note
    assert "no clear relation within reps" in x2.sentence
    assert "across reps" in x2.sentence and "lower revenue" in x2.sentence
    assert "below the smallest effect worth scoring (0.1)" in x2.reason
    assert x2.std_ci_high < 0.1 and "rule out an effect" in x2.plain
    assert result.candidate("x3").decision == "not_predictive"


def test_direction_mismatch_is_not_predictive(make_panel):
    result = validate(make_panel(), "y", CANDIDATES, {**HIGHER, "x1": "lower"})
    x1 = result.candidate("x1")
    assert x1.decision == "not_predictive"
    assert x1.q < 0.05 and x1.oos_gain > 0
    assert x1.reason == "the within-rep coefficient is positive but lower is better"


def test_too_few_reps_gives_insufficient_data_without_fit(make_panel):
    result = validate(make_panel(n_reps=9), "y", CANDIDATES, HIGHER)
    assert {c.decision for c in result.candidates} == {"insufficient_data"}
    assert result.insufficient_reason == (
        "only 9 reps with at least two complete periods; at least 10 needed")
    assert all(c.coef is None and c.q is None for c in result.candidates)
    assert "only 9 reps" in result.candidate("x1").sentence
    assert result.teachable_moments == [] and result.coaching == []


def test_too_few_periods_and_observations(make_panel):
    result = validate(make_panel(n_reps=12, n_periods=3), "y", CANDIDATES, HIGHER)
    assert result.insufficient_reason == (
        "only 3 periods with complete data; at least 4 needed; "
        "only 36 complete observations; at least 60 needed"
    )


def test_constant_within_rep_candidate_is_insufficient_others_fitted(make_panel):
    panel = make_panel()
    panel["x4"] = panel["rep"].str[1:].astype(float)  # differs across reps, never within
    keys = [*CANDIDATES, "x4"]
    result = validate(panel, "y", keys, {**HIGHER, "x4": "higher"})
    x4 = result.candidate("x4")
    assert x4.decision == "insufficient_data"
    assert x4.reason == "it does not vary within reps"
    assert x4.coef is None
    plain, cluster = _dummy_fits(panel, "y ~ x1 + x2 + x3 + C(rep) + C(period)")
    _assert_matches(result, plain, cluster)
    assert result.candidate("x1").decision == "kpi"


def test_collinear_candidate_is_insufficient(make_panel):
    panel = make_panel()
    panel["x1_again"] = 3 * panel["x1"] + 1
    result = validate(panel, "y", ["x1", "x1_again"], {"x1": "higher", "x1_again": "higher"})
    assert result.candidate("x1").coef == pytest.approx(2.0, abs=0.2)
    again = result.candidate("x1_again")
    assert again.decision == "insufficient_data" and "no information beyond" in again.reason


def test_to_dict_is_strict_json(make_panel):
    panel = make_panel()
    panel["x4"] = 1.0
    keys = [*CANDIDATES, "x4"]
    directions = {**HIGHER, "x4": "lower"}
    for params in (ValidationParams(), ValidationParams(min_reps=100)):
        data = validate(panel, "y", keys, directions, params).to_dict()
        text = json.dumps(data, allow_nan=False)
        assert json.loads(text)["candidates"][3]["coef"] is None
    assert data["params"]["min_reps"] == 100


def test_invalid_inputs_are_rejected(make_panel):
    panel = make_panel()
    with pytest.raises(ValueError, match="direction"):
        validate(panel, "y", ["x1"], {"x1": "up"})
    with pytest.raises(ValueError, match="lag"):
        ValidationParams(lag=2)
    with pytest.raises(ValueError, match="more than one row"):
        validate(pd.concat([panel, panel.head(1)]), "y", ["x1"], HIGHER)


def test_of_two_copies_of_one_metric_the_first_listed_is_kept(make_panel):
    """Which copy stays must not hang on floating-point ties (the pivoted QR it replaced did)."""
    panel = make_panel()
    panel["x1_again"] = 3 * panel["x1"] + 1
    result = validate(panel, "y", ["x1_again", "x1"], {"x1": "higher", "x1_again": "higher"})
    assert result.candidate("x1_again").coef == pytest.approx(2.0 / 3, abs=0.1)
    assert result.candidate("x1").decision == "insufficient_data"


def test_too_little_data_is_counted_in_words_that_agree():
    from reviewapp.analytics.panel import prepare_panel
    from reviewapp.analytics.validation import _panel_problems

    one = pd.DataFrame({"rep": [1, 1], "period": pd.period_range("2026Q1", periods=2, freq="Q"),
                        "y": [1.0, 2.0], "x": [3.0, 5.0]})
    problems = _panel_problems(prepare_panel(one, "y", ["x"]), ValidationParams())
    assert problems[0] == "only 1 rep with at least two complete periods; at least 10 needed"
    assert problems[1].startswith("only 2 periods with complete data")


def test_a_candidate_with_too_little_data_is_set_aside_and_the_others_are_judged(make_panel):
    """A metric tracked for two quarters, or not at all yet, gets its own insufficient verdict;
    it must not empty the joint panel and take the proven KPIs' verdicts with it."""
    panel = make_panel()
    panel["new"] = np.where(panel["period"] >= panel["period"].max() - pd.DateOffset(months=3),
                            panel["x3"] * 0.5 + np.random.default_rng(1).normal(size=len(panel)),
                            np.nan)
    panel["none_yet"] = np.nan
    keys = [*CANDIDATES, "new", "none_yet"]
    result = validate(panel, "y", keys, dict.fromkeys(keys, "higher"),
                      names={"new": "Demos", "none_yet": "Referrals"})
    alone = validate(make_panel(), "y", CANDIDATES, HIGHER)
    assert [c.key for c in result.candidates] == keys
    for key in CANDIDATES:  # exactly the verdicts and numbers of a run without the two
        assert result.candidate(key).decision == alone.candidate(key).decision
        assert result.candidate(key).coef == pytest.approx(alone.candidate(key).coef)
    assert result.candidate("x1").decision == "kpi"
    new, none_yet = result.candidate("new"), result.candidate("none_yet")
    assert new.decision == none_yet.decision == "insufficient_data"
    assert new.reason.startswith("only 2 periods with complete data; at least 4 needed")
    assert "the other candidates were tested without it" in new.reason
    assert none_yet.reason == ("it has no complete observations in these periods yet; the "
                               "other candidates were tested without it")
    assert result.insufficient_reason is None
    assert result.n_obs == alone.n_obs


def test_candidates_that_each_have_data_but_never_together_are_set_aside_fewest_first(
        make_panel):
    panel = make_panel()
    early = panel["period"] < panel["period"].min() + pd.DateOffset(months=12)
    panel["first_year"] = np.where(early, panel["x3"], np.nan)
    panel["second_year"] = np.where(~early, panel["x3"], np.nan)
    panel.loc[panel["period"] == panel["period"].max(), "first_year"] = panel["x3"]  # one more
    keys = ["x1", "first_year", "second_year"]
    result = validate(panel, "y", keys, dict.fromkeys(keys, "higher"))
    assert result.n_periods == 5  # the first year and the last quarter: x1 and first_year
    assert result.candidate("x1").coef == pytest.approx(2.0, abs=0.3)
    assert result.candidate("first_year").coef is not None
    second = result.candidate("second_year")
    assert second.decision == "insufficient_data"
    assert "overlap" in second.reason and "tested without it" in second.reason


def test_of_two_copies_the_preferred_one_is_kept_whatever_the_order(make_panel):
    """A copy of a proven KPI added later ('Booked meetings' = 2 x meetings) sorted first by
    name and took the KPI's place; the runs prefer the metrics that are KPIs already."""
    panel = make_panel()
    panel["a_copy"] = 2 * panel["x1"]
    keys = ["a_copy", "x1", "x2"]
    result = validate(panel, "y", keys, dict.fromkeys(keys, "higher"), prefer=["x1"])
    assert [c.key for c in result.candidates] == keys
    assert result.candidate("x1").decision == "kpi"
    assert result.candidate("x1").coef == pytest.approx(2.0, abs=0.2)
    copy = result.candidate("a_copy")
    assert copy.decision == "insufficient_data" and "no information beyond" in copy.reason
    assert "not enough data" not in copy.sentence


def test_a_suspect_value_is_named_by_its_period_and_not_by_the_reps_id(make_panel):
    """'revenue 13,130,000 for rep 12 in 2026-07-01 00:00:00': a database id, a timestamp,
    and a person that a manager of another team may not see."""
    panel = make_panel()
    row = panel.index[(panel["rep"] == "r012") & (panel["period"] == panel["period"].max())][0]
    panel.loc[row, "y"] = panel.loc[row, "y"] * 100 + 5000
    result = validate(panel, "y", CANDIDATES, HIGHER, names={"y": "revenue"}, grain="quarter")
    reasons = [c.reason for c in result.candidates if "far outside" in c.reason]
    assert reasons
    for reason in reasons:
        assert "in 2023-Q4" in reason and "one rep's revenue" in reason
        assert "r012" not in reason and "00:00" not in reason
