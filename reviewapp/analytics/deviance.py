"""Positive deviance: who beats what their activity predicts, and who is busy without results.

"What activity predicts" comes from the within-rep model: the validated KPIs' within-rep
coefficients plus company-wide period effects. What is left of a rep's outcome on average is
their own edge (or shortfall). One or two lucky quarters must not make a teachable moment, so:

- a rep needs at least `min_periods` periods in the window to be scored;
- the rep's mean residual is shrunk toward zero by empirical Bayes: reliability
  tau^2 / (tau^2 + sigma^2 / n_periods), where tau^2 is the spread of true rep edges (method of
  moments) and sigma^2 the within-rep residual variance. With no true differences tau^2 is
  about zero and everyone is shrunk to about zero.

Scores are in SDs of a rep-period's outcome around that prediction (sqrt(tau^2 + sigma^2)).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reviewapp.analytics.panel import absorb, group_means
from reviewapp.lazy import np


def _label(value: object) -> object:
    """Plain Python scalar for a rep label (numpy scalars do not serialise)."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class DevianceEntry:
    """A rep beating the model: shrunken mean residual over the window."""

    rep: object
    score: float
    n_obs: int
    reliability: float = 1.0  # the share of the rep's raw edge kept after shrinkage


@dataclass(frozen=True)
class CoachingEntry:
    """A rep in the busiest quartile of some activity that does not pay, with a low score."""

    rep: object
    score: float
    metrics: list[str]


@dataclass(frozen=True)
class Deviance:
    """Rep scores and the two lists derived from them."""

    scores: np.ndarray  # per rep code, NaN if not scored
    reliability: np.ndarray  # per rep code, NaN if not scored
    teachable_moments: list[DevianceEntry]
    coaching: list[CoachingEntry]
    n_excluded: int  # reps with fewer than min_periods periods


def rep_edges(
    y: np.ndarray,
    x_kpis: np.ndarray,
    coef: np.ndarray,
    rep_codes: np.ndarray,
    n_reps: int,
    period_codes: np.ndarray,
    n_periods: int,
) -> tuple[np.ndarray, float]:
    """Each rep's raw edge (rep effect beyond activity and season, centred) and sigma^2."""
    residual = y - x_kpis @ coef if x_kpis.shape[1] else y.astype(float)
    two_way = absorb(residual - residual.mean(), rep_codes, n_reps, period_codes, n_periods)
    edges = two_way.rep_effects - two_way.rep_effects.mean()
    df = y.shape[0] - n_reps - n_periods + 1 - x_kpis.shape[1]
    sigma2 = float(two_way.resid @ two_way.resid) / df if df > 0 else np.nan
    return edges, sigma2


def positive_deviance(
    y: np.ndarray,
    x_kpis: np.ndarray,
    coef: np.ndarray,
    activity: Mapping[str, tuple[np.ndarray, str]],
    rep_codes: np.ndarray,
    reps: np.ndarray,
    period_codes: np.ndarray,
    n_periods: int,
    deviance_threshold: float,
    coaching_threshold: float,
    min_periods: int = 4,
) -> Deviance:
    """Score reps by their shrunken edge; list teachable moments and coaching cases.

    `activity` maps each not-predictive activity to (its column, its direction): "busy" is the
    top quartile of a higher-is-better activity and the bottom quartile of a lower-is-better one.
    """
    n_reps = reps.shape[0]
    counts = np.bincount(rep_codes, minlength=n_reps)
    scored = counts >= min_periods
    scores = np.full(n_reps, np.nan)
    reliability = np.full(n_reps, np.nan)
    empty = Deviance(scores, reliability, [], [], int((~scored).sum()))
    if scored.sum() < 3:
        return empty
    edges, sigma2 = rep_edges(y, x_kpis, coef, rep_codes, n_reps, period_codes, n_periods)
    if not np.isfinite(sigma2) or sigma2 <= 0:
        return empty
    noise = sigma2 / counts[scored]
    centred = edges[scored] - edges[scored].mean()
    tau2 = max(0.0, float(np.var(centred, ddof=1) - noise.mean()))
    kept = tau2 / (tau2 + noise)
    scores[scored] = kept * centred / np.sqrt(tau2 + sigma2)
    reliability[scored] = kept

    order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
    teachable = [DevianceEntry(_label(reps[i]), float(scores[i]), int(counts[i]),
                               float(reliability[i]))
                 for i in order if scores[i] > deviance_threshold]

    flagged: dict[int, list[str]] = {}
    if activity:
        keys = list(activity)
        columns = np.column_stack([activity[k][0] for k in keys])
        signs = np.array([1.0 if activity[k][1] == "higher" else -1.0 for k in keys])
        rep_level = group_means(rep_codes, columns, n_reps)[scored] * signs
        busy = rep_level >= np.quantile(rep_level, 0.75, axis=0)  # busiest quartile
        low = (scores[scored] < coaching_threshold)[:, None]
        index = np.flatnonzero(scored)
        for i, j in zip(*np.nonzero(busy & low), strict=True):
            flagged.setdefault(int(index[i]), []).append(keys[j])
    coaching = [
        CoachingEntry(_label(reps[i]), float(scores[i]), metrics)
        for i, metrics in sorted(flagged.items(), key=lambda item: scores[item[0]])
    ]
    return Deviance(scores, reliability, teachable, coaching, int((~scored).sum()))
