"""Calibration analysis against an independent computation (scipy.stats, numpy, pandas)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from reviewapp.analytics.calibration import (
    against_numbers,
    central_tendency,
    comparable,
    compare_to_org,
    describe,
    divergences,
    leniency,
    nine_box,
    performance_level,
    rep_means,
    self_manager_gaps,
    welch_difference,
)


def scipy_welch(a, b, level=0.95):
    result = stats.ttest_ind(a, b, equal_var=False)
    ci = result.confidence_interval(level)
    return float(np.mean(a) - np.mean(b)), float(ci.low), float(ci.high), float(result.df)


def ratings_frame(by_rater: dict[str, list[list[int]]]) -> pd.DataFrame:
    """{rater: [[ratings of rep 1], [ratings of rep 2], ...]} as one row per rating."""
    rows = []
    for rater, reps in by_rater.items():
        for i, ratings in enumerate(reps):
            rows += [{"review": f"{rater}-{i}", "rater": rater, "rating": r} for r in ratings]
    return pd.DataFrame(rows)


def test_welch_difference_matches_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(4, 0.5, 7), rng.normal(3.4, 1.2, 19)
    got = welch_difference(a, b)
    estimate, low, high, df = scipy_welch(a, b)
    assert got.estimate == pytest.approx(estimate)
    assert (got.low, got.high) == (pytest.approx(low), pytest.approx(high))
    assert got.df == pytest.approx(df)
    assert got.excludes_zero == (low > 0 or high < 0)
    ninety = welch_difference(a, b, level=0.90)
    assert (ninety.low, ninety.high) == pytest.approx(scipy_welch(a, b, 0.90)[1:3])


def test_welch_difference_is_undefined_without_two_values_or_spread():
    assert welch_difference([4.0], [3.0, 3.5, 2.0]) is None
    assert welch_difference([4.0, 4.0], [3.0, 3.0, 3.0]) is None
    assert welch_difference([4.0, None, 5.0], [3.0, float("nan"), 2.0]) is not None


def test_compare_to_org_rescales_the_interval_against_everyone_else():
    rng = np.random.default_rng(8)
    groups = {"m1": rng.normal(4.6, .3, 6).tolist(), "m2": rng.normal(3.3, .6, 9).tolist(),
              "m3": rng.normal(3.5, .5, 5).tolist()}
    everyone = np.concatenate([groups[k] for k in groups])
    result = compare_to_org(groups)
    for key, values in groups.items():
        rest = np.concatenate([groups[k] for k in groups if k != key])
        factor = rest.size / everyone.size
        _, low, high, df = scipy_welch(values, rest)
        c = result[key]
        assert c.n == len(values) and c.org_mean == pytest.approx(everyone.mean())
        assert c.difference == pytest.approx(np.mean(values) - everyone.mean())
        assert c.interval.estimate == pytest.approx(c.difference)
        assert (c.interval.low, c.interval.high) == (pytest.approx(factor * low),
                                                     pytest.approx(factor * high))
        assert c.interval.df == pytest.approx(df)
        assert c.excludes_zero == (low > 0 or high < 0)
    assert result["m1"].excludes_zero and not result["m3"].excludes_zero


def test_a_single_group_or_rater_has_no_interval():
    assert compare_to_org({"only": [3.0, 4.0, 5.0]})["only"].interval is None
    assert compare_to_org({"a": [4.0], "b": [3.0, 3.5]})["a"].interval is None
    assert compare_to_org({}) == {}


def test_leniency_counts_each_rep_once_not_each_rating():
    ratings = ratings_frame({
        "soft": [[5, 5, 4, 5, 5], [4, 5, 5, 4, 5], [5, 4, 5, 5, 5], [4, 4, 5, 5, 4]],
        "fair": [[3, 3, 4, 3, 2], [4, 3, 3, 3, 3], [2, 3, 3, 3, 4], [3, 4, 3, 3, 3],
                 [3, 3, 2, 3, 3], [4, 4, 3, 3, 4]],
        "also": [[3, 4, 3, 4, 3], [3, 3, 3, 2, 3], [4, 3, 4, 4, 3]],
    })
    by_hand = {rater: [float(np.mean(part[part.review == rv].rating)) for rv in
                       part.review.unique()] for rater, part in ratings.groupby("rater")}
    everyone = np.concatenate(list(by_hand.values()))
    rows = {row.rater: row for row in leniency(ratings)}
    for rater, means in by_hand.items():
        rest = np.concatenate([v for k, v in by_hand.items() if k != rater])
        _, low, high, _ = scipy_welch(means, rest)
        factor = rest.size / everyone.size
        c = rows[rater].comparison
        assert c.n == len(means)
        assert c.difference == pytest.approx(np.mean(means) - everyone.mean())
        assert (c.interval.low, c.interval.high) == pytest.approx((factor * low, factor * high))
    assert rows["soft"].flagged and rows["soft"].direction == "lenient"
    assert not rows["also"].flagged
    # Counting every rating as independent would claim more certainty than there is.
    naive = scipy_welch(ratings[ratings.rater == "soft"].rating,
                        ratings[ratings.rater != "soft"].rating)
    naive_width = (naive[2] - naive[1]) * (ratings.rater != "soft").mean()
    clustered = rows["soft"].comparison.interval
    assert clustered.high - clustered.low > naive_width


def test_rep_means_ignore_unrated_competencies():
    ratings = pd.DataFrame({"review": [1, 1, 1, 2], "rater": ["m", "m", "m", "m"],
                            "rating": [4, None, 2, 5]})
    means = rep_means(ratings).set_index("review")["qual"]
    assert means.to_dict() == {1: 3.0, 2: 5.0}


def test_central_tendency_share_at_three_and_spread():
    ratings = ratings_frame({"middle": [[3, 3, 3, 4], [3, 3, 2, 3]],
                             "wide": [[1, 5, 2, 4], [5, 1, 3, 4]]})
    rows = {row.rater: row for row in central_tendency(ratings)}
    everyone = ratings.rating.to_numpy()
    for rater, part in ratings.groupby("rater"):
        values = part.rating.to_numpy()
        row = rows[rater]
        assert row.n_ratings == values.size
        assert row.share_middle == pytest.approx((values == 3).sum() / values.size)
        assert row.sd == pytest.approx(np.std(values, ddof=1))
        assert row.org_share_middle == pytest.approx((everyone == 3).mean())
        assert row.org_sd == pytest.approx(np.std(everyone, ddof=1))
    assert rows["middle"].flagged and not rows["wide"].flagged


def test_high_ratings_with_average_numbers_are_flagged():
    rng = np.random.default_rng(11)
    quant = {"soft": [3.6, 3.2, 3.5, 3.3, 3.4], "fair": rng.normal(3.2, .4, 8).round(2).tolist(),
             "earned": [4.8, 4.6, 4.9, 4.7], "short": [2.0, 2.2, 1.9, 2.1]}
    qual = {"soft": [[5, 5, 4]] * 2 + [[4, 5, 5]] * 3, "fair": [[3, 3, 4], [3, 2, 3]] * 4,
            "earned": [[5, 5, 5], [5, 4, 5], [4, 5, 5], [5, 5, 4]],
            "short": [[5, 5, 5], [5, 5, 4], [5, 5, 5], [4, 5, 5]]}
    ratings = ratings_frame(qual)
    reviews = pd.DataFrame([{"review": f"{r}-{i}", "rater": r, "quant": q}
                            for r, qs in quant.items() for i, q in enumerate(qs)])
    rows = {row.rater: row for row in against_numbers(ratings, reviews)}
    everyone = np.concatenate([quant[k] for k in quant])
    for rater, values in quant.items():
        rest = np.concatenate([quant[k] for k in quant if k != rater])
        _, low, high, _ = scipy_welch(values, rest)
        factor = rest.size / everyone.size
        q = rows[rater].quant
        assert q.difference == pytest.approx(np.mean(values) - everyone.mean())
        assert (q.interval.low, q.interval.high) == pytest.approx((factor * low, factor * high))
    assert rows["soft"].qual.difference >= 0.5 and not rows["soft"].quant.excludes_zero
    assert rows["soft"].flagged
    # Numbers below the organisation's under high ratings are no better.
    assert rows["short"].quant.interval.high < 0 and rows["short"].flagged
    assert rows["earned"].qual.difference >= 0.5 and rows["earned"].quant.excludes_zero
    assert not rows["earned"].flagged  # the numbers back the ratings up
    assert not rows["fair"].flagged


def test_no_kpi_scores_means_no_numbers_flag():
    ratings = ratings_frame({"soft": [[5, 5], [5, 4]], "fair": [[3, 3], [2, 3]]})
    reviews = pd.DataFrame({"review": ["soft-0", "soft-1", "fair-0", "fair-1"],
                            "rater": ["soft", "soft", "fair", "fair"],
                            "quant": [None, None, 3.0, 3.5]})
    rows = {row.rater: row for row in against_numbers(ratings, reviews)}
    assert rows["soft"].quant is None and not rows["soft"].flagged


def test_self_manager_gaps_more_than_one_point():
    pairs = pd.DataFrame({
        "review": [1, 1, 1, 2, 2, 3],
        "competency": ["a", "b", "c", "a", "b", "a"],
        "self_rating": [5, 3, 2, 4, None, 1],
        "manager_rating": [3, 2, 5, 4, 1, 4],
    })
    gaps = self_manager_gaps(pairs)
    assert [(g.review, g.competency, g.gap, g.kind) for g in gaps] == [
        (1, "c", -3, "hidden strength"), (3, "a", -3, "hidden strength"),
        (1, "a", 2, "blind spot")]


def test_divergences_from_the_threshold_on():
    scores = pd.DataFrame({"review": [1, 2, 3, 4, 5], "quant": [4.5, 3.0, 1.0, None, 2.0],
                           "qual": [3.0, 2.0, 4.0, 1.0, 3.49]})
    found = divergences(scores, 1.5)
    assert [(d.review, d.gap) for d in found] == [(3, -3.0), (1, 1.5)]


def test_describe_matches_pandas():
    values = [3.2, 4.1, 2.5, 4.9, 3.3, 3.8, None, 2.9]
    got = describe(values)
    expected = pd.Series(values, dtype=float).describe()
    assert got.n == expected["count"]
    for ours, theirs in [("mean", "mean"), ("sd", "std"), ("low", "min"), ("q1", "25%"),
                         ("median", "50%"), ("q3", "75%"), ("high", "max")]:
        assert getattr(got, ours) == pytest.approx(expected[theirs])
    assert describe([None]) is None
    assert describe([4.0]).sd is None


def test_nine_box_levels_and_small_groups():
    assert [performance_level(x) for x in (2.49, 2.5, 3.49, 3.5)] == ["low", "mid", "mid",
                                                                        "high"]
    rows = [{"review": i, "overall": 3.6 + i / 100, "potential": 3} for i in range(4)]
    rows += [{"review": 10, "overall": 2.0, "potential": 1},
             {"review": 11, "overall": 3.0, "potential": 2},
             {"review": 12, "overall": 3.0, "potential": 2},
             {"review": 13, "overall": 4.0, "potential": None},
             {"review": 14, "overall": None, "potential": 2}]
    box = nine_box(pd.DataFrame(rows))
    high_high = box.cells[("high", 3)]
    assert high_high.reviews == (0, 1, 2, 3)
    assert high_high.mean_overall == pytest.approx(np.mean([3.6, 3.61, 3.62, 3.63]))
    assert box.cells[("mid", 2)].n == 2 and box.cells[("mid", 2)].mean_overall is None
    assert box.cells[("low", 1)].reviews == (10,)
    assert box.unrated == (13,) and box.unscored == (14,)
    layout = box.rows()
    assert [c.potential for c in layout[0]] == [3, 3, 3]
    assert [c.performance for c in layout[0]] == ["low", "mid", "high"]
    assert sum(c.n for row in layout for c in row) == 7


def test_comparable_hides_one_to_three_others():
    assert comparable(0) and comparable(4) and comparable(30)
    assert not any(comparable(n) for n in (1, 2, 3))
