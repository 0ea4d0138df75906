"""Generated rep x quarter panels for the simulation tests (seeded, vectorised)."""

import numpy as np
import pandas as pd


def panel(
    rng: np.random.Generator,
    n_reps: int = 30,
    n_periods: int = 8,
    *,
    effect: float = 0.0,
    season: float = 0.0,
    feedback: float = 0.0,
    slip: float = 0.0,
) -> pd.DataFrame:
    """One activity x and outcome y; within-rep SDs of both are 1 (before a season).

    effect: the true standardised within-rep effect of x on y.
    season: SD of a company-wide quarter shock that lifts x and y of every rep together.
    slip: deals slip from one quarter to the next (y_t = e_t - slip * e_(t-1)).
    feedback: activity answers results: x_t -= feedback * y_(t-1) (more calls after a bad one).
    """
    rep = np.repeat(np.arange(n_reps), n_periods)
    t = np.tile(np.arange(n_periods), n_reps)
    shock = season * rng.normal(size=n_periods)
    noise = rng.normal(size=(n_reps, n_periods + 1))
    e = (noise[:, 1:] - slip * noise[:, :-1]) / np.sqrt(1 + slip**2)
    x = rng.normal(size=(n_reps, n_periods))
    y = effect * x + np.sqrt(1 - effect**2) * e
    if feedback:
        x[:, 1:] -= feedback * y[:, :-1]
    skill = rng.normal(scale=2.0, size=n_reps)
    level = rng.normal(size=n_reps)
    quarters = pd.period_range("2023Q1", periods=n_periods, freq="Q")
    return pd.DataFrame({
        "rep": rep,
        "period": quarters[t],
        "y": y.ravel() + skill[rep] + shock[t],
        "x": x.ravel() + level[rep] + shock[t],
    })


def monte_carlo_limit(rate: float, n: int, z: float = 2.0) -> float:
    """rate plus z Monte-Carlo standard errors of a proportion over n replications."""
    return rate + z * np.sqrt(rate * (1 - rate) / n)
