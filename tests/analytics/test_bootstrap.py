"""The wild cluster bootstrap against an independent implementation (the wildboottest package)."""

import numpy as np
import pandas as pd
import pytest

from reviewapp.analytics import ValidationParams, validate
from reviewapp.analytics.bootstrap import BootstrapTest, bootstrap_test, webb_weights
from reviewapp.analytics.fe import fe_rank
from reviewapp.analytics.panel import absorb, prepare_panel

wildboottest = pytest.importorskip("wildboottest.wildboottest")
B = 9999


def _small_panel(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_reps, n_periods = 12, 6
    rep = np.repeat(np.arange(n_reps), n_periods)
    t = np.tile(np.arange(n_periods), n_reps)
    x1 = rng.normal(size=rep.size) + rng.normal(size=n_reps)[rep] + rng.normal(size=n_periods)[t]
    x2 = rng.normal(size=rep.size)
    # Errors with a rep-level and a skewed part: where the bootstrap and the t test differ.
    u = rng.normal(size=rep.size) * (1 + rng.exponential(size=n_reps)[rep])
    y = 0.25 * x1 + 0.3 * x2 + 2 * rng.normal(size=n_reps)[rep] + rng.normal(size=n_periods)[t] + u
    frame = pd.DataFrame({"rep": rep, "period": t, "y": y, "x1": x1, "x2": x2})
    return frame.drop(index=[3, 17, 40]).reset_index(drop=True)  # unbalanced


def _theirs(frame: pd.DataFrame, column: int, seed: int) -> tuple[float, float]:
    """(t, equal-tailed p) from wildboottest on the full dummy regression."""
    design = pd.get_dummies(frame[["rep", "period"]].astype(str), drop_first=True, dtype=float)
    x = np.column_stack([frame[["x1", "x2"]].to_numpy(), design.to_numpy(),
                         np.ones(len(frame))])
    r = np.zeros(x.shape[1])
    r[column] = 1.0
    boot = wildboottest.WildboottestCL(X=x, Y=frame["y"].to_numpy(),
                                       cluster=frame["rep"].to_numpy(), R=r, B=B, seed=seed,
                                       parallel=False)
    boot.get_scores(bootstrap_type="11", impose_null=True)
    boot.get_weights(weights_type="webb")
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    boot.get_pvalue(pval_type="equal-tailed")
    return float(np.squeeze(boot.t_stat)), float(boot.pvalue)


@pytest.mark.parametrize("seed", [1, 2])
def test_wild_bootstrap_matches_wildboottest_to_monte_carlo_error(seed):
    frame = _small_panel(seed)
    prep = prepare_panel(frame, "y", ["x1", "x2"])
    absorbed = absorb(np.column_stack([prep.y, prep.x]), prep.rep_codes, prep.n_reps,
                      prep.period_codes, prep.n_periods).resid
    n_params = 2 + fe_rank(prep.rep_codes, prep.n_reps, prep.period_codes, prep.n_periods)
    weights = webb_weights(B, prep.n_reps, seed=123)
    for column in (0, 1):
        ours = bootstrap_test(absorbed[:, 0], absorbed[:, 1:], column, prep.rep_codes,
                              prep.n_reps, prep.period_codes, prep.n_periods, n_params, weights)
        t, p = _theirs(frame, column, seed=99)
        assert ours.t_obs(0.0) == pytest.approx(t, rel=1e-8)
        # Two independent sets of draws: their p-values differ by Monte-Carlo error only.
        tolerance = 4 * np.sqrt(2 * p * (1 - p) / B) + 2 / B
        assert abs(ours.p_value(0.0) - p) <= tolerance, (column, ours.p_value(0.0), p)


def test_bootstrap_interval_inverts_the_test_and_is_reproducible():
    frame = _small_panel(3)
    params = ValidationParams(min_reps=5, min_obs=30)
    first = validate(frame, "y", ["x1", "x2"], {"x1": "higher", "x2": "higher"}, params)
    again = validate(frame, "y", ["x1", "x2"], {"x1": "higher", "x2": "higher"}, params)
    assert first.inference == "wild_bootstrap"
    assert first.to_dict() == again.to_dict()  # seeded: the same run twice
    other = validate(frame, "y", ["x1", "x2"], {"x1": "higher", "x2": "higher"},
                     ValidationParams(min_reps=5, min_obs=30, seed=8))
    assert other.candidate("x1").p != first.candidate("x1").p
    prep = prepare_panel(frame, "y", ["x1", "x2"])
    absorbed = absorb(np.column_stack([prep.y, prep.x]), prep.rep_codes, prep.n_reps,
                      prep.period_codes, prep.n_periods).resid
    n_params = 2 + fe_rank(prep.rep_codes, prep.n_reps, prep.period_codes, prep.n_periods)
    test = bootstrap_test(absorbed[:, 0], absorbed[:, 1:], 0, prep.rep_codes, prep.n_reps,
                          prep.period_codes, prep.n_periods, n_params,
                          webb_weights(params.bootstrap_draws, prep.n_reps, params.seed))
    low, high = test.interval(0.95)
    assert first.candidate("x1").ci_low == pytest.approx(low)
    assert low < test.coef < high
    # At the bounds the test is on the edge of rejecting; just outside it rejects.
    width = high - low
    assert test.p_value(low + 0.01 * width) >= 0.05 > test.p_value(low - 0.05 * width)
    assert test.p_value(high - 0.01 * width) >= 0.05 > test.p_value(high + 0.05 * width)
    # All weights 1 give back the sample: the bootstrap statistic is the sample's t.
    ones = bootstrap_test(absorbed[:, 0], absorbed[:, 1:], 0, prep.rep_codes, prep.n_reps,
                          prep.period_codes, prep.n_periods, n_params, np.ones((1, prep.n_reps)))
    assert ones.t_boot(0.3)[0] == pytest.approx(ones.t_obs(0.3), rel=1e-9)


def test_a_bootstrap_p_value_is_never_zero():
    draws = 999
    flat = np.zeros(draws)
    test = BootstrapTest(coef=10.0, se=1.0, n0=np.full(draws, 0.5), n1=flat,
                         d00=np.ones(draws), d01=flat, d11=flat)
    assert test.share_above(0.0) == 0.0  # no draw reaches t = 10
    assert test.p_value(0.0) == pytest.approx(2 / (draws + 1))
