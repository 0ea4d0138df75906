"""Plain-language numbers and sentences."""

from reviewapp.analytics.wording import Wording, fmt_number, q_text


def test_fmt_number_two_significant_figures():
    assert fmt_number(4087.3) == "4,100"
    assert fmt_number(2913.0) == "2,900"
    assert fmt_number(-0.01234) == "-0.012"
    assert fmt_number(2.111) == "2.1"
    assert fmt_number(0.0) == "0"


def test_sentences_with_units_lag_and_negative_effect():
    wording = Wording(
        "revenue", {"revenue": "revenue", "calls": "Calls"}, {"proposals": "proposal"}, "quarter"
    )
    text = wording.fitted("proposals", 4087.0, (2913.0, 5261.0), True, 0.4, False)
    assert text == (
        "Within the same rep, one more proposal a quarter goes with about 4,100 more revenue "
        "(likely between 2,900 and 5,300 more)."
    )
    lagged = Wording("revenue", {}, {}, "month", lag=1)
    text = lagged.fitted("calls", -12.0, (-20.0, -4.0), True, 0.3, True)
    assert text.startswith("Within the same rep, one more unit of calls in a month goes with")
    assert "about 12 less revenue the next month (likely between 4.0 and 20 less)." in text
    assert "across reps, people with more calls have higher revenue" in text


def test_ranges_in_money_without_jargon():
    wording = Wording("revenue", {}, {"revenue": "$"}, "quarter")
    assert wording.likely_range(1700, 2400) == "likely between $1,700 and $2,400 more"
    assert wording.likely_range(-300, 900) == "likely between $300 less and $900 more"
    assert wording.likely_range(-900, -300) == "likely between $300 and $900 less"


def test_a_q_below_a_thousandth_is_not_printed_as_zero():
    assert q_text(3e-9) == "q < 0.001"  # '%.3g' printed "q = 3e-09", and a stored 0 "q = 0"
    assert q_text(0.0) == "q < 0.001"
    assert q_text(0.0123) == "q = 0.0123"
    assert q_text(0.2, "placebo q") == "placebo q = 0.2"


def test_the_plain_verdict_follows_the_metrics_direction():
    words = Wording("revenue", {"revenue": "revenue", "resp": "response time"},
                    {"revenue": "$", "resp": "hour"}, "quarter")
    # Less response time went with more revenue: the good news, as a KPI.
    kpi = words.plain("resp", "kpi", -2.66, True, False, 0.0, 1.0, 2, direction="lower")
    assert kpi.startswith("Within the same rep, less response time went with more revenue;")
    # A clear effect the wrong way is not "too small to be worth scoring".
    wrong = words.plain("resp", "not_predictive", 3.1, True, False, 0.0, 1.0, 2,
                        direction="lower")
    assert wrong == ("Within the same rep, more response time went with more revenue: the "
                     "wrong way for a metric where less is better.")
    small = words.plain("resp", "not_predictive", -0.01, True, False, 0.0, 1.0, 2,
                        direction="lower")
    assert small.endswith("but not by enough to be worth scoring.")
    unsure = words.plain("resp", "inconclusive", -1.0, False, False, 0.0, 500.0, 2,
                         direction="lower")
    assert "less response time may or may not go with more revenue" in unsure
    assert "$500 or more for each hour less" in unsure
