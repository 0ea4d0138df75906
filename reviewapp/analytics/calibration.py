"""Calibration analysis, as pure functions: how each manager rates against the organisation.

Plain data in (DataFrames with the columns each function names), dataclasses out; no Flask, no
database. Raters and reviews are opaque keys (ids), so names never enter the numbers.

The unit of the rater comparisons is the rep, not the rating: a manager's five ratings of one
rep are one observation (each rep's mean rating), because the ratings of one person are not
independent and counting them five times would make every interval too narrow. The interval is
the Welch t interval (unequal variances, Welch–Satterthwaite df) of the difference between the
manager's reps and everyone else's, rescaled to the difference from the organisation's mean:
mean(M) − mean(all) = n_rest / n_all · (mean(M) − mean(rest)), a fixed factor, so the interval
and whether it excludes zero carry over exactly.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reviewapp.reviews.scoring import SCORE_DECIMALS

LEVEL = 0.95
MIN_GROUP = 4  # fewer people than this: an average would point at someone, so it is hidden
LIFT = 0.5  # "rates high": the manager's mean qualitative this far above the organisation's
CENTRAL_SHARE = 0.5  # central tendency: at least this share of ratings at the middle (3) ...
MIDDLE = 3  # ... and a spread (SD) smaller than the organisation's
GAP = 1  # a self–manager gap is listed when |self − manager| is more than this
PERFORMANCE = ("low", "mid", "high")  # overall < 2.5, < 3.5, otherwise
POTENTIAL = (1, 2, 3)  # low, medium, high


@dataclass(frozen=True)
class Interval:
    """A difference of means with its confidence interval."""

    estimate: float
    low: float
    high: float
    df: float
    se: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def _finite(values: Iterable[float | None]) -> np.ndarray:
    array = np.array([np.nan if v is None else v for v in values], dtype=float)
    return array[np.isfinite(array)]


def welch_difference(a: Sequence[float], b: Sequence[float],
                     level: float = LEVEL) -> Interval | None:
    """mean(a) − mean(b) with its Welch t interval; None with fewer than two values on a side
    or no spread at all (the interval is undefined)."""
    a, b = _finite(a), _finite(b)
    if a.size < 2 or b.size < 2:
        return None
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se2 = va + vb
    if not se2 > 0:
        return None
    df = se2 ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    from scipy import stats  # imported here: app start does not need scipy.stats

    t = float(stats.t.ppf(0.5 + level / 2, df))
    estimate, se = float(a.mean() - b.mean()), math.sqrt(se2)
    return Interval(estimate, estimate - t * se, estimate + t * se, float(df), se)


@dataclass(frozen=True)
class Comparison:
    """A group's mean against the organisation's (the group included), with the interval of
    the difference (None when it cannot be computed: too few people or no spread)."""

    n: int
    mean: float
    org_mean: float
    interval: Interval | None

    @property
    def difference(self) -> float:
        return self.mean - self.org_mean

    @property
    def excludes_zero(self) -> bool:
        return self.interval is not None and self.interval.excludes_zero


def compare_to_org(groups: Mapping[Hashable, Sequence[float]],
                   level: float = LEVEL) -> dict[Hashable, Comparison]:
    """Each group's mean minus the mean of all groups together, with a Welch interval."""
    clean = {key: _finite(values) for key, values in groups.items()}
    clean = {key: values for key, values in clean.items() if values.size}
    if not clean:
        return {}
    everyone = np.concatenate(list(clean.values()))
    org_mean = float(everyone.mean())
    out = {}
    for key, values in clean.items():
        rest = np.concatenate([v for k, v in clean.items() if k != key] or [np.empty(0)])
        against_rest = welch_difference(values, rest, level)
        interval = None
        if against_rest is not None:
            factor = rest.size / everyone.size
            interval = Interval(float(values.mean()) - org_mean, factor * against_rest.low,
                                factor * against_rest.high, against_rest.df,
                                factor * against_rest.se)
        out[key] = Comparison(int(values.size), float(values.mean()), org_mean, interval)
    return out


