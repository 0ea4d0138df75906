"""The progress chart of one goal as plain SVG geometry: no JavaScript, no external assets.

Progress is drawn against the current target. Check-ins of a metric goal are redrawn from the
value they recorded, so an adjusted target moves the old points too; each adjustment is marked
with a dashed line on the day it took effect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from reviewapp.goals.models import Goal, GoalKind
from reviewapp.goals.progress import progress_fraction

WIDTH, HEIGHT = 960, 250
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 32
Y_FLOOR, Y_CEILING = -0.5, 2.0  # beyond these a point sits on the edge


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Marker:
    x: float
    label: str
    anchor: str = "start"  # labels near the right edge run leftwards

    @property
    def label_x(self) -> float:
        return self.x + 5 if self.anchor == "start" else self.x - 5


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: float = WIDTH - RIGHT
    top: int = TOP
    bottom: float = HEIGHT - BOTTOM
    line: str = ""  # polyline points of the progress
    dots: list[Dot] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (y, label)
    target_y: float = 0.0
    expected: str = ""  # polyline points of the time-based expectation
    changes: list[Marker] = field(default_factory=list)
    today_x: float | None = None
    start_label: str = ""
    end_label: str = ""


def chart_points(goal: Goal, current: float | None, today: date) -> list[tuple[date, float, str]]:
    """(day, fraction, label) of each check-in, plus today's value, against today's target."""
    points = []
    for check_in in goal.check_ins:
        fraction = None
        if (goal.kind == GoalKind.METRIC and check_in.metric_value is not None
                and check_in.metric_id == goal.metric_id):
            fraction = progress_fraction(check_in.metric_value, goal.start_value,
                                         goal.target_value)
        elif check_in.progress is not None:
            fraction = check_in.progress / 100.0
        if fraction is not None:
            points.append((check_in.held_on, fraction, f"Check-in {check_in.held_on:%-d %b}"))
    if current is not None and today >= goal.start_date:
        points.append((min(today, goal.end_date), current, "Now"))
    return sorted(points, key=lambda p: p[0])


def progress_chart(goal: Goal, current: float | None, today: date,
                   cumulative: bool) -> Chart:
    """Lay out the chart of a goal whose progress today is `current` (a fraction)."""
    chart = Chart()
    points = chart_points(goal, current, today)
    values = [p[1] for p in points]
    # Headroom above and below the points, in steps of 25%, within the floor and ceiling.
    low = max(Y_FLOOR, min(0.0, math.floor((min(values, default=0.0) - 0.05) * 4) / 4))
    high = min(Y_CEILING, max(1.0, math.ceil((max(values, default=1.0) + 0.05) * 4) / 4))
    span_days = max((goal.end_date - goal.start_date).days, 1)

    def x_of(day: date) -> float:
        share = (day - goal.start_date).days / span_days
        return round(chart.left + max(0.0, min(1.0, share)) * (chart.right - chart.left), 1)

    def y_of(value: float) -> float:
        value = max(low, min(high, value))
        share = (value - low) / ((high - low) or 1.0)
        return round(chart.bottom - share * (chart.bottom - chart.top), 1)

    chart.dots = [Dot(x_of(day), y_of(v),
                      f"{label}: {'below start' if v < 0 else f'{v * 100:.0f}%'}")
                  for day, v, label in points]
    chart.line = " ".join(f"{d.x},{d.y}" for d in chart.dots)
    step = 0.5 if high - low <= 2 else 1.0
    tick_values = [i * step for i in range(math.ceil(low / step), math.floor(high / step) + 1)]
    chart.ticks = [(y_of(v), f"{v * 100:.0f}%") for v in tick_values]
    chart.target_y = y_of(1.0)
    # A cumulative measure is expected to climb with time; a rate sits at the target line.
    if cumulative:
        chart.expected = (f"{x_of(goal.start_date)},{y_of(0.0)} "
                          f"{x_of(goal.end_date)},{y_of(1.0)}")
    middle = (chart.left + chart.right) / 2
    chart.changes = [Marker(x, _change_label(a), "start" if x < middle else "end")
                     for a in goal.adjustments for x in [x_of(a.effective_on)]]
    if goal.start_date <= today <= goal.end_date:
        chart.today_x = x_of(today)
    chart.start_label = f"{goal.start_date:%-d %b}"
    chart.end_label = f"{goal.end_date:%-d %b %Y}"
    return chart


def _change_label(adjustment) -> str:
    parts = []
    if "target_value" in adjustment.after:
        parts.append(f"target {_num(adjustment.before['target_value'])} → "
                     f"{_num(adjustment.after['target_value'])}")
    if "metric_id" in adjustment.after:
        parts.append("metric changed")
    if {"start_date", "end_date", "quarter"} & set(adjustment.after):
        parts.append("period changed")
    if "start_value" in adjustment.after and "target_value" not in adjustment.after:
        parts.append("start value changed")
    return f"{adjustment.effective_on:%-d %b}: " + ", ".join(parts)


def _num(value) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"
