"""Tests for reviewapp.metrics.periods: labels, parsing, grain mapping and roll-ups."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest

from reviewapp.metrics.periods import (
    ROLLUP_HOW,
    Grain,
    Period,
    PeriodError,
    current_quarter,
    parse_period,
    parse_periods,
    period_of,
    periods_between,
    quarter_of,
    rollup,
    to_grain,
)

D = dt.date


# --- Grain ------------------------------------------------------------------------------------


def test_grain_order_and_values():
    assert Grain.DAY < Grain.WEEK < Grain.MONTH < Grain.QUARTER
    assert Grain.QUARTER > Grain.MONTH >= Grain.MONTH
    assert sorted([Grain.QUARTER, Grain.DAY, Grain.WEEK, Grain.MONTH]) == list(Grain)
    assert [g.value for g in Grain] == ["day", "week", "month", "quarter"]
    assert Grain.WEEK < "month"  # plain strings compare by grain order, not alphabetically
    assert Grain("quarter") is Grain.QUARTER


# --- scalar parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "grain", "start", "end", "label"),
    [
        ("2026-03-15", Grain.DAY, D(2026, 3, 15), D(2026, 3, 15), "2026-03-15"),
        ("2024-02-29", Grain.DAY, D(2024, 2, 29), D(2024, 2, 29), "2024-02-29"),
        ("2026-W11", Grain.WEEK, D(2026, 3, 9), D(2026, 3, 15), "2026-W11"),
        ("2026-W01", Grain.WEEK, D(2025, 12, 29), D(2026, 1, 4), "2026-W01"),
        ("2026-w53", Grain.WEEK, D(2026, 12, 28), D(2027, 1, 3), "2026-W53"),
        ("2020-W53", Grain.WEEK, D(2020, 12, 28), D(2021, 1, 3), "2020-W53"),
        ("2026-03", Grain.MONTH, D(2026, 3, 1), D(2026, 3, 31), "2026-03"),
        ("2026-02", Grain.MONTH, D(2026, 2, 1), D(2026, 2, 28), "2026-02"),
        ("2026-Q1", Grain.QUARTER, D(2026, 1, 1), D(2026, 3, 31), "2026-Q1"),
        (" 2026-q4 ", Grain.QUARTER, D(2026, 10, 1), D(2026, 12, 31), "2026-Q4"),
    ],
)
def test_parse_period_valid(text, grain, start, end, label):
    p = parse_period(text)
    assert p == Period(grain, start)
    assert p.end == end
    assert p.label == label == str(p)
    assert parse_period(p.label) == p


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-13", "month must be 01 to 12"),
        ("2026-00", "month must be 01 to 12"),
        ("2026-Q5", "quarter must be Q1 to Q4"),
        ("2026-Q0", "quarter must be Q1 to Q4"),
        ("2026-W54", "ISO week must be 01 to 53"),
        ("2026-W00", "ISO week must be 01 to 53"),
        ("2025-W53", "2025 has only 52 ISO weeks"),
        ("2026-02-29", "no such date"),
        ("2026-04-31", "no such date"),
        ("15/03/2026", "use 2026-03-15 (day)"),
        ("2026-3", "use 2026-03-15 (day)"),
        ("2026-W1", "use 2026-03-15 (day)"),
        ("March 2026", "use 2026-03-15 (day)"),
        ("1850-01", "year must be between 1900 and 2199"),
    ],
)
def test_parse_period_invalid_names_value(text, reason):
    with pytest.raises(PeriodError) as info:
        parse_period(text)
    assert info.value.value == text
    assert f"'{text}'" in info.value.message
    assert reason in info.value.message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("text", ["", "   ", None, 2026])
def test_parse_period_empty_or_not_text(text):
    with pytest.raises(PeriodError) as info:
        parse_period(text)
    assert info.value.value == text


def test_week_53_only_in_long_iso_years():
    for year in range(1990, 2060):
        long_year = D(year, 12, 28).isocalendar().week == 53
        if long_year:
            assert parse_period(f"{year}-W53").start == D.fromisocalendar(year, 53, 1)
        else:
            with pytest.raises(PeriodError, match="only 52 ISO weeks"):
                parse_period(f"{year}-W53")
    assert {y for y in range(2015, 2033) if D(y, 12, 28).isocalendar().week == 53} == {
        2015,
        2020,
        2026,
        2032,
    }


def test_period_requires_aligned_start():
    with pytest.raises(ValueError, match="first day of a week"):
        Period(Grain.WEEK, D(2026, 3, 10))
    with pytest.raises(ValueError, match="first day of a quarter"):
        Period(Grain.QUARTER, D(2026, 2, 1))
    assert Period("month", dt.datetime(2026, 3, 1, 0, 0)).start == D(2026, 3, 1)


def test_period_navigation():
    w = parse_period("2026-W52")
    assert w.next().label == "2026-W53"
    assert w.shift(2).label == "2027-W01"
    assert parse_period("2026-12").next().label == "2027-01"
    assert parse_period("2026-Q1").shift(-1).label == "2025-Q4"
    assert parse_period("2026-03-31").next().label == "2026-04-01"
    assert parse_period("2026-03").contains(D(2026, 3, 31))
    assert not parse_period("2026-03").contains(D(2026, 4, 1))
    # Week 2026-W14 runs 30 Mar..5 Apr: its Thursday (2 Apr) puts it in April and Q2.
    assert parse_period("2026-W14").containing("month").label == "2026-04"
    assert parse_period("2026-W14").containing(Grain.QUARTER).label == "2026-Q2"
    with pytest.raises(ValueError):
        parse_period("2026-03").containing("week")


def test_quarter_helpers_and_ranges():
    assert quarter_of(D(2026, 5, 17)).label == "2026-Q2"
    assert current_quarter(D(2026, 12, 31)).label == "2026-Q4"
    assert current_quarter().contains(D.today())
    assert period_of(D(2026, 3, 15), "week").label == "2026-W11"
    labels = [p.label for p in periods_between(parse_period("2025-11"), parse_period("2026-02"))]
    assert labels == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert periods_between(parse_period("2026-Q2"), parse_period("2026-Q1")) == []
    with pytest.raises(ValueError, match="different grains"):
        periods_between(parse_period("2026-Q1"), parse_period("2026-03"))


# --- vectorised parsing -----------------------------------------------------------------------


def _sample_labels(n: int, seed: int = 7) -> list[object]:
    rng = np.random.default_rng(seed)
    out: list[object] = []
    for _ in range(n):
        kind = rng.integers(0, 6)
        y = int(rng.integers(1895, 2205))
        if kind == 0:
            out.append(f"{y}-{rng.integers(0, 14):02d}-{rng.integers(0, 33):02d}")
        elif kind == 1:
            out.append(f"{y}-W{rng.integers(0, 55):02d}")
        elif kind == 2:
            out.append(f"{y}-{rng.integers(0, 14):02d}")
        elif kind == 3:
            out.append(f"{y}-Q{rng.integers(0, 6)}")
        elif kind == 4:
            out.append(str(rng.choice(["", " 2026-03 ", "2026-q2", "15/03/2026", "x", "2026-W1"])))
        else:
            out.append(None)
    return out


def test_vectorised_parse_matches_scalar():
    labels = _sample_labels(4000)
    series = pd.Series(labels, index=np.arange(len(labels)) * 3, dtype=object)
    grain, start, bad = parse_periods(series)
    assert list(grain.index) == list(series.index)
    assert start.dtype == "datetime64[ns]"
    n_good = 0
    for text, g, s, b in zip(labels, grain, start, bad, strict=True):
        try:
            p = parse_period(text)
        except PeriodError:
            assert b, text
            assert pd.isna(g) and pd.isna(s), text
            continue
        n_good += 1
        assert not b, text
        assert g == p.grain.value, text
        assert s.date() == p.start, text
    assert 500 < n_good < 3500  # the sample exercises both sides


def test_vectorised_parse_is_fast_on_a_million_rows():
    labels = np.array(
        [f"{2024 + i // 12}-{i % 12 + 1:02d}" for i in range(36)]
        + [f"2026-W{w:02d}" for w in range(1, 54)]
        + [f"2026-03-{d:02d}" for d in range(1, 32)]
        + ["2026-Q1", "bad"],
        dtype=object,
    )
    series = pd.Series(labels[np.random.default_rng(1).integers(0, len(labels), 1_000_000)])
    t0 = time.perf_counter()
    grain, start, bad = parse_periods(series)
    elapsed = time.perf_counter() - t0
    assert int(bad.sum()) == int((series == "bad").sum())
    assert elapsed < 2.0  # ~0.2 s on the dev machine; a per-row loop would take several seconds


# --- to_grain / rollup ------------------------------------------------------------------------


def _dates(*labels: str) -> pd.Series:
    return pd.Series([parse_period(x).start for x in labels])


def test_to_grain_mapping_rules():
    days = _dates("2026-03-15", "2026-01-01", "2025-12-31")
    assert list(to_grain(days, "day", "week").dt.date) == [
        D(2026, 3, 9),
        D(2025, 12, 29),
        D(2025, 12, 29),
    ]
    assert list(to_grain(days, "day", "month").dt.date) == [
        D(2026, 3, 1),
        D(2026, 1, 1),
        D(2025, 12, 1),
    ]
    assert list(to_grain(days, "day", "quarter").dt.date) == [
        D(2026, 1, 1),
        D(2026, 1, 1),
        D(2025, 10, 1),
    ]
    # Weeks go where their Thursday is: W01 starts 29 Dec 2025 but belongs to January 2026;
    # W14 starts 30 Mar but its Thursday is 2 Apr (April, Q2); W09's Thursday is 26 Feb.
    weeks = _dates("2026-W01", "2026-W09", "2026-W14", "2020-W53")
    assert list(to_grain(weeks, "week", "month").dt.date) == [
        D(2026, 1, 1),
        D(2026, 2, 1),
        D(2026, 4, 1),
        D(2020, 12, 1),
    ]
    assert list(to_grain(weeks, Grain.WEEK, Grain.QUARTER).dt.date) == [
        D(2026, 1, 1),
        D(2026, 1, 1),
        D(2026, 4, 1),
        D(2020, 10, 1),
    ]
    months = _dates("2026-03", "2026-04", "2026-12")
    assert list(to_grain(months, "month", "quarter").dt.date) == [
        D(2026, 1, 1),
        D(2026, 4, 1),
        D(2026, 10, 1),
    ]
    assert list(to_grain(months, "month", "month").dt.date) == [
        D(2026, 3, 1),
        D(2026, 4, 1),
        D(2026, 12, 1),
    ]
    with pytest.raises(ValueError, match="finer"):
        to_grain(months, "month", "week")


def test_to_grain_agrees_with_period_containing():
    starts = [parse_period(f"{y}-W{w:02d}") for y in (2024, 2025, 2026) for w in range(1, 53)]
    mapped = to_grain(pd.Series([p.start for p in starts]), "week", "month")
    assert list(mapped.dt.date) == [p.containing("month").start for p in starts]


def _obs(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    periods = [parse_period(label) for _, _, label, _ in rows]
    return pd.DataFrame(
        {
            "rep": [r[0] for r in rows],
            "metric": [r[1] for r in rows],
            "grain": [p.grain.value for p in periods],
            "start": pd.to_datetime([p.start for p in periods]),
            "value": [r[3] for r in rows],
        }
    )


WEEKLY = _obs(
    [
        # 2026-W09 (Thu 26 Feb) -> Feb; W10..W13 -> March; W14 (Thu 2 Apr) -> April.
        ("ana", "calls", "2026-W09", 1.0),
        ("ana", "calls", "2026-W13", 20.0),  # listed out of order on purpose
        ("ana", "calls", "2026-W10", 10.0),
        ("ana", "calls", "2026-W14", 100.0),
        ("ben", "calls", "2026-W10", 5.0),
    ]
)


def test_rollup_weeks_to_month_sum_mean_last():
    s = rollup(WEEKLY, "month", "sum")
    assert list(s.columns) == ["rep", "metric", "grain", "start", "value", "n"]
    got = {(r.rep, r.start.date()): (r.value, r.n) for r in s.itertuples()}
    assert got == {
        ("ana", D(2026, 2, 1)): (1.0, 1),
        ("ana", D(2026, 3, 1)): (30.0, 2),
        ("ana", D(2026, 4, 1)): (100.0, 1),
        ("ben", D(2026, 3, 1)): (5.0, 1),
    }
    assert set(s["grain"]) == {"month"}
    mean = rollup(WEEKLY, Grain.MONTH, "mean")
    assert mean.loc[(mean.rep == "ana") & (mean.start == "2026-03-01"), "value"].item() == 15.0
    last = rollup(WEEKLY, "month", "last")
    # "last" is the value of the latest week (W13), not the last row of the input.
    assert last.loc[(last.rep == "ana") & (last.start == "2026-03-01"), "value"].item() == 20.0


def test_rollup_to_quarter_and_per_metric_rules():
    df = pd.concat(
        [
            WEEKLY,
            _obs(
                [
                    ("ana", "headcount", "2026-01", 3.0),
                    ("ana", "headcount", "2026-02", 4.0),
                    ("ana", "headcount", "2026-04", 9.0),
                ]
            ),
        ],
        ignore_index=True,
    )
    q = rollup(df, "quarter", {"calls": "sum", "headcount": "last"})
    got = {(r.rep, r.metric, r.start.date()): r.value for r in q.itertuples()}
    assert got == {
        ("ana", "calls", D(2026, 1, 1)): 31.0,
        ("ana", "calls", D(2026, 4, 1)): 100.0,
        ("ana", "headcount", D(2026, 1, 1)): 4.0,
        ("ana", "headcount", D(2026, 4, 1)): 9.0,
        ("ben", "calls", D(2026, 1, 1)): 5.0,
    }
    days = _obs(
        [
            ("ana", "calls", "2026-03-30", 1.0),
            ("ana", "calls", "2026-04-01", 2.0),
            ("ana", "calls", "2026-06-30", 3.0),
        ]
    )
    q = rollup(days, "quarter", "mean")
    assert list(zip(q.start.dt.date, q.value, q.n, strict=True)) == [
        (D(2026, 1, 1), 1.0, 1),
        (D(2026, 4, 1), 2.5, 2),
    ]
    months = _obs([("ana", "calls", "2026-03", 7.0)])
    same = rollup(months, "month", "sum")  # already at the target grain: passes through
    assert same[["start", "value", "n"]].values.tolist() == [[pd.Timestamp("2026-03-01"), 7.0, 1]]


def test_rollup_of_mixed_grains_keeps_the_coarsest_in_each_period():
    mixed = _obs(
        [
            ("ana", "calls", "2026-Q3", 42.0),
            ("ana", "calls", "2026-W30", 50.0),  # inside Q3, which already counts it
            ("ana", "calls", "2026-W14", 5.0),  # Q2 holds only weeks: they roll up as usual
            ("ana", "calls", "2026-W15", 6.0),
            ("ana", "calls", "2026-04-20", 7.0),  # a day among Q2's weeks is ignored too
            ("ben", "calls", "2026-W30", 9.0),
        ]
    )
    for how in ROLLUP_HOW:
        q = rollup(mixed, "quarter", how)
        got = {(r.rep, r.start.date()): (r.value, r.n) for r in q.itertuples()}
        q2 = {"sum": 11.0, "mean": 5.5, "last": 6.0}[how]
        assert got == {
            ("ana", D(2026, 4, 1)): (q2, 2),
            ("ana", D(2026, 7, 1)): (42.0, 1),
            ("ben", D(2026, 7, 1)): (9.0, 1),
        }


def test_rollup_refuses_finer_target_and_bad_input():
    quarters = _obs([("ana", "calls", "2026-Q1", 1.0)])
    with pytest.raises(ValueError, match="finer than the data"):
        rollup(quarters, "month", "sum")
    with pytest.raises(ValueError, match="only roll up to month or quarter"):
        rollup(WEEKLY, "week", "sum")
    with pytest.raises(ValueError, match="how must be one of"):
        rollup(WEEKLY, "month", "median")
    with pytest.raises(ValueError, match="no roll-up rule"):
        rollup(WEEKLY, "month", {"emails": "sum"})
    empty = rollup(WEEKLY.iloc[:0], "month", "sum")
    assert empty.empty and list(empty.columns) == ["rep", "metric", "grain", "start", "value", "n"]
