"""How a record prints its times and dates, for the PDF and the pages alike.

Kept apart from `render` so that registering these filters at app start does not import
WeasyPrint and matplotlib.
"""

from __future__ import annotations

from datetime import UTC, datetime


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def record_time(value: str | None) -> str:
    """An ISO time of the content as the record prints it: 01 Dec 2026 15:44 UTC."""
    moment = _parse(value)
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%d %b %Y %H:%M UTC")


def record_date(value: str | None) -> str:
    """An ISO date of the content as the record prints it: 01 Oct 2025."""
    return datetime.fromisoformat(value).strftime("%d %b %Y") if value else "—"
