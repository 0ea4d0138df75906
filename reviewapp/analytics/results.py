"""Parameters and results of a KPI validation run (plain dataclasses, JSON via to_dict)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from reviewapp.analytics.deviance import CoachingEntry, DevianceEntry

Decision = Literal["kpi", "not_predictive", "insufficient_data"]
Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class ValidationParams:
    """Parameters of a validation run (stored with the run)."""

    lag: int = 0
    period_effects: bool = False
    alpha: float = 0.05
    holdout_periods: int = 2
    min_reps: int = 10
    min_periods: int = 4
    min_obs: int = 60
    deviance_threshold: float = 1.0
    coaching_threshold: float = -1.0
    # |pooled correlation| from which an across-rep pattern counts as a pattern (trap flag).
    trap_min_corr: float = 0.1

    def __post_init__(self) -> None:
        if self.lag not in (0, 1):
            raise ValueError("lag must be 0 or 1")
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be between 0 and 1")
        if self.holdout_periods < 1:
            raise ValueError("holdout_periods must be at least 1")
        if self.min_reps < 2 or self.min_periods < 2 or self.min_obs < 1:
            raise ValueError("min_reps and min_periods must be at least 2, min_obs at least 1")


@dataclass(frozen=True)
class CandidateResult:
    """Evidence and decision for one candidate metric."""

    key: str
    name: str
    direction: str
    decision: Decision
    reason: str
    sentence: str
    n_reps: int
    n_obs: int
    coef: float | None = None
    se_classical: float | None = None
    se_cluster: float | None = None
    t: float | None = None  # cluster-robust
    p: float | None = None  # cluster-robust, t with G-1 df
    q: float | None = None  # Benjamini-Hochberg across the fitted candidates
    ci_low: float | None = None  # 95%, cluster-robust
    ci_high: float | None = None
    standardised_effect: float | None = None
    partial_r2: float | None = None
    oos_gain: float | None = None
    pooled_corr: float | None = None
    within_corr: float | None = None
    within_sd: float | None = None
    trap: bool = False
    trap_note: str | None = None


@dataclass(frozen=True)
class ValidationResult:
    """Outcome of one validation run over all candidates."""

    outcome: str
    params: ValidationParams
    n_reps: int
    n_obs: int
    n_periods: int
    candidates: list[CandidateResult]
    teachable_moments: list[DevianceEntry] = field(default_factory=list)
    coaching: list[CoachingEntry] = field(default_factory=list)
    deviance_predictors: list[str] = field(default_factory=list)
    deviance_note: str = ""
    insufficient_reason: str | None = None  # set when the panel as a whole fails the guards
    df_resid: int | None = None
    oos_r2_full: float | None = None
    oos_n_obs: int = 0
    holdout_periods: list[Any] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)

    def candidate(self, key: str) -> CandidateResult:
        """The result for one candidate key."""
        return next(c for c in self.candidates if c.key == key)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict; NaN and infinities become None."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | pd.Period):
        return str(value)
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)
