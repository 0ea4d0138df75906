"""Numbers people type or upload: finite, and of a size a sales figure can have.

float() reads "inf", "nan" and "1e400"; stored, they showed as "target $inf", crashed pages
(nan), or summed to inf on pages and in CSV (1e308 + 1e308). One limit, used by forms,
services, imports and the API alike.
"""

from __future__ import annotations

import math
from decimal import Decimal

from wtforms import FloatField

from reviewapp.errors import ServiceError

MAX_MAGNITUDE = 1e12  # a trillion: above any real figure, far below where sums overflow
RANGE_TEXT = "between -1,000,000,000,000 and 1,000,000,000,000"


def problem(value: float) -> str | None:
    """Why this number cannot be stored, or None when it can."""
    if not math.isfinite(value):
        return "Enter a finite number."
    if abs(value) > MAX_MAGNITUDE:
        return f"Enter a number {RANGE_TEXT}."
    return None


def checked(value: float | None, field: str) -> float | None:
    """The value as a float; ServiceError on the named field when it is not finite or absurd."""
    if value is None:
        return None
    message = problem(float(value))
    if message:
        raise ServiceError(message, field=field)
    return float(value)


def figure(value: float) -> str:
    """A measured value as every page and record shows it: whole numbers with thousands
    separators from 100 up, else at most three significant digits, never an exponent and never a
    trailing ".0" (24, 3.25, 0.125, 1,250)."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    text = f"{value:.3g}"
    if "e" in text:
        text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def attainment(value: float | None) -> str:
    """An attainment (1.148) as a percentage that never reads as a band it has not reached:
    rounded down to a tenth, "114.8%", where rounding to whole percents said "115%" beside a
    score of 4 under the legend "from 115% → 5"; whole ones stay whole ("100%")."""
    if value is None:
        return "—"
    tenths = math.floor(value * 1000 + 1e-6) / 10
    return f"{tenths:.1f}".removesuffix(".0") + "%"


def exact(value: float, *, separators: bool = True) -> str:
    """A value as stored, every digit and no exponent, for the screens where people check
    numbers against their file (the import preview) and for exported files: 1,234,567.89,
    2,000,000, 0.0000001."""
    if not math.isfinite(value):
        return str(value)
    text = f"{Decimal(repr(float(value))):{',' if separators else ''}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class FiniteFloatField(FloatField):
    """A FloatField that refuses inf, nan and magnitudes above MAX_MAGNITUDE."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and (message := problem(self.data)):
            self.data = None
            raise ValueError(message)
