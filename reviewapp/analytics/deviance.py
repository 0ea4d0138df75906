"""Positive deviance: who beats what their activity predicts, and who is busy without results."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reviewapp.analytics.panel import demean_by, group_means


def studentized_external(
    y: np.ndarray, x: np.ndarray, period_codes: np.ndarray, n_periods: int
) -> np.ndarray:
    """Externally studentised residuals of pooled OLS of y on x plus period effects.

    Equals statsmodels OLSInfluence(...).resid_studentized_external for the regression with
    an intercept and period dummies, but in closed form: statsmodels gets sigma_(i) from a
    leave-one-out refit loop (n regressions), far too slow for a 16,000-row panel. External
    (leave-one-out) rather than internal studentisation so a rep's own extreme quarters do
    not inflate the scale they are measured against. Rows with leverage 1 get NaN.
    """
    n = y.shape[0]
    # Period dummies (with the intercept) are absorbed by demeaning within period (FWL); the
    # hat diagonal is then 1/n_t for the dummy part plus the leverage of the demeaned x.
    y_t = demean_by(period_codes, y, n_periods)
    counts = np.bincount(period_codes, minlength=n_periods).astype(float)
    hat = 1.0 / counts[period_codes]
    k = x.shape[1]
    resid = y_t
    if k:
        x_t = demean_by(period_codes, x, n_periods)
        q, r = np.linalg.qr(x_t)
        # Drop directions x_t does not span (e.g. a candidate constant within periods).
        keep = np.abs(np.diag(r)) > 1e-10 * max(1.0, float(np.abs(r).max()))
        q = q[:, keep]
        resid = y_t - q @ (q.T @ y_t)
        hat = hat + np.einsum("ij,ij->i", q, q)
        k = int(keep.sum())
    n_params = n_periods + k
    sse = float(resid @ resid)
    one_minus_h = 1.0 - hat
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2_i = (sse - resid**2 / one_minus_h) / (n - n_params - 1)
        out = resid / np.sqrt(sigma2_i * one_minus_h)
    out[one_minus_h <= 1e-12] = np.nan
    return out


def _label(value: object) -> object:
    """Plain Python scalar for a rep label (numpy scalars do not serialise)."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class DevianceEntry:
    """A rep beating the model: mean studentised residual over the window."""

    rep: object
    score: float
    n_obs: int


@dataclass(frozen=True)
class CoachingEntry:
    """A rep in the top quartile of some activity that does not pay, with a low score."""

    rep: object
    score: float
    metrics: list[str]


@dataclass(frozen=True)
class Deviance:
    """Rep scores and the two lists derived from them."""

    scores: np.ndarray  # per rep code, NaN if no usable row
    teachable_moments: list[DevianceEntry]
    coaching: list[CoachingEntry]


def positive_deviance(
    y: np.ndarray,
    x_passed: np.ndarray,
    x_activity: dict[str, np.ndarray],
    rep_codes: np.ndarray,
    reps: np.ndarray,
    period_codes: np.ndarray,
    n_periods: int,
    deviance_threshold: float,
    coaching_threshold: float,
) -> Deviance:
    """Score reps by mean studentised residual; list teachable moments and coaching cases.

    The model is pooled across reps on purpose (no rep effects): a rep's persistent edge is
    exactly what we want to see, and rep effects would absorb it.
    `x_activity` maps each not-predictive activity metric to its column.
    """
    n_reps = reps.shape[0]
    student = studentized_external(y, x_passed, period_codes, n_periods)
    ok = np.isfinite(student)
    counts = np.bincount(rep_codes[ok], minlength=n_reps)
    sums = np.bincount(rep_codes[ok], weights=student[ok], minlength=n_reps)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
    top = [i for i in order if scores[i] > deviance_threshold]
    teachable = [DevianceEntry(_label(reps[i]), float(scores[i]), int(counts[i])) for i in top]

    flagged: dict[int, list[str]] = {}
    if x_activity:
        keys = list(x_activity)
        rep_level = group_means(rep_codes, np.column_stack(list(x_activity.values())), n_reps)
        busy = rep_level >= np.quantile(rep_level, 0.75, axis=0)  # top quartile per metric
        low = (scores < coaching_threshold)[:, None]
        for i, j in zip(*np.nonzero(busy & low), strict=True):
            flagged.setdefault(int(i), []).append(keys[j])
    coaching = [
        CoachingEntry(_label(reps[i]), float(scores[i]), metrics)
        for i, metrics in sorted(flagged.items(), key=lambda item: scores[item[0]])
    ]
    return Deviance(scores=scores, teachable_moments=teachable, coaching=coaching)
