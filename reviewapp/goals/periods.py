"""A goal's period: a quarter (optionally narrowed by dates) or custom start and end dates."""

from __future__ import annotations

from datetime import date

from reviewapp.errors import ServiceError
from reviewapp.metrics.periods import Grain, PeriodError, current_quarter, parse_period

MAX_DAYS = 366
CUSTOM = "custom"


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def describe_period(quarter: str | None, start: date, end: date) -> str:
    """'2026-Q3', '2026-Q3 (1 Aug – 30 Sep 2026)' or '1 Aug 2026 – 15 Oct 2026'."""
    if quarter:
        q = parse_period(quarter)
        if (start, end) == (q.start, q.end):
            return quarter
        return f"{quarter} ({_day(start)} – {_day(end)})"
    return f"{_day(start)} – {_day(end)}"


def goal_period(goal) -> str:
    """describe_period of a goal (or a template assignment) with quarter and dates."""
    return describe_period(goal.quarter, goal.start_date, goal.end_date)


YEARS_AROUND = 5  # a goal in 1900 or 2999 is a typo, not a plan


def resolve_period(quarter: str | None, start: date | None,
                   end: date | None) -> tuple[str | None, date, date]:
    """(quarter label or None, start, end) from a form; dates may narrow a quarter."""
    if quarter and quarter != CUSTOM:
        try:
            period = parse_period(quarter)
        except PeriodError as exc:
            raise ServiceError(exc.message, field="quarter") from None
        if period.grain != Grain.QUARTER:
            raise ServiceError("Choose a quarter, or custom dates.", field="quarter")
        start, end = start or period.start, end or period.end
        for name, day in (("start_date", start), ("end_date", end)):
            if not period.contains(day):
                raise ServiceError(
                    f"{day.isoformat()} is outside the period {period.label} "
                    f"({_day(period.start)} – {_day(period.end)}); leave the dates empty for "
                    "the whole quarter.", field=name)
        label = period.label
    else:
        if start is None:
            raise ServiceError("Enter the start date, or choose a quarter.", field="start_date")
        if end is None:
            raise ServiceError("Enter the end date, or choose a quarter.", field="end_date")
        label = None
    if end < start:
        raise ServiceError("The end date is before the start date.", field="end_date")
    if (end - start).days + 1 > MAX_DAYS:
        raise ServiceError("A goal runs at most a year; split longer aims into periods.",
                           field="end_date")
    today = date.today()
    earliest, latest = today.replace(year=today.year - YEARS_AROUND, month=1, day=1), \
        today.replace(year=today.year + YEARS_AROUND, month=12, day=31)
    if start < earliest or end > latest:
        raise ServiceError(
            f"{_day(start)} – {_day(end)} looks like a typo: a goal's period lies within "
            f"{YEARS_AROUND} years of today ({earliest.year}–{latest.year}).",
            field="quarter" if label else "start_date")
    return label, start, end


def quarter_choices(today: date | None = None, extra: list[str] | None = None,
                    back: int = 4, ahead: int = 2) -> list[tuple[str, str]]:
    """Quarters around today (plus any given), latest first, then 'custom dates'."""
    now = current_quarter(today)
    labels = {now.shift(i).label for i in range(-back, ahead + 1)} | set(extra or [])
    choices = []
    for label in sorted(labels, reverse=True):
        suffix = " (current)" if label == now.label else ""
        choices.append((label, label + suffix))
    return choices


def choices_with_custom(today: date | None = None,
                        extra: list[str] | None = None) -> list[tuple[str, str]]:
    """Quarter choices for a goal form, ending with custom dates."""
    return quarter_choices(today, extra) + [(CUSTOM, "Custom dates")]


def quarter_bounds(label: str) -> tuple[date, date]:
    """First and last day of a quarter label."""
    period = parse_period(label)
    return period.start, period.end