def rep_means(ratings: pd.DataFrame) -> pd.DataFrame:
    """One row per review (columns review, rater, qual): the mean of the manager's ratings of
    that rep. `ratings` has one row per competency rating: review, rater, rating (None when
    not rated; ignored)."""
    rated = ratings.dropna(subset=["rating", "rater"])
    if rated.empty:
        return pd.DataFrame({"review": [], "rater": [], "qual": []})
    return (rated.groupby(["review", "rater"], sort=False)["rating"].mean()
            .reset_index(name="qual"))


def _by_rater(frame: pd.DataFrame, column: str) -> dict[Hashable, list[float]]:
    frame = frame.dropna(subset=[column, "rater"])
    return {rater: part[column].astype(float).tolist()
            for rater, part in frame.groupby("rater", sort=False)}


# Leniency and central tendency ---------------------------------------------------------------


@dataclass(frozen=True)
class Leniency:
    """A manager's mean qualitative rating (per rep, as they rated it) against the
    organisation's; flagged when the interval of the difference excludes zero."""

    rater: Hashable
    comparison: Comparison

    @property
    def flagged(self) -> bool:
        return self.comparison.excludes_zero

    @property
    def direction(self) -> str:
        return "lenient" if self.comparison.difference > 0 else "severe"


def leniency(ratings: pd.DataFrame, level: float = LEVEL) -> list[Leniency]:
    """Per rater, from one row per rating (review, rater, rating: the manager's own rating)."""
    compared = compare_to_org(_by_rater(rep_means(ratings), "qual"), level)
    return [Leniency(rater, c) for rater, c in compared.items()]


@dataclass(frozen=True)
class Spread:
    """Central tendency: the share of a manager's ratings at the middle (3) and their SD,
    beside the organisation's; flagged when at least half sit at 3 and they spread less."""

    rater: Hashable
    n_ratings: int
    share_middle: float
    sd: float | None
    org_share_middle: float
    org_sd: float | None

    @property
    def flagged(self) -> bool:
        return (self.share_middle >= CENTRAL_SHARE and self.sd is not None
                and self.org_sd is not None and self.sd < self.org_sd)


def _sd(values: np.ndarray) -> float | None:
    return float(values.std(ddof=1)) if values.size >= 2 else None


def central_tendency(ratings: pd.DataFrame) -> list[Spread]:
    """Per rater, over their individual ratings (review, rater, rating)."""
    groups = {k: _finite(v) for k, v in _by_rater(ratings, "rating").items()}
    if not groups:
        return []
    everyone = np.concatenate(list(groups.values()))
    org_share, org_sd = float(np.mean(everyone == MIDDLE)), _sd(everyone)
    return [Spread(rater, int(v.size), float(np.mean(v == MIDDLE)), _sd(v), org_share, org_sd)
            for rater, v in groups.items()]


# Ratings against the numbers -----------------------------------------------------------------


@dataclass(frozen=True)
class AgainstNumbers:
    """A manager's people: their qualitative ratings and their validated-KPI scores, each
    against the organisation's. Flagged when the ratings sit at least LIFT above the
    organisation's while the KPI results are not shown to be above its average: the interval
    of the quantitative difference includes zero (at the average) or lies below it (under the
    average with high ratings is no better)."""

    rater: Hashable
    qual: Comparison
    quant: Comparison | None  # None when none of their people has a KPI score

    @property
    def flagged(self) -> bool:
        return (self.qual.difference >= LIFT and self.quant is not None
                and self.quant.interval is not None and self.quant.interval.low <= 0)


def against_numbers(ratings: pd.DataFrame, reviews: pd.DataFrame,
                    level: float = LEVEL) -> list[AgainstNumbers]:
    """Per rater, from the ratings (review, rater, rating) and one row per review with its
    quantitative score (review, rater, quant; None without KPI scores)."""
    qual = compare_to_org(_by_rater(rep_means(ratings), "qual"), level)
    quant = compare_to_org(_by_rater(reviews, "quant"), level)
    return [AgainstNumbers(rater, c, quant.get(rater)) for rater, c in qual.items()]


# Self–manager gaps, divergence ---------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """One competency of one review where the rep and the manager are more than GAP apart."""

    review: Hashable
    competency: Hashable
    self_rating: int
    manager_rating: int

    @property
    def gap(self) -> int:
        return self.self_rating - self.manager_rating

    @property
    def kind(self) -> str:
        """A blind spot: the rep rates themselves higher; a hidden strength: the manager does."""
        return "blind spot" if self.gap > 0 else "hidden strength"


