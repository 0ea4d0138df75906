"""Tiny inline SVG sparklines: no JavaScript, no external assets."""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    points: str  # SVG polyline points
    last_x: float
    last_y: float


def sparkline(values: list[float | None], width: int = 120, height: int = 28,
              pad: int = 3) -> Sparkline | None:
    """Scale a series into an SVG polyline; None when there is nothing to draw."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if len(finite) < 2:
        return None
    low, high = min(finite), max(finite)
    span = (high - low) or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    coords = []
    for i, value in enumerate(values):
        if value is None or not math.isfinite(value):
            continue
        x = pad + i * step
        y = height - pad - (value - low) / span * (height - 2 * pad)
        coords.append((round(x, 1), round(y, 1)))
    points = " ".join(f"{x},{y}" for x, y in coords)
    return Sparkline(width, height, points, coords[-1][0], coords[-1][1])
