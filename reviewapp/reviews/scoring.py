"""Review scoring, as pure functions: attainment, band scores, the two sides and the overall.

Goals never enter here: only validated KPIs (quantitative) and manager competency ratings
(qualitative) are scored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

DIVERGENCE_THRESHOLD = 1.5
# Scores are means of small integers, computed in binary floating point: 0.3·4 + 0.7·3 is
# 3.2999999999999998. Comparisons and rounding read them at this many decimals first, so that
# a gap of 1.50 on the page is a gap of 1.5 to the rule (static/js/scores.js does the same).
SCORE_DECIMALS = 9
# Cap for attainment: reaching zero on a lower-is-better KPI is as good as it gets, not a
# division by zero, and a stored number must stay finite on every database.
MAX_ATTAINMENT = 10.0


def attainment(actual: float | None, target: float, direction: str) -> float | None:
    """actual / target, inverted (target / actual) when lower is better; None without data."""
    if actual is None or not math.isfinite(actual) or target <= 0:
        return None
    if direction == "lower":
        return MAX_ATTAINMENT if actual <= 0 else min(target / actual, MAX_ATTAINMENT)
    return min(actual / target, MAX_ATTAINMENT)


def band_score(value: float | None, bands: Sequence[float]) -> int | None:
    """Map attainment to 1–5: below bands[0] → 1, [bands[0], bands[1]) → 2, …, ≥ bands[3] → 5."""
    if value is None:
        return None
    score = 1
    for threshold in bands:
        if value >= threshold:
            score += 1
    return score


def validate_bands(bands: Sequence[float]) -> list[float]:
    """Four strictly increasing positive thresholds, or ValueError saying what is wrong."""
    values = [float(b) for b in bands]
    if len(values) != 4:
        raise ValueError("Give four thresholds: where scores 2, 3, 4 and 5 begin.")
    if any(v <= 0 for v in values) or any(b <= a for a, b in zip(values, values[1:],
                                                                 strict=False)):
        raise ValueError("Thresholds must be positive and strictly increasing.")
    return values


def band_ranges(bands: Sequence[float]) -> list[tuple[int, str]]:
    """The attainment range of each score 1–5 in words ("90 % to under 100 %")."""
    v = [f"{round(x * 100, 4):g} %" for x in validate_bands(bands)]
    return [(1, f"below {v[0]}"), (2, f"{v[0]} to under {v[1]}"),
            (3, f"{v[1]} to under {v[2]}"), (4, f"{v[2]} to under {v[3]}"),
            (5, f"{v[3]} or more")]


def is_divergent(quant: float | None, qual: float | None) -> bool:
    """The two sides disagree enough that the manager must explain (|quant − qual| ≥ 1.5)."""
    return (quant is not None and qual is not None
            and round(abs(quant - qual), SCORE_DECIMALS) >= DIVERGENCE_THRESHOLD)


@dataclass(frozen=True)
class Scores:
    quant: float | None
    qual: float | None
    overall: float | None
    weight_used: float | None  # the quantitative weight after renormalisation
    renormalised: bool
    divergence: float | None

    @property
    def divergent(self) -> bool:
        return is_divergent(self.quant, self.qual)

    @property
    def both_sides(self) -> str:
        """"The KPI score (4.50) and the competency score (2.00)", for the refusals that
        name a divergence."""
        return (f"The KPI score ({format_score(self.quant)}) and the competency score "
                f"({format_score(self.qual)})")


def weighted_mean(values: Sequence[tuple[float | None, float]]) -> float | None:
    """Mean of (value, weight) pairs, ignoring missing values; None when nothing is there."""
    present = [(v, w) for v, w in values if v is not None]
    total = sum(w for _, w in present)
    if not present or total <= 0:
        return None
    return sum(v * w for v, w in present) / total


def combine(kpi_scores: Sequence[tuple[int | None, float]], ratings: Sequence[int | None],
            weight: float) -> Scores:
    """Quantitative = weighted mean of KPI scores; qualitative = mean of manager ratings;
    overall = w·quant + (1 − w)·qual, renormalised over the sides that exist."""
    quant = weighted_mean(kpi_scores)
    qual = weighted_mean([(r, 1.0) for r in ratings])
    if quant is not None and qual is not None:
        return Scores(quant, qual, weight * quant + (1 - weight) * qual, weight, False,
                      abs(quant - qual))
    if quant is not None:
        return Scores(quant, None, quant, 1.0, True, None)
    if qual is not None:
        return Scores(None, qual, qual, 0.0, True, None)
    return Scores(None, None, None, None, False, None)


def format_score(value: float | None) -> str:
    """A score as every page and the record show it: two decimals, halves rounded up ("3.55",
    1.325 -> "1.33" though its binary value is 1.32499...), "—" when missing.
    static/js/scores.js rounds the same way."""
    if value is None:
        return "—"
    figure = Decimal(repr(round(value, SCORE_DECIMALS)))
    return str(figure.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def partial_side(quant: float | None, qual: float | None) -> str | None:
    """Which side an overall score rests on when only one side has scores, else None."""
    if quant is not None and qual is None:
        return "KPIs only"
    if qual is not None and quant is None:
        return "competencies only"
    return None
