"""The record's small chart: the rep's KPI values over the last periods, as vector SVG.

Matplotlib draws it; the text stays text, in the record's own shipped font ("Record Sans", the
DejaVu Sans that matplotlib measures with), so it is selectable and needs no system font. Fixed
ids and no date: the same values give the same bytes. The record embeds it as an image served
by the renderer's fetcher, which WeasyPrint draws far faster than inline SVG.
"""

from __future__ import annotations

import io
import re

from matplotlib import rcParams
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

rcParams["svg.fonttype"] = "none"
rcParams["svg.hashsalt"] = "reviewapp-records"
rcParams["font.family"] = "DejaVu Sans"

INK, MUTED, ACCENT, RULE = "#1f2937", "#6b7280", "#2563eb", "#d1d5db"
FONT = re.compile(r"'DejaVu Sans'|DejaVu Sans")


def _short(label: str) -> str:
    return label[2:] if len(label) >= 7 else label  # 2025-Q4 -> 25-Q4


def kpi_chart_svg(history: dict) -> bytes:
    """SVG bytes: one small panel per KPI (values, and the cycle's target dashed), or b''."""
    series = [s for s in history.get("series", []) if any(v is not None for v in s["values"])]
    if not series:
        return b""
    labels = [_short(x) for x in history["labels"]]
    fig = Figure(figsize=(6.9, 1.3), dpi=72)
    FigureCanvasSVG(fig)
    axes = fig.subplots(1, len(series), squeeze=False)[0]
    xs = list(range(len(labels)))
    for ax, s in zip(axes, series, strict=True):
        points = [(x, v) for x, v in zip(xs, s["values"], strict=True) if v is not None]
        ax.plot([p[0] for p in points], [p[1] for p in points], color=ACCENT, linewidth=1.3,
                marker="o", markersize=2.4)
        if s.get("target") is not None:
            ax.axhline(s["target"], color=MUTED, linewidth=0.8, linestyle=(0, (3, 2)))
        ax.set_title(s["name"], fontsize=6.8, color=INK, loc="left", pad=3)
        ax.set_xticks([xs[0], xs[-1]], [labels[0], labels[-1]], fontsize=5.5, color=MUTED)
        ax.set_xlim(-0.3, xs[-1] + 0.3)
        ax.yaxis.set_major_locator(MaxNLocator(3))
        ax.tick_params(axis="y", labelsize=5.5, colors=MUTED, length=2, pad=1)
        ax.tick_params(axis="x", length=2, pad=1)
        ax.set_ylim(bottom=0)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_color(RULE)
    fig.subplots_adjust(left=0.04, right=0.985, top=0.84, bottom=0.15, wspace=0.3)
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return FONT.sub("'Record Sans'", out.getvalue()).encode("utf-8")
