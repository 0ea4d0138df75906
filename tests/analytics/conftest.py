"""Synthetic rep x period panels with known structure for the analytics tests."""

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest


def build_panel(
    n_reps: int = 40,
    n_periods: int = 8,
    seed: int = 0,
    period_shock: float = 0.0,
) -> pd.DataFrame:
    """Panel where x1 drives y within rep, x2 is a between-rep trap, x3 is noise.

    y = a_rep - 4 b_rep + 2 x1 + shock_t + e;  x2 = 2 b_rep + noise (no within effect).
    """
    rng = np.random.default_rng(seed)
    rep = np.repeat(np.arange(n_reps), n_periods)
    t = np.tile(np.arange(n_periods), n_reps)
    a = rng.normal(scale=3.0, size=n_reps)
    b = rng.normal(size=n_reps)
    x1 = rng.normal(size=rep.size) + rng.normal(size=n_reps)[rep]
    x2 = 2.0 * b[rep] + rng.normal(size=rep.size)
    x3 = rng.normal(size=rep.size) + rng.normal(size=n_reps)[rep]
    shock = period_shock * rng.normal(size=n_periods)
    y = a[rep] - 4.0 * b[rep] + 2.0 * x1 + shock[t] + rng.normal(size=rep.size)
    periods = pd.period_range("2022Q1", periods=n_periods, freq="Q").to_timestamp()
    return pd.DataFrame(
        {
            "rep": [f"r{i:03d}" for i in rep],
            "period": periods[t],
            "y": y,
            "x1": x1,
            "x2": x2,
            "x3": x3,
        }
    )


@pytest.fixture
def make_panel() -> Callable[..., pd.DataFrame]:
    """Factory for synthetic panels (see build_panel)."""
    return build_panel
