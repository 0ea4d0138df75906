"""The arithmetic of goal progress: pure functions, no Flask, no database.

Progress is a fraction: (current − start) / (target − start). It is not clamped (a goal can be
at 130% or at −20%); only the bar on the page stops at 0 and 100%. Because the formula divides
by (target − start), it works unchanged for lower-is-better metrics, where the target lies
below the start.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from functools import lru_cache

from reviewapp.lazy import pd
from reviewapp.metrics.periods import Grain, Period

# How far behind the time-based expectation a goal may be before it is suggested at risk / off
# track (in points of progress, as fractions).
AT_RISK_GAP = 0.10
OFF_TRACK_GAP = 0.25

GRAIN_ORDER = [g.value for g in (Grain.DAY, Grain.WEEK, Grain.MONTH, Grain.QUARTER)]


def progress_fraction(current: float | None, start: float, target: float) -> float | None:
    """(current − start) / (target − start); None without a current value."""
    if target == start:
        raise ValueError("target equals start: progress is undefined")
    if current is None or (isinstance(current, float) and math.isnan(current)):
        return None
    return (current - start) / (target - start)


def bar_percent(fraction: float | None) -> float:
    """Width of the progress bar: the fraction as a percentage, held between 0 and 100."""
    if fraction is None:
        return 0.0
    return max(0.0, min(100.0, fraction * 100.0))


def checklist_fraction(done: int, total: int) -> float | None:
    """Share of milestones done; None for an empty checklist."""
    return None if total == 0 else done / total


def elapsed_fraction(start: date, end: date, today: date) -> float:
    """Share of the period behind us on `today` (whole days, the end day included)."""
    days = (end - start).days + 1
    gone = (today - start).days + 1
    return max(0.0, min(1.0, gone / days))


def expected_fraction(elapsed: float, cumulative: bool) -> float:
    """What progress we would expect by now.

    A cumulative measure (a sum, a manual percentage, a checklist) grows over the period, so we
    expect progress in step with time. A mean or a latest value is already a rate, so it is
    held against the whole target from the start.
    """
    return elapsed if cumulative else 1.0


def suggest_status(fraction: float | None, elapsed: float, *, cumulative: bool) -> str | None:
    """on_track / at_risk / off_track / done from progress against time; None without data."""
    if fraction is None:
        return None
    period_over = elapsed >= 1.0
    if fraction >= 1.0 and (cumulative or period_over):
        return "done"
    gap = expected_fraction(elapsed, cumulative) - fraction
    if gap <= AT_RISK_GAP:
        return "on_track"
    if gap <= OFF_TRACK_GAP:
        return "at_risk"
    return "off_track"


def weighted_rollup(parts: Iterable[tuple[float | None, float]]) -> float | None:
    """Weighted mean of (fraction, weight) over the parts that have a fraction.

    Each part counts at most 100%: one goal far beyond its target must not hide another that is
    behind. Below zero is kept, because going backwards is information.
    """
    total = weight_sum = 0.0
    for fraction, weight in parts:
        if fraction is None:
            continue
        total += min(fraction, 1.0) * weight
        weight_sum += weight
    return None if weight_sum == 0 else total / weight_sum


def value_over_period(values: pd.DataFrame, how: str) -> float | None:
    """One rep's value of one metric over a goal's period, from observation rows.

    `values` has columns grain, start, value. When a rep has the same metric at two grains in
    the period (say monthly and quarterly), only the coarsest is used, so nothing is counted
    twice. `how` is the metric's roll-up: sum, mean or last.
    """
    if values.empty:
        return None
    grains = [g for g in GRAIN_ORDER if g in set(values["grain"])]
    rows = values[values["grain"] == grains[-1]].sort_values("start", kind="stable")
    if how == "sum":
        return float(rows["value"].sum())
    if how == "mean":
        return float(rows["value"].mean())
    if how == "last":
        return float(rows["value"].iloc[-1])
    raise ValueError(f"unknown roll-up {how!r}")


GRAIN_RANK = {g: i for i, g in enumerate(GRAIN_ORDER)}


@lru_cache(maxsize=8192)
def counted_on(grain: str, start: str) -> tuple[str, str]:
    """The first and last day (ISO) a goal's dates must hold for a value to count in it: a
    week counts on its Thursday, as the roll-ups place it (W27 of 2026, from Monday 29 June,
    is July's); a month or a quarter only where the goal holds all of it, so that a July goal
    never takes the whole of Q3's revenue."""
    period = Period(Grain(grain), date.fromisoformat(start))
    if period.grain in (Grain.DAY, Grain.WEEK):  # counted on one day: its own, or Thursday
        day = period.anchor.isoformat()
        return day, day
    return start, period.end.isoformat()


def goal_values(pairs: Iterable[tuple], observations: Iterable[tuple]) -> dict[int, float]:
    """Many goals' values at once, from plain rows: value_over_period per (goal, rep), then
    team_value per goal, in one pass over each list.

    `pairs` holds (goal id, rep id, metric id, first day, last day, roll-up, team goal?) per
    goal and measured rep, the days as ISO strings; `observations` holds (rep, metric, grain,
    period start as an ISO string or a date, value). A page's goals meet a few hundred or a
    few thousand rows: grouping them in a dict costs less than building and grouping
    DataFrames, whose fixed cost alone was a fifth of a dashboard. Goals without any value in
    their period are absent.
    """
    series: dict[tuple[int, int], list[tuple[str, str, int, float]]] = {}
    for rep, metric, grain, start, value in observations:
        series.setdefault((rep, metric), []).append(
            (*counted_on(grain, str(start)[:10]), GRAIN_RANK[grain], value))
    for rows in series.values():
        rows.sort()
    members: dict[int, list[float]] = {}
    team_mean: dict[int, bool] = {}
    for goal, rep, metric, first, last, how, team in pairs:
        inside = [r for r in series.get((rep, metric), ()) if first <= r[0] and r[1] <= last]
        if not inside:
            continue
        coarsest = max(rank for _, _, rank, _ in inside)
        values = [value for _, _, rank, value in inside if rank == coarsest]
        if how == "sum":
            value = math.fsum(values)
        elif how == "mean":
            value = math.fsum(values) / len(values)
        elif how == "last":
            value = values[-1]
        else:
            raise ValueError(f"unknown roll-up {how!r}")
        members.setdefault(goal, []).append(value)
        team_mean[goal] = bool(team) and how == "mean"
    return {goal: (math.fsum(values) / len(values) if team_mean[goal] else math.fsum(values))
            for goal, values in members.items()}


def team_value(member_values: Sequence[float], how: str) -> float | None:
    """A team's value from its members' values: the total for sums (and latest values, which
    are stocks such as an open pipeline), the mean across members for means."""
    if not member_values:
        return None
    if how == "mean":
        return sum(member_values) / len(member_values)
    if how in ("sum", "last"):
        return float(sum(member_values))
    raise ValueError(f"unknown roll-up {how!r}")


def next_check_in(start: date, end: date, last: date | None, every_days: int,
                  today: date) -> date | None:
    """When the next check-in is due: `every_days` after the last one (or the start), at the
    latest on the last day; None once a check-in on or after the last day exists, or long after."""
    if last is not None and last >= end:
        return None
    if today > end + timedelta(days=every_days):
        return None
    return min((last or start) + timedelta(days=every_days), end)
