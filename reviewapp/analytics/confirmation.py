"""The confirmation rule: a KPI must hold at two consecutive period ends.

A run validates the window ending at the latest period and the window of the same length
ending one period earlier. A candidate that passes on the latest only is provisional (it does
not score) until the next period confirms it; one that passes on both is confirmed. With a
fresh import of history both windows exist at once, so a metric can be confirmed at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reviewapp.analytics.panel import PERIOD, REP, calendar_index
from reviewapp.analytics.results import ValidationParams, ValidationResult, Verdict
from reviewapp.analytics.validation import validate
from reviewapp.lazy import np, pd


@dataclass(frozen=True)
class TwoEnds:
    """The latest window's result, the previous window's, and each candidate's verdict."""

    latest: ValidationResult
    previous: ValidationResult | None
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    previous_decisions: dict[str, str] = field(default_factory=dict)
    previous_end: Any = None  # the last period of the previous window


def verdict(latest: str, previous: str | None) -> Verdict:
    """kpi only when both ends pass; a pass at the latest end alone is provisional."""
    if latest == "kpi":
        return "kpi" if previous == "kpi" else "provisional"
    return latest  # type: ignore[return-value]


# A period ends the window only once its outcome is in for at least this share of the reps of
# the fullest period: one rep's revenue for the quarter under way confirms nothing.
COMPLETE_SHARE = 0.5


def last_complete(reps_per_period: dict[int, int]) -> int:
    """The latest period (by its index) whose outcome is in for at least COMPLETE_SHARE of the
    reps of the fullest period."""
    fullest = max(reps_per_period.values())
    return max(p for p, n in reps_per_period.items() if n >= COMPLETE_SHARE * fullest)


def validate_two_ends(
    panel: pd.DataFrame,
    outcome: str,
    candidates: Sequence[str],
    directions: Mapping[str, str],
    params: ValidationParams | None = None,
    *,
    window: int,
    grain: str = "period",
    rep_col: str = REP,
    period_col: str = PERIOD,
    **wording: Any,
) -> TwoEnds:
    """Validate the last `window` periods and the `window` periods ending one period earlier.

    The window ends at the latest period with outcome data; `panel` may hold one more period
    at the start, which only the earlier window uses (and with a lag one more again, whose
    activity only lags the first period of the earlier window).
    """
    params = params or ValidationParams()
    labels = pd.Index(panel[period_col])
    calendar = calendar_index(labels, grain) if len(labels) else np.zeros(0, dtype=np.int64)
    has_outcome = np.isfinite(panel[outcome].to_numpy(dtype=float))
    if not has_outcome.any():
        result = validate(panel, outcome, candidates, directions, params, grain=grain,
                          rep_col=rep_col, period_col=period_col, **wording)
        return TwoEnds(result, None, {c.key: "insufficient_data" if c.suspect else c.decision
                                      for c in result.candidates})
    reps_per_period = pd.Series(panel[rep_col].to_numpy()[has_outcome]).groupby(
        calendar[has_outcome]).nunique()
    last = last_complete(reps_per_period.to_dict())
    # With a lag, each window also takes the period before it: its activity is the lag of
    # the window's first period (that period's own rows drop out, having no lag of their own).
    before_start = window + params.lag
    in_latest = (calendar > last - before_start) & (calendar <= last)
    in_previous = (calendar > last - 1 - before_start) & (calendar <= last - 1)
    latest = validate(panel[in_latest], outcome, candidates, directions, params, grain=grain,
                      rep_col=rep_col, period_col=period_col, **wording)
    previous = validate(panel[in_previous], outcome, candidates, directions, params,
                        grain=grain, rep_col=rep_col, period_col=period_col, **wording)
    before = {c.key: c.decision for c in previous.candidates}
    ends = labels[in_previous]
    previous_end = ends[np.argmax(calendar[in_previous])] if in_previous.any() else None
    return TwoEnds(
        latest=latest,
        previous=previous,
        # A suspect value (a typo?) gives no verdict: it never overturns an earlier one.
        verdicts={c.key: "insufficient_data" if c.suspect else verdict(c.decision,
                                                                       before.get(c.key))
                  for c in latest.candidates},
        previous_decisions=before,
        previous_end=previous_end,
    )
