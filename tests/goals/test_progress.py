"""The arithmetic of progress, without the app: pure functions of reviewapp.goals.progress."""

from datetime import date

import pandas as pd
import pytest

from reviewapp.goals import progress as p


def test_progress_is_the_share_of_the_way_from_start_to_target():
    assert p.progress_fraction(150, 100, 200) == 0.5
    assert p.progress_fraction(100, 100, 200) == 0.0
    assert p.progress_fraction(None, 100, 200) is None


def test_progress_is_not_clamped_in_the_data_only_on_the_bar():
    assert p.progress_fraction(260, 100, 200) == pytest.approx(1.6)
    assert p.progress_fraction(80, 100, 200) == pytest.approx(-0.2)
    assert p.bar_percent(1.6) == 100.0
    assert p.bar_percent(-0.2) == 0.0
    assert p.bar_percent(0.42) == pytest.approx(42.0)
    assert p.bar_percent(None) == 0.0


def test_lower_is_better_uses_the_same_formula():
    # From 10 churned accounts down to 5: at 7 we are 60% of the way, at 4 beyond the target.
    assert p.progress_fraction(7, 10, 5) == pytest.approx(0.6)
    assert p.progress_fraction(4, 10, 5) == pytest.approx(1.2)
    assert p.progress_fraction(12, 10, 5) == pytest.approx(-0.4)


def test_target_equal_to_start_has_no_progress():
    with pytest.raises(ValueError):
        p.progress_fraction(5, 5, 5)


def test_elapsed_share_counts_whole_days_and_stays_between_0_and_1():
    start, end = date(2026, 7, 1), date(2026, 9, 30)  # 92 days
    assert p.elapsed_fraction(start, end, date(2026, 7, 1)) == pytest.approx(1 / 92)
    assert p.elapsed_fraction(start, end, date(2026, 8, 15)) == pytest.approx(46 / 92)
    assert p.elapsed_fraction(start, end, date(2026, 6, 1)) == 0.0
    assert p.elapsed_fraction(start, end, date(2026, 12, 1)) == 1.0


@pytest.mark.parametrize("fraction,elapsed,expected", [
    (0.50, 0.50, "on_track"),
    (0.42, 0.50, "on_track"),  # within 10 points of time
    (0.30, 0.50, "at_risk"),
    (0.20, 0.50, "off_track"),
    (1.00, 0.60, "done"),  # a cumulative goal that reached its target is done
    (None, 0.50, None),
])
def test_status_is_suggested_from_progress_against_time(fraction, elapsed, expected):
    assert p.suggest_status(fraction, elapsed, cumulative=True) == expected


def test_a_rate_is_held_against_the_whole_target_from_the_start():
    # Calls per day (a mean) at 95% of target in week 2 is on track; at 60% it is off track.
    assert p.suggest_status(0.95, 0.15, cumulative=False) == "on_track"
    assert p.suggest_status(0.60, 0.15, cumulative=False) == "off_track"
    # Reaching it mid-period is not "done" yet: a mean can fall back.
    assert p.suggest_status(1.10, 0.50, cumulative=False) == "on_track"
    assert p.suggest_status(1.10, 1.00, cumulative=False) == "done"


def test_weighted_rollup():
    assert p.weighted_rollup([(0.5, 1), (1.0, 1)]) == pytest.approx(0.75)
    assert p.weighted_rollup([(0.5, 3), (1.0, 1)]) == pytest.approx(0.625)
    assert p.weighted_rollup([(0.5, 1), (None, 5)]) == pytest.approx(0.5)
    assert p.weighted_rollup([]) is None
    # One goal far beyond its target does not hide another that is behind.
    assert p.weighted_rollup([(3.0, 1), (0.0, 1)]) == pytest.approx(0.5)
    assert p.weighted_rollup([(-0.5, 1), (0.5, 1)]) == pytest.approx(0.0)


def _rows(*rows):
    return pd.DataFrame(rows, columns=["grain", "start", "value"])


def test_value_over_period_follows_the_metric_rollup():
    months = _rows(("month", pd.Timestamp("2026-07-01"), 10.0),
                   ("month", pd.Timestamp("2026-08-01"), 30.0))
    assert p.value_over_period(months, "sum") == 40.0
    assert p.value_over_period(months, "mean") == 20.0
    assert p.value_over_period(months, "last") == 30.0
    assert p.value_over_period(_rows(), "sum") is None


def test_value_over_period_never_counts_two_grains_twice():
    mixed = _rows(("month", pd.Timestamp("2026-07-01"), 10.0),
                  ("quarter", pd.Timestamp("2026-07-01"), 35.0))
    assert p.value_over_period(mixed, "sum") == 35.0


def test_team_value_is_a_total_or_a_mean_as_the_rollup_says():
    assert p.team_value([100.0, 60.0], "sum") == 160.0
    assert p.team_value([30.0, 40.0], "mean") == 35.0
    assert p.team_value([5.0, 7.0], "last") == 12.0  # a stock, such as an open pipeline
    assert p.team_value([], "sum") is None


def test_next_check_in():
    start, end = date(2026, 7, 1), date(2026, 9, 30)
    assert p.next_check_in(start, end, None, 14, date(2026, 7, 3)) == date(2026, 7, 15)
    assert p.next_check_in(start, end, date(2026, 8, 1), 14, date(2026, 8, 2)) == date(2026, 8,
                                                                                       15)
    assert p.next_check_in(start, end, date(2026, 9, 25), 14, date(2026, 9, 26)) == end
    assert p.next_check_in(start, end, end, 14, date(2026, 10, 2)) is None
    assert p.next_check_in(start, end, None, 14, date(2026, 11, 30)) is None
