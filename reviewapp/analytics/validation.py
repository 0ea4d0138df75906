"""KPI validation: does a candidate activity predict the outcome within the same rep?

Method (DESIGN.md, "KPI validation, the method"): a joint within-rep fixed-effects OLS of the
outcome on all candidates, cluster-robust by rep with t inference, Benjamini-Hochberg q across
candidates, pooled vs within correlations (the between-rep trap), an out-of-sample R^2 gain on
the latest periods, guard rails, and positive deviance. One joint fit serves every number;
nothing is refitted per candidate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy
import statsmodels

from reviewapp.analytics.deviance import positive_deviance
from reviewapp.analytics.fe import fe_rank, fit_within, independent_columns, out_of_sample
from reviewapp.analytics.panel import PERIOD, REP, PreparedPanel, absorb, prepare_panel
from reviewapp.analytics.results import (
    CandidateResult,
    Decision,
    ValidationParams,
    ValidationResult,
)
from reviewapp.analytics.wording import Wording

__all__ = [
    "CandidateResult",
    "ValidationParams",
    "ValidationResult",
    "bh_qvalues",
    "library_versions",
    "validate",
]

# Within SD at or below this share of the column's magnitude is rounding noise, not variation.
VARIATION_EPS = 1e-9


def bh_qvalues(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q), as multipletests(method='fdr_bh')."""
    p = np.asarray(pvalues, dtype=float)
    m = p.shape[0]
    if m == 0:
        return p
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    # Step-up: each q is the smallest scaled p at or above its rank.
    q_sorted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    q = np.empty(m)
    q[order] = q_sorted
    return q


def library_versions() -> dict[str, str]:
    """Versions of the numerical libraries, stored with a run for reproducibility."""
    return {
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "statsmodels": statsmodels.__version__,
    }


def _panel_problems(prep: PreparedPanel, params: ValidationParams) -> list[str]:
    """Human reasons why the panel as a whole cannot support a verdict (empty if it can)."""
    problems = []
    if prep.n_reps < params.min_reps:
        problems.append(
            f"only {prep.n_reps} reps with complete data; at least {params.min_reps} needed"
        )
    min_periods = max(params.min_periods, params.holdout_periods + 2)
    if prep.n_periods < min_periods:
        why = (
            ""
            if min_periods == params.min_periods
            else (f" ({params.holdout_periods} held out for the out-of-sample check)")
        )
        problems.append(
            f"only {prep.n_periods} periods with complete data; at least {min_periods} needed{why}"
        )
    if prep.n_obs < params.min_obs:
        problems.append(
            f"only {prep.n_obs} complete observations; at least {params.min_obs} needed"
        )
    return problems


def _correlations(x_raw: np.ndarray, y_raw: np.ndarray) -> np.ndarray:
    """Column-wise Pearson correlation of each x column with y (NaN when a side is constant)."""
    xc = x_raw - x_raw.mean(axis=0)
    yc = y_raw - y_raw.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xc.T @ yc) / np.sqrt((xc * xc).sum(axis=0) * float(yc @ yc))


