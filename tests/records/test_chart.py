"""The record's KPI chart: drawn once per history it shows, the same bytes for the same values."""

import importlib

import weasyprint.pdf.metadata

from reviewapp.records import chart

HISTORY = {"labels": ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"],
           "series": [{"name": "Qualified meetings", "values": [11, None, 14, 17], "target": 15},
                      {"name": "Win rate", "values": [0.21, 0.24, 0.22, 0.3], "target": None}]}


def test_the_same_history_is_drawn_once_and_a_changed_value_anew():
    chart._drawn.clear()
    first = chart.kpi_chart_svg(HISTORY)
    assert first.startswith(b"<svg") and b"Qualified meetings" in first
    assert chart.kpi_chart_svg({**HISTORY}) is first  # kept, not drawn again
    changed = {**HISTORY, "series": [{**HISTORY["series"][0], "values": [11, None, 14, 18]},
                                     HISTORY["series"][1]]}
    assert chart.kpi_chart_svg(changed) != first
    chart._drawn.clear()
    assert chart.kpi_chart_svg(HISTORY) == first  # what was kept is what is drawn


def test_the_svg_is_the_same_whatever_was_imported_first():
    """WeasyPrint's metadata module maps the "" prefix to no namespace when it loads; loaded
    after the chart's module, it turned every chart into <ns0:svg> (seen in the PostgreSQL run's
    test order)."""
    chart._drawn.clear()
    before = chart.kpi_chart_svg(HISTORY)
    importlib.reload(weasyprint.pdf.metadata)  # as if it loaded after reviewapp.records.chart
    chart._drawn.clear()
    after = chart.kpi_chart_svg(HISTORY)
    assert after == before and after.startswith(b"<svg") and b"ns0:" not in after


def test_a_history_without_values_draws_nothing():
    assert chart.kpi_chart_svg({"labels": ["2026-Q1"], "series": [
        {"name": "Calls", "values": [None], "target": 40}]}) == b""
