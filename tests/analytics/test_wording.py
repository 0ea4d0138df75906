"""Plain-language numbers and sentences."""

from reviewapp.analytics.wording import Wording, fmt_number


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
        "(95% CI 2,900 to 5,300)."
    )
    lagged = Wording("revenue", {}, {}, "month", lag=1)
    text = lagged.fitted("calls", -12.0, (-20.0, -4.0), True, 0.3, True)
    assert text.startswith("Within the same rep, one more unit of calls in a month goes with")
    assert "about 12 less revenue the next month (95% CI -20 to -4.0)." in text
    assert "across reps, people with more calls have higher revenue" in text
