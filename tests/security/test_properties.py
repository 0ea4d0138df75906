"""Property-based tests (Hypothesis): the period parser, the number parser and the scoring
functions hold their rules for any input, not only the examples we thought of."""

import datetime as dt
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewapp import numbers
from reviewapp.metrics.import_checks import (
    _NOT_FINITE,
    _OK,
    _OUT_OF_RANGE,
    EDGE_BLANKS,
    DecimalMark,
    _parse_values,
    decimal_mark,
)
from reviewapp.metrics.periods import Grain, Period, PeriodError, parse_period, parse_period_array
from reviewapp.reviews.scoring import (
    MAX_ATTAINMENT,
    attainment,
    band_score,
    combine,
    validate_bands,
    weighted_mean,
)

settings.register_profile("reviewapp", max_examples=150, deadline=None)
settings.load_profile("reviewapp")

days = st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2198, 12, 31))
grains = st.sampled_from([Grain.DAY, Grain.WEEK, Grain.MONTH, Grain.QUARTER])


# Periods ---------------------------------------------------------------------------------------

@given(days, grains)
def test_a_periods_label_parses_back_to_it(day, grain):
    from reviewapp.metrics.periods import period_of

    period = period_of(day, grain)
    assert parse_period(period.label) == period
    assert period.contains(day) and period.start <= day <= period.end


@given(st.text(max_size=40))
def test_any_text_parses_or_is_refused_with_period_error(text):
    try:
        period = parse_period(text)
    except PeriodError:
        return
    assert isinstance(period, Period)
    assert parse_period(period.label) == period


@given(st.lists(st.one_of(st.text(max_size=12), st.from_regex(
    r"\A(19|20)\d\d-(0[1-9]|1[0-2]|Q[1-4]|W(0[1-9]|[1-4]\d|5[0-3]))\Z")), max_size=30))
def test_the_vectorised_parser_agrees_with_the_one_by_one_parser(labels):
    ranks, starts = parse_period_array(np.array(labels, dtype=object))
    for label, rank, start in zip(labels, ranks, starts, strict=True):
        try:
            period = parse_period(label)
        except PeriodError:
            assert rank < 0, label
            continue
        assert rank >= 0, label
        assert start.astype("datetime64[D]").astype(object) == period.start


@given(days, grains, st.integers(min_value=-200, max_value=200))
def test_shifting_a_period_moves_by_whole_periods(day, grain, n):
    from reviewapp.metrics.periods import period_of

    period = period_of(day, grain)
    moved = period.shift(n)
    assert moved.grain == period.grain
    assert moved.shift(-n) == period


# Numbers ---------------------------------------------------------------------------------------

@given(st.floats(allow_nan=True, allow_infinity=True))
def test_the_number_check_takes_exactly_the_finite_sane_numbers(value):
    sane = math.isfinite(value) and abs(value) <= numbers.MAX_MAGNITUDE
    assert (numbers.problem(value) is None) is sane


@given(st.lists(st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-10**15, max_value=10**15).map(str),
    st.text(max_size=8)), max_size=40))
def test_the_import_number_parser_accepts_only_sane_numbers(cells):
    values, status = _parse_values(np.array(cells, dtype=object), DecimalMark("plain"))
    for cell, value, state in zip(cells, values, status, strict=True):
        if state == _OK:
            assert math.isfinite(value) and abs(value) <= numbers.MAX_MAGNITUDE
            assert value == float(cell.strip(EDGE_BLANKS))
        if state == _OUT_OF_RANGE:
            assert abs(float(cell)) > numbers.MAX_MAGNITUDE
        if state == _NOT_FINITE:
            assert not math.isfinite(float(cell.strip().lower().replace("infinity", "inf")))


@given(st.lists(st.from_regex(r"\A[+-]?[0-9]{1,5}([.,][0-9]{1,4})?\Z"), min_size=1, max_size=20))
def test_a_semicolon_file_never_guesses_what_a_separator_means(cells):
    column = np.array(cells, dtype=object)
    mark = decimal_mark([column], semicolon=True)
    values, status = _parse_values(column, mark)
    for cell, value, state in zip(cells, values, status, strict=True):
        if state != _OK or ("," not in cell and "." not in cell):
            continue
        if mark.kind == "unknown":  # nothing settled the mark, or the file uses both
            assert not re.fullmatch(r"[+-]?[0-9]{1,3}[.,][0-9]{3}", cell)
        else:  # read only by the file's own decimal mark, which some value settled
            assert ("," in cell) == (mark.kind == "comma")
        assert value == float(cell.replace(",", "."))


# Scoring ---------------------------------------------------------------------------------------

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
positive = st.floats(min_value=1e-6, max_value=1e12, allow_nan=False)
bands = st.lists(st.floats(min_value=0.01, max_value=5), min_size=4, max_size=4, unique=True)\
    .map(sorted)


@given(st.one_of(st.none(), finite, st.just(math.inf), st.just(math.nan)), positive,
       st.sampled_from(["higher", "lower"]))
def test_attainment_is_none_or_finite_and_capped(actual, target, direction):
    value = attainment(actual, target, direction)
    if actual is None or not math.isfinite(actual):
        assert value is None
    else:
        assert value is not None and math.isfinite(value) and value <= MAX_ATTAINMENT


@given(positive, positive, positive)
def test_more_is_better_when_higher_is_better(target, a, b):
    low, high = sorted((a, b))
    assert attainment(low, target, "higher") <= attainment(high, target, "higher")
    assert attainment(low, target, "lower") >= attainment(high, target, "lower")


@given(st.one_of(st.none(), st.floats(min_value=0, max_value=20)), bands)
def test_band_scores_are_1_to_5_and_monotone(value, thresholds):
    thresholds = validate_bands(thresholds)
    score = band_score(value, thresholds)
    if value is None:
        assert score is None
        return
    assert 1 <= score <= 5
    assert band_score(value * 1.5 + 0.01, thresholds) >= score


@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(1, 5)),
                          st.floats(min_value=0.1, max_value=10)), max_size=5),
       st.lists(st.one_of(st.none(), st.integers(1, 5)), max_size=8),
       st.floats(min_value=0.3, max_value=0.7))
def test_combined_scores_stay_between_1_and_5(kpis, ratings, weight):
    scores = combine(kpis, ratings, weight)
    for value in (scores.quant, scores.qual, scores.overall):
        assert value is None or 1 - 1e-9 <= value <= 5 + 1e-9
    if scores.quant is not None and scores.qual is not None:
        assert min(scores.quant, scores.qual) - 1e-9 <= scores.overall <= \
            max(scores.quant, scores.qual) + 1e-9
    elif scores.overall is not None:
        assert scores.renormalised  # a missing side never drags the score down


@given(st.lists(st.tuples(st.one_of(st.none(), finite), positive), max_size=10))
def test_a_weighted_mean_lies_within_its_values(pairs):
    mean = weighted_mean(pairs)
    present = [v for v, _ in pairs if v is not None]
    if not present:
        assert mean is None
    else:
        assert min(present) - 1e-6 * max(1, abs(min(present))) <= mean <= \
            max(present) + 1e-6 * max(1, abs(max(present)))


def test_non_ascii_digits_are_not_a_period():
    """Found by the property above: \\d took an Arabic-Indic zero, so '2026-1٠' was October."""
    with pytest.raises(PeriodError):
        parse_period("2026-1\u0660")