def self_manager_gaps(pairs: pd.DataFrame, more_than: int = GAP) -> list[Gap]:
    """From one row per rating (review, competency, self_rating, manager_rating), the gaps of
    more than `more_than` points, largest first (ties in input order)."""
    both = pairs.dropna(subset=["self_rating", "manager_rating"])
    gaps = [Gap(row.review, row.competency, int(row.self_rating), int(row.manager_rating))
            for row in both.itertuples(index=False)]
    gaps = [g for g in gaps if abs(g.gap) > more_than]
    return sorted(gaps, key=lambda g: -abs(g.gap))


@dataclass(frozen=True)
class Divergence:
    review: Hashable
    quant: float
    qual: float

    @property
    def gap(self) -> float:
        return self.quant - self.qual


def divergences(scores: pd.DataFrame, threshold: float) -> list[Divergence]:
    """Reviews (review, quant, qual) whose two sides are at least `threshold` apart, widest
    first."""
    both = scores.dropna(subset=["quant", "qual"])
    found = [Divergence(r.review, float(r.quant), float(r.qual))
             for r in both.itertuples(index=False)
             if round(abs(r.quant - r.qual), SCORE_DECIMALS) >= threshold]
    return sorted(found, key=lambda d: -abs(d.gap))


# Distributions and the 9-box -----------------------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    """What a box plot shows, and what its table says."""

    n: int
    mean: float
    sd: float | None
    low: float
    q1: float
    median: float
    q3: float
    high: float


def describe(values: Iterable[float | None]) -> Distribution | None:
    """Summary of the values present (None when there are none); quartiles interpolate
    linearly, as numpy's and pandas' defaults do."""
    v = _finite(values)
    if not v.size:
        return None
    q1, median, q3 = (float(x) for x in np.percentile(v, [25, 50, 75]))
    return Distribution(int(v.size), float(v.mean()), _sd(v), float(v.min()), q1, median, q3,
                        float(v.max()))


def performance_level(overall: float) -> str:
    """low below 2.5, mid below 3.5, high from 3.5."""
    return "low" if overall < 2.5 else "mid" if overall < 3.5 else "high"


@dataclass(frozen=True)
class BoxCell:
    performance: str
    potential: int
    reviews: tuple
    mean_overall: float | None  # None when fewer than MIN_GROUP people are in the cell

    @property
    def n(self) -> int:
        return len(self.reviews)


@dataclass(frozen=True)
class NineBox:
    cells: dict[tuple[str, int], BoxCell]
    unrated: tuple  # reviews with an overall score but no potential rating
    unscored: tuple  # reviews without an overall score

    def rows(self) -> list[list[BoxCell]]:
        """Potential high to low, each with performance low to high (the usual layout)."""
        return [[self.cells[(p, pot)] for p in PERFORMANCE] for pot in reversed(POTENTIAL)]


def nine_box(scores: pd.DataFrame, min_group: int = MIN_GROUP) -> NineBox:
    """Performance (overall score) against potential (1–3), from review, overall, potential."""
    members: dict[tuple[str, int], list] = {(p, pot): [] for p in PERFORMANCE for pot in POTENTIAL}
    overall_of: dict[tuple[str, int], list[float]] = {key: [] for key in members}
    unrated, unscored = [], []
    for row in scores.itertuples(index=False):
        if row.overall is None or not np.isfinite(row.overall):
            unscored.append(row.review)
            continue
        potential = None if pd.isna(row.potential) else int(row.potential)
        if potential not in POTENTIAL:
            unrated.append(row.review)
            continue
        key = (performance_level(float(row.overall)), potential)
        members[key].append(row.review)
        overall_of[key].append(float(row.overall))
    cells = {key: BoxCell(key[0], key[1], tuple(found),
                          float(np.mean(overall_of[key])) if len(found) >= min_group else None)
             for key, found in members.items()}
    return NineBox(cells, tuple(unrated), tuple(unscored))


def comparable(n_others: int, min_group: int = MIN_GROUP) -> bool:
    """Whether figures about people the viewer may not see can be shown as an anonymised
    group: none at all, or at least min_group of them (one or two would be identifiable)."""
    return n_others == 0 or n_others >= min_group
