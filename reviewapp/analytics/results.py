"""Parameters and results of a KPI validation run (plain dataclasses, JSON via to_dict)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from reviewapp.analytics.deviance import CoachingEntry, DevianceEntry
from reviewapp.lazy import np, pd

Decision = Literal["kpi", "not_predictive", "inconclusive", "insufficient_data"]
# What a run with two period ends concludes: a pass at the latest end only is provisional.
Verdict = Literal["kpi", "provisional", "not_predictive", "inconclusive", "insufficient_data"]
Inference = Literal["cluster_t", "wild_bootstrap"]
Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class ValidationParams:
    """Parameters of a validation run (stored with the run)."""

    lag: int = 0
    # Two-way fixed effects by default: a season that lifts everyone at once is not evidence.
    period_effects: bool = True
    alpha: float = 0.05
    # The smallest effect worth scoring, as a standardised within-rep effect (SDs of the
    # outcome per SD of the activity). "Not predictive" needs the CI to rule it out.
    margin: float = 0.1
    power: float = 0.8  # for the minimum detectable effect
    holdout_periods: int = 2
    min_reps: int = 10
    min_periods: int = 4
    min_obs: int = 60
    # Fewer clusters than this: decide on the wild cluster bootstrap, not the cluster t.
    bootstrap_below: int = 40
    bootstrap_draws: int = 9999
    seed: int = 0
    placebo: bool = True
    # The placebo blocks promotion, so a false alarm costs a real KPI: it is judged at 1 %
    # (BH across candidates), which a feedback loop strong enough to fake a KPI clears easily.
    placebo_alpha: float = 0.01
    deviance_threshold: float = 1.0
    coaching_threshold: float = -1.0
    deviance_min_periods: int = 4
    # |pooled correlation| from which an across-rep pattern counts as a pattern (trap flag).
    trap_min_corr: float = 0.1

    def __post_init__(self) -> None:
        if self.lag not in (0, 1):
            raise ValueError("lag must be 0 or 1")
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be between 0 and 1")
        if not 0 < self.margin < 10:
            raise ValueError("margin must be a positive standardised effect")
        if not 0 < self.power < 1:
            raise ValueError("power must be between 0 and 1")
        if self.holdout_periods < 1:
            raise ValueError("holdout_periods must be at least 1")
        if self.min_reps < 2 or self.min_periods < 2 or self.min_obs < 1:
            raise ValueError("min_reps and min_periods must be at least 2, min_obs at least 1")
        if self.bootstrap_draws < 99:
            raise ValueError("bootstrap_draws must be at least 99")
        if self.deviance_min_periods < 2:
            raise ValueError("deviance_min_periods must be at least 2")


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
    p: float | None = None  # the deciding p: cluster t (G-1 df) or wild bootstrap
    q: float | None = None  # Benjamini-Hochberg across the fitted candidates
    ci_low: float | None = None  # 1 - alpha, from the same inference as p
    ci_high: float | None = None
    standardised_effect: float | None = None
    std_ci_low: float | None = None
    std_ci_high: float | None = None
    mde: float | None = None  # minimum detectable standardised effect at `power`
    margin_raw: float | None = None  # the margin in outcome units per unit of the activity
    lead_coef: float | None = None  # placebo: the next period's activity
    lead_p: float | None = None
    lead_q: float | None = None
    placebo_flag: bool = False
    plain: str = ""  # one sentence without statistics, for everyone
    partial_r2: float | None = None
    oos_gain: float | None = None
    pooled_corr: float | None = None
    within_corr: float | None = None
    within_sd: float | None = None
    trap: bool = False
    trap_note: str | None = None
    # A value far outside the rest decided it (a typo?): shown, but no verdict for the status.
    suspect: bool = False


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
    n_reps_once: int = 0  # reps with a single complete period, left out of everything
    inference: str = "cluster_t"
    deviance_excluded: int = 0  # reps in the fit with too few periods for a deviance score
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
