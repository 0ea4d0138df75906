"""The record's small chart: the rep's KPI values over the last periods, as vector SVG.

Matplotlib draws it; the text stays text, in the record's own shipped font ("Record Sans", the
DejaVu Sans that matplotlib measures with), so it is selectable and needs no system font. Fixed
ids and no date: the same values give the same bytes. The record embeds it as an image served
by the renderer's fetcher, which WeasyPrint draws far faster than inline SVG.

Making a figure and its axes costs more than drawing one, so each process keeps one figure per
number of panels and only changes its lines, titles and limits for each record (under a lock:
a threaded server may render two drafts at once). A drawn chart is kept by the values it shows:
a draft rendered again after its notes changed shows the same KPI history, and drawing it was a
tenth of the draft's time.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET

from matplotlib import rcParams
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from reviewapp.caching import Lru
from reviewapp.chart_markup import DRAWING

rcParams["svg.fonttype"] = "none"
rcParams["svg.hashsalt"] = "reviewapp-records"
rcParams["font.family"] = "DejaVu Sans"

INK, MUTED, ACCENT, RULE = "#1f2937", "#6b7280", "#2563eb", "#d1d5db"
FONT = re.compile(r"'DejaVu Sans'|DejaVu Sans")
SVG_NS, XLINK_NS = "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"
_FIGURES: dict[int, tuple[Figure, list]] = {}
CHARTS_KEPT = 256  # a few KB each
_drawn: Lru[bytes] = Lru(CHARTS_KEPT)


def _short(label: str) -> str:
    return label[2:] if len(label) >= 7 else label  # 2025-Q4 -> 25-Q4


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"


def _figure(panels: int) -> tuple[Figure, list]:
    """This process's figure with that many panels: (figure, [(axes, line, target line)])."""
    if panels not in _FIGURES:
        fig = Figure(figsize=(6.9, 1.3), dpi=72)
        FigureCanvasSVG(fig)
        parts = []
        for ax in fig.subplots(1, panels, squeeze=False)[0]:
            (line,) = ax.plot([], [], color=ACCENT, linewidth=1.3, marker="o", markersize=2.4)
            target = ax.axhline(0, color=MUTED, linewidth=0.8, linestyle=(0, (3, 2)))
            ax.tick_params(axis="y", labelsize=5.5, colors=MUTED, length=2, pad=1)
            ax.tick_params(axis="x", labelsize=5.5, colors=MUTED, length=2, pad=1)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            for side in ("left", "bottom"):
                ax.spines[side].set_color(RULE)
            parts.append((ax, line, target))
        fig.subplots_adjust(left=0.04, right=0.985, top=0.84, bottom=0.15, wspace=0.3)
        _FIGURES[panels] = (fig, parts)
    return _FIGURES[panels]


def kpi_chart_svg(history: dict) -> bytes:
    """SVG bytes: one small panel per KPI (values, and the cycle's target dashed), or b''."""
    series = [s for s in history.get("series", []) if any(v is not None for v in s["values"])]
    if not series:
        return b""
    key = json.dumps([history.get("labels"), series], sort_keys=True, default=str)
    drawn = _drawn.get(key)
    if drawn is None:
        drawn = _drawn.put(key, _draw(history["labels"], series))
    return drawn


def _draw(period_labels: list[str], series: list[dict]) -> bytes:
    labels = [_short(x) for x in period_labels]
    xs = list(range(len(labels)))
    with DRAWING:
        fig, parts = _figure(len(series))
        for i, ((ax, line, target), s) in enumerate(zip(parts, series, strict=True)):
            points = [(x, v) for x, v in zip(xs, s["values"], strict=True) if v is not None]
            line.set_data([p[0] for p in points], [p[1] for p in points])
            goal = s.get("target")
            top = max([p[1] for p in points] + [goal or 0]) * 1.12 or 1
            target.set_visible(goal is not None)
            target.set_ydata([goal or 0] * 2)
            ax.set_title(s["name"], fontsize=6.8, color=INK, loc="left", pad=3)
            # Few labels: every text costs the PDF renderer more than the lines do. The y axis
            # names 0 and the target (or the top); the periods are named under the first panel.
            ax.set_yticks([0, goal if goal is not None else top / 1.12],
                          ["0", _number(goal if goal is not None else top / 1.12)])
            ax.set_xticks([xs[0], xs[-1]], [labels[0], labels[-1]] if i == 0 else ["", ""])
            ax.set_xlim(-0.3, xs[-1] + 0.3)
            ax.set_ylim(0, top)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return _lean(out.getvalue())


def _lean(svg: str) -> bytes:
    """The same drawing in fewer nodes and without style attributes (WeasyPrint parses each
    style attribute as CSS, and walks every group): id-only groups flattened, styles turned
    into presentation attributes, the metadata dropped, the font named as the record's."""
    root = ET.fromstring(svg)

    def walk(parent: ET.Element) -> None:
        for child in list(parent):
            walk(child)
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "metadata":
                parent.remove(child)
                continue
            style = child.attrib.pop("style", None)
            for declaration in (style or "").split(";"):
                name, _, value = declaration.partition(":")
                if not value.strip():
                    continue
                name, value = name.strip(), value.strip()
                if name == "font":  # "7px 'DejaVu Sans'"
                    size, _, _family = value.partition(" ")
                    child.set("font-size", size)
                    child.set("font-family", "Record Sans")
                else:
                    child.set(name, FONT.sub("Record Sans", value))
        for child in list(parent):
            if child.tag == f"{{{SVG_NS}}}g" and set(child.attrib) <= {"id"}:
                at = list(parent).index(child)
                parent.remove(child)
                for offset, grandchild in enumerate(list(child)):
                    parent.insert(at + offset, grandchild)

    walk(root)
    # The prefixes are one registry for the whole process, and WeasyPrint's metadata module
    # maps "" to no namespace when it loads: registered here, before each use, the SVG comes
    # out as <svg>, not <ns0:svg>, whatever was imported first.
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return ET.tostring(root, encoding="utf-8")
