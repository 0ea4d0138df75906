"""Charts: a metric name is text, never mathtext, and inline SVG keeps the strict CSP."""

import pytest

from reviewapp.chart_markup import chart_text, without_inline_styles
from reviewapp.kpis import charts
from tests.inline_code import inline_code

POINTS = {"pooled": {"x": [1.0, 2.0, 3.0, 4.0], "y": [2.0, 3.0, 5.0, 4.0], "slope": 0.8,
                     "x_mean": 2.5, "y_mean": 3.5},
          "within": {"x": [-1.0, 0.0, 1.0, 0.5], "y": [-0.5, 0.0, 0.7, 0.1], "slope": 0.6},
          "n": 4}


@pytest.mark.parametrize("name", ["Deals $", "$5k+ deals", "Revenue ($) $\\frac{1}{0}$",
                                  "a $$ b", "\\$ escaped"])
def test_a_dollar_in_a_metric_name_is_drawn_literally(name):
    charts._cache.clear()
    svg = charts.scatter_svg(POINTS, name, "Revenue", salt="t")
    assert name.replace("\\$", "$").split("$")[0].strip() in svg or "$" in svg
    assert svg.count("$") >= name.count("$") - name.count("\\$")
    drift = charts.drift_svg(["Q1", "Q2"], [0.5, 0.7], [0.1, 0.2], [0.9, 1.1], [True, False],
                             f"coefficient of {name}", salt="d")
    assert drift is not None and "$" in drift


def test_kpi_charts_carry_no_inline_style():
    charts._cache.clear()
    svg = charts.scatter_svg(POINTS, "Calls", "Revenue", salt="s")
    assert inline_code(svg) == []
    assert 'stroke-linejoin="round"' in svg and "fill=" in svg


def test_style_attributes_become_presentation_attributes():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg"><defs><style type="text/css">'
           '*{stroke-linejoin: round}</style></defs>'
           '<path style="fill: none; stroke: #2f5bea; stroke-width: 1.6; behavior: x"/>'
           '<text style="font-size: 9px; font-family: \'DejaVu Sans\', sans-serif">a</text>'
           '</svg>')
    out = without_inline_styles(svg)
    assert inline_code(out) == []
    assert '<path fill="none" stroke="#2f5bea" stroke-width="1.6"/>' in out
    assert 'font-family="\'DejaVu Sans\', sans-serif"' in out and "behavior" not in out


def test_chart_text_escapes_mathtext_only():
    assert chart_text("Deals $ won") == "Deals \\$ won"
    assert chart_text("plain") == "plain"
