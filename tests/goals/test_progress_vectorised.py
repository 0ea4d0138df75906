"""Goal progress for a whole page in one pass (progress.goal_values, on plain rows) gives the
values the per-goal loop gave.

The reference below is the loop `tracking.metric_value` ran once per goal (a pandas filter per
goal, then one per member), kept here verbatim in meaning; generated organisations with mixed
grains, sums, means and latest values, team and individual goals, and periods that cut through
weeks and months are compared goal by goal.
"""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from reviewapp.goals import progress as maths

HOWS = {1: "sum", 2: "mean", 3: "last"}
GRAINS = ["day", "week", "month", "quarter"]


def _counted_span(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The days each row's period must fit in to count in a goal: a week its Thursday, a
    month or a quarter the whole of it, a day itself (written with pandas offsets here)."""
    grain, start = frame["grain"], frame["start"]
    thursday = start + pd.Timedelta(days=3)
    first = start.where(grain != "week", thursday)
    last = start.where(grain == "day", thursday.where(
        grain == "week", (start + pd.offsets.MonthEnd(0)).where(
            grain == "month", start + pd.offsets.QuarterEnd(0))))
    return first, last


def reference_value(goal: dict, frame: pd.DataFrame) -> float | None:
    """The per-goal computation (tracking.metric_value before it was vectorised), with the
    period membership of the roll-ups: weeks on their Thursday, months and quarters whole."""
    start, end = pd.Timestamp(goal["start"]), pd.Timestamp(goal["end"])
    first, last = _counted_span(frame)
    rows = frame[(frame["metric"] == goal["metric"]) & (first >= start) & (last <= end)]
    values = []
    for rep_id in goal["reps"]:
        value = maths.value_over_period(rows[rows["rep"] == rep_id], goal["how"])
        if value is not None:
            values.append(value)
    if goal["team"]:
        return maths.team_value(values, goal["how"])
    return values[0] if values else None


def _period_start(rng, grain: str) -> date:
    day = date(2025, 10, 1) + timedelta(days=int(rng.integers(0, 540)))
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return day


def generated(seed: int) -> tuple[pd.DataFrame, list[dict]]:
    """Observations (unique per rep, metric, grain, start) and goals over them."""
    rng = np.random.default_rng(seed)
    n_reps = int(rng.integers(1, 12))
    seen, rows = set(), []
    for _ in range(int(rng.integers(0, 400))):
        rep, metric = int(rng.integers(1, n_reps + 1)), int(rng.integers(1, 4))
        grain = GRAINS[int(rng.integers(0, 4))]
        start = _period_start(rng, grain)
        if (rep, metric, grain, start) in seen:
            continue
        seen.add((rep, metric, grain, start))
        value = float(np.round(rng.normal(50, 30), int(rng.integers(0, 3))))
        rows.append((rep, metric, grain, start, value))
    frame = pd.DataFrame(rows, columns=["rep", "metric", "grain", "start", "value"])
    frame["start"] = pd.to_datetime(frame["start"]).astype("datetime64[ns]")
    goals = []
    for goal_id in range(1, int(rng.integers(1, 40)) + 1):
        metric = int(rng.integers(1, 4))
        team = bool(rng.integers(0, 2))
        start = date(2025, 10, 1) + timedelta(days=int(rng.integers(0, 450)))
        end = start + timedelta(days=int(rng.integers(0, 200)))
        if team:
            reps = sorted(rng.choice(np.arange(1, n_reps + 1),
                                     size=int(rng.integers(0, n_reps + 1)),
                                     replace=False).tolist())
        else:
            reps = [int(rng.integers(1, n_reps + 2))]  # sometimes a rep without any data
        goals.append({"id": goal_id, "metric": metric, "how": HOWS[metric], "team": team,
                      "start": start, "end": end, "reps": reps})
    return frame, goals


def pairs_of(goals: list[dict]) -> list[tuple]:
    return [(g["id"], r, g["metric"], g["start"].isoformat(), g["end"].isoformat(), g["how"],
             g["team"]) for g in goals for r in g["reps"]]


def rows_of(frame: pd.DataFrame) -> list[tuple]:
    """The observations as the driver gives them: (rep, metric, grain, date, value)."""
    return list(zip(frame["rep"].tolist(), frame["metric"].tolist(), frame["grain"].tolist(),
                    frame["start"].dt.date.tolist(), frame["value"].tolist(), strict=True))


@pytest.mark.parametrize("seed", range(40))
def test_page_values_equal_the_per_goal_loop(seed):
    frame, goals = generated(seed)
    new = maths.goal_values(pairs_of(goals), rows_of(frame))
    for goal in goals:
        old = reference_value(goal, frame)
        if old is None:
            assert goal["id"] not in new, goal
        else:
            assert new[goal["id"]] == pytest.approx(old, rel=1e-12, abs=1e-9), goal


def test_a_coarser_grain_in_the_period_wins_per_rep_not_per_team():
    frame = pd.DataFrame({"rep": [1, 1, 2], "metric": [1, 1, 1],
                          "grain": ["month", "quarter", "month"],
                          "start": pd.to_datetime(["2026-07-01", "2026-07-01", "2026-08-01"]),
                          "value": [5.0, 40.0, 7.0]})
    goal = {"id": 9, "metric": 1, "how": "sum", "team": True, "start": date(2026, 7, 1),
            "end": date(2026, 9, 30), "reps": [1, 2]}
    assert maths.goal_values(pairs_of([goal]), rows_of(frame)) == {9: 47.0}
    assert reference_value(goal, frame) == 47.0


def test_no_goals_or_no_observations_give_no_values():
    frame, goals = generated(3)
    assert maths.goal_values(pairs_of([]), rows_of(frame)) == {}
    assert maths.goal_values(pairs_of(goals), []) == {}