def _num(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _decide(
    q: float, coef: float, gain: float, direction: str, alpha: float, holdout_note: str
) -> tuple[Decision, str]:
    """KPI when q < alpha, the sign matches the direction and the OOS gain is positive."""
    failures = []
    if not q < alpha:
        failures.append(f"no significant within-rep relation (q = {q:.3g}, needs < {alpha:g})")
    if np.sign(coef) != (1.0 if direction == "higher" else -1.0):
        sign = "positive" if coef > 0 else "negative" if coef < 0 else "zero"
        failures.append(f"the within-rep coefficient is {sign} but {direction} is better")
    if not np.isfinite(gain):
        failures.append(f"the out-of-sample check could not be computed on {holdout_note}")
    elif gain <= 0:
        failures.append(
            f"it does not improve out-of-sample R\u00b2 on {holdout_note} (gain {gain:.3g})"
        )
    if failures:
        return "not_predictive", "; ".join(failures)
    return "kpi", (
        f"q = {q:.3g} < {alpha:g}, sign as expected ({direction} is better), "
        f"out-of-sample R\u00b2 gain {gain:.3g} on {holdout_note}"
    )


def validate(
    panel: pd.DataFrame,
    outcome: str,
    candidates: Sequence[str],
    directions: Mapping[str, str],
    params: ValidationParams | None = None,
    *,
    names: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    grain: str = "period",
    rep_col: str = REP,
    period_col: str = PERIOD,
) -> ValidationResult:
    """Run the KPI validation of `candidates` against `outcome` on a rep x period panel."""
    params = params or ValidationParams()
    candidates = list(candidates)
    for key in candidates:
        if directions.get(key) not in ("higher", "lower"):
            raise ValueError(f"direction of {key!r} must be 'higher' or 'lower'")
    wording = Wording(outcome, names or {}, units or {}, grain, params.lag)
    prep = prepare_panel(panel, outcome, candidates, params.lag, rep_col, period_col)
    base = {"n_reps": prep.n_reps, "n_obs": prep.n_obs}

    def insufficient(key: str, reason: str, **extra: Any) -> CandidateResult:
        return CandidateResult(
            key=key,
            name=wording.name(key),
            direction=directions[key],
            decision="insufficient_data",
            reason=reason,
            sentence=wording.insufficient(key, reason),
            **base,
            **extra,
        )

    def panel_fails(reason: str, df_resid: int | None = None) -> ValidationResult:
        return ValidationResult(
            outcome=outcome,
            params=params,
            n_reps=prep.n_reps,
            n_obs=prep.n_obs,
            n_periods=prep.n_periods,
            candidates=[insufficient(key, reason) for key in candidates],
            deviance_note=f"not run: {reason}",
            insufficient_reason=reason,
            df_resid=df_resid,
            versions=library_versions(),
        )

    problems = _panel_problems(prep, params)
    if problems:
        return panel_fails("; ".join(problems))

    g, n_periods = prep.n_reps, prep.n_periods
    if prep.n_obs <= g:
        return panel_fails("no rep has more than one complete observation")
    rep_codes = prep.rep_codes
    period_codes = prep.period_codes if params.period_effects else None
    one_way = absorb(np.column_stack([prep.y, prep.x]), rep_codes, g).resid
    y_w, x_w = one_way[:, 0], one_way[:, 1:]
    # Within SD on n - G df (rep means estimated); only ratios of it enter the numbers.
    within_sd = np.sqrt((x_w * x_w).sum(axis=0) / (prep.n_obs - g))
    y_within_sd = math.sqrt(float(y_w @ y_w) / (prep.n_obs - g))
    if y_within_sd <= VARIATION_EPS * float(np.abs(prep.y).max()):
        return panel_fails(f"{wording.name(outcome)} does not vary within reps")
    pooled_corr = _correlations(prep.x, prep.y)
    within_corr = _correlations(x_w, y_w)

    varies = within_sd > VARIATION_EPS * np.abs(prep.x).max(axis=0)
    if params.period_effects:
        absorbed = absorb(
            np.column_stack([prep.y, prep.x]), rep_codes, g, period_codes, n_periods
        ).resid
    else:
        absorbed = one_way
    y_abs, x_abs = absorbed[:, 0], absorbed[:, 1:]
    fitted = np.flatnonzero(varies)
    x_fit = x_abs[:, fitted]
    keep = independent_columns(x_fit.T @ x_fit, (x_w[:, fitted] ** 2).sum(axis=0))
    collinear = fitted[~keep]
    fitted = fitted[keep]
    n_absorbed = fe_rank(rep_codes, g, period_codes, n_periods)
    df_resid = prep.n_obs - fitted.shape[0] - n_absorbed
    if df_resid < 1:
        return panel_fails(
            f"{prep.n_obs} observations are too few for {g} reps"
            + (f", {n_periods} periods" if params.period_effects else "")
            + f" and {fitted.shape[0]} candidates",
            df_resid,
        )

    fit = fit_within(y_abs, x_abs[:, fitted], rep_codes, g, n_absorbed) if fitted.size else None
    q = bh_qvalues(fit.p_cluster) if fit else np.empty(0)
    oos = out_of_sample(
        prep.y,
        prep.x[:, fitted],
        rep_codes,
        prep.period_codes,
        n_periods,
        params.holdout_periods,
        params.period_effects,
    )
    holdout_note = f"the last {params.holdout_periods} {wording.grain}s"

    results: list[CandidateResult] = []
    position = {int(j): i for i, j in enumerate(fitted)}
    for j, key in enumerate(candidates):
        descriptive = {
            "pooled_corr": _num(pooled_corr[j]),
            "within_sd": _num(within_sd[j]),
        }
        if not varies[j]:
            results.append(insufficient(key, "it does not vary within reps", **descriptive))
            continue
        if j in collinear:
            reason = "it carries no information beyond the other candidates" + (
                " and period effects" if params.period_effects else ""
            )
            results.append(insufficient(key, reason, **descriptive))
            continue
        assert fit is not None  # fitted is non-empty here
        i = position[j]
        coef, qi = float(fit.coef[i]), float(q[i])
        gain = oos.gains[i]
        detectable = qi < params.alpha
        r_pooled = pooled_corr[j]
        clear_pattern = bool(np.isfinite(r_pooled) and abs(r_pooled) >= params.trap_min_corr)
        # The trap: a clear across-rep pattern that the within-rep evidence does not back
        # (no detectable relation, or one of the opposite sign).
        trap = clear_pattern and bool(not detectable or np.sign(coef) != np.sign(r_pooled))

        decision, reason = _decide(qi, coef, gain, directions[key], params.alpha, holdout_note)
        ci = (float(fit.ci_low[i]), float(fit.ci_high[i]))
        results.append(
            CandidateResult(
                key=key,
                name=wording.name(key),
                direction=directions[key],
                decision=decision,
                reason=reason,
                sentence=wording.fitted(key, coef, ci, detectable, float(r_pooled), trap),
                **base,
                coef=coef,
                se_classical=float(fit.se_classical[i]),
                se_cluster=float(fit.se_cluster[i]),
                t=float(fit.t_cluster[i]),
                p=float(fit.p_cluster[i]),
                q=qi,
                ci_low=ci[0],
                ci_high=ci[1],
                standardised_effect=coef * float(within_sd[j]) / y_within_sd,
                partial_r2=float(fit.partial_r2[i]),
                oos_gain=_num(gain),
                within_corr=_num(within_corr[j]),
                trap=trap,
                trap_note=wording.trap_note(key, float(r_pooled), detectable) if trap else None,
                **descriptive,
            )
        )

    passed = [j for j, r in enumerate(results) if r.decision == "kpi"]
    activity = {
        r.key: prep.x[:, j] for j, r in enumerate(results) if r.decision == "not_predictive"
    }
    deviance = positive_deviance(
        prep.y,
        prep.x[:, passed],
        activity,
        rep_codes,
        prep.reps,
        prep.period_codes,
        n_periods,
        params.deviance_threshold,
        params.coaching_threshold,
    )
    if passed:
        deviance_note = (
            "pooled OLS of the outcome on the validated KPIs "
            f"({', '.join(wording.name(candidates[j]) for j in passed)}) plus period effects"
        )
    else:
        deviance_note = "no candidate passed, so the outcome is compared with period effects only"
    return ValidationResult(
        outcome=outcome,
        params=params,
        n_reps=prep.n_reps,
        n_obs=prep.n_obs,
        n_periods=n_periods,
        candidates=results,
        teachable_moments=deviance.teachable_moments,
        coaching=deviance.coaching,
        deviance_predictors=[candidates[j] for j in passed],
        deviance_note=deviance_note,
        df_resid=df_resid,
        oos_r2_full=oos.r2_full,
        oos_n_obs=oos.n_obs,
        holdout_periods=[prep.periods[c] for c in oos.holdout_periods],
        versions=library_versions(),
    )
