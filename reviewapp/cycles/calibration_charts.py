"""The calibration page's charts as inline SVG (matplotlib, Agg), safe under a strict CSP.

matplotlib is imported inside the functions: the app starts without it, and only this page
pays for it. The charts take summaries, not people: the box plots are drawn from quartiles
(`Axes.bxp`), so no single score of the anonymised group can reach the SVG. Every label goes
through chart_text (a name with a `$` is text, not mathtext) and every SVG through
without_inline_styles (the strict Content-Security-Policy refuses style="" and <style>).
Rendered SVGs are cached by content.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from markupsafe import Markup

from reviewapp.caching import Lru
from reviewapp.chart_markup import chart_text, drawn_svg, without_inline_styles

INK, MUTED, GRID, LINE = "#1d2433", "#667085", "#eef1f6", "#c9d0dc"
BRAND, BAD, ORG = "#2f5bea", "#b42318", "#98a2b3"
# Colour-blind-safe (Okabe–Ito) colours, each with its own marker: colour is never the only cue.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
           "#F0E442"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
CACHE_SIZE = 128
_cache: Lru[str] = Lru(CACHE_SIZE)


def csp_safe(svg: str, label: str) -> str:
    """The <svg> element alone, without inline styles or metadata, labelled for screen
    readers (the table beside it carries the numbers)."""
    svg = without_inline_styles(svg[svg.find("<svg"):])
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return svg.replace("<svg", f'<svg role="img" aria-label="{label}"', 1)


def _render(kind: str, payload: Sequence, label: str, draw) -> Markup:
    key = hashlib.sha256(repr((kind, payload, label)).encode()).hexdigest()
    cached = _cache.get(key)
    if cached is not None:
        return Markup(cached)
    import matplotlib

    matplotlib.use("Agg")
    svg = drawn_svg(draw, {"svg.hashsalt": f"cal-{kind}", "svg.fonttype": "none",
                           "font.family": "sans-serif",
                           "font.sans-serif": ["DejaVu Sans", "Arial"]}, layout="constrained")
    return Markup(_cache.put(key, csp_safe(svg, label)))


def _style(ax, title: str = "", xlabel: str = "", ylabel: str = "") -> None:
    if title:
        ax.set_title(chart_text(title), fontsize=10, color=INK, loc="left")
    ax.set_xlabel(chart_text(xlabel), fontsize=9, color=MUTED)
    ax.set_ylabel(chart_text(ylabel), fontsize=9, color=MUTED)
    ax.tick_params(labelsize=8.5, colors=MUTED)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(LINE)
    ax.grid(True, color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


def distributions_chart(groups: Sequence[tuple[str, str, dict]],
                        scores: Sequence[tuple[str, str]]) -> Markup:
    """Box plots of each score (side by side) for each group: (label, kind, {score: summary})
    with summaries as analytics.calibration.Distribution (or None)."""
    payload = [(label, kind, tuple(
        None if d is None else (d.low, d.q1, d.median, d.q3, d.high, d.mean)
        for d in (summary.get(key) for key, _ in scores))) for label, kind, summary in groups]

    def draw(fig):
        fig.set_size_inches(9.8, 0.45 * len(payload) + 1.2)
        axes = fig.subplots(1, len(scores), sharey=True)
        labels = [chart_text(label) for label, _, _ in payload][::-1]
        for j, (ax, (_, title)) in enumerate(zip(axes, scores, strict=True)):
            stats, positions, colours = [], [], []
            for i, (_, kind, summaries) in enumerate(payload[::-1]):
                s = summaries[j]
                if s is None:
                    continue
                low, q1, median, q3, high, mean = s
                stats.append({"whislo": low, "q1": q1, "med": median, "q3": q3, "whishi": high,
                              "mean": mean, "fliers": []})
                positions.append(i)
                colours.append(ORG if kind in ("org", "rest") else BRAND)
            if stats:
                boxes = ax.bxp(stats, positions=positions, orientation="horizontal",
                               widths=0.55, showmeans=True, patch_artist=True,
                               meanprops={"marker": "D", "markerfacecolor": INK,
                                          "markeredgecolor": INK, "markersize": 4},
                               medianprops={"color": INK, "linewidth": 1.4})
                for patch, colour in zip(boxes["boxes"], colours, strict=True):
                    patch.set_facecolor(colour)
                    patch.set_alpha(0.45)
                    patch.set_edgecolor(colour)
            ax.set_xlim(0.8, 5.2)
            ax.set_xticks([1, 2, 3, 4, 5])
            ax.set_yticks(range(len(labels)), labels)
            _style(ax, title, "score (1–5)")

    label = "Box plots of the overall, KPI and qualitative scores per group: " + ", ".join(
        label for label, _, _ in groups) + ". The table beside gives the numbers."
    return _render("distributions", payload, label, draw)


def leniency_chart(rows: Sequence[tuple[str, float, float | None, float | None, bool]]
                   ) -> Markup:
    """Each manager's mean qualitative rating minus the organisation's, with its 95 %
    interval: (label, difference, low, high, flagged)."""
    payload = [tuple(row) for row in rows]

    def draw(fig):
        fig.set_size_inches(7.6, 0.4 * len(payload) + 1.3)
        ax = fig.subplots()
        ax.axvline(0, color=MUTED, linewidth=1, linestyle="--")
        for i, (_, diff, low, high, flagged) in enumerate(payload[::-1]):
            colour = BAD if flagged else BRAND
            if low is not None and high is not None:
                ax.plot([low, high], [i, i], color=colour, linewidth=2)
            ax.plot([diff], [i], marker="D" if flagged else "o", color=colour, markersize=6)
        ax.set_yticks(range(len(payload)), [chart_text(row[0]) for row in payload][::-1])
        spans = [abs(v) for row in payload for v in row[1:4] if v is not None] or [1.0]
        limit = max(1.0, max(spans) * 1.15)
        ax.set_xlim(-limit, limit)
        _style(ax, "Mean qualitative rating minus the organisation's",
               "difference in rating points (95 % interval)")

    label = ("Leniency per manager: the difference of each manager's mean qualitative rating "
             "from the organisation's, with its 95 % interval. The table beside gives the "
             "numbers.")
    return _render("leniency", payload, label, draw)


def scatter_chart(points: Sequence[tuple[str, float, float]], org_quant: float | None,
                  org_qual: float | None) -> Markup:
    """One point per rep: KPI score (x) against the manager's qualitative rating (y),
    coloured and shaped by manager; dashed lines at the organisation's means."""
    payload = [tuple(p) for p in points]
    managers = list(dict.fromkeys(p[0] for p in payload))

    def draw(fig):
        fig.set_size_inches(6.2, 4.4)
        ax = fig.subplots()
        if org_quant is not None:
            ax.axvline(org_quant, color=ORG, linewidth=1, linestyle="--")
        if org_qual is not None:
            ax.axhline(org_qual, color=ORG, linewidth=1, linestyle="--")
        for k, manager in enumerate(managers):
            xs = [p[1] for p in payload if p[0] == manager]
            ys = [p[2] for p in payload if p[0] == manager]
            ax.scatter(xs, ys, s=30, label=chart_text(manager),
                       color=PALETTE[k % len(PALETTE)],
                       marker=MARKERS[k % len(MARKERS)], alpha=0.85, linewidths=0)
        ax.set_xlim(0.8, 5.2)
        ax.set_ylim(0.8, 5.2)
        ax.set_xticks([1, 2, 3, 4, 5])
        ax.set_yticks([1, 2, 3, 4, 5])
        _style(ax, "Ratings against the numbers", "KPI score (validated KPIs only)",
               "manager's qualitative rating")
        if managers:
            ax.legend(fontsize=8, frameon=False, loc="best")

    label = ("Scatter of each rep's KPI score against their manager's qualitative rating, by "
             "manager, with the organisation's means as dashed lines. The table beside lists "
             "the points.")
    return _render("scatter", (payload, org_quant, org_qual), label, draw)


def page_charts(page) -> dict[str, Markup]:
    """The charts of a cycles.calibration.CalibrationPage (none for an empty section)."""
    from reviewapp.cycles.calibration import SCORES

    charts = {}
    if page.groups:
        charts["distributions"] = distributions_chart(
            [(g.label, g.kind, g.scores) for g in page.groups], SCORES)
    lenient = [(m.manager.name, m.leniency.comparison.difference,
                *((m.leniency.comparison.interval.low, m.leniency.comparison.interval.high)
                  if m.leniency.comparison.interval else (None, None)), m.leniency.flagged)
               for m in page.managers]
    if lenient and page.comparable:
        charts["leniency"] = leniency_chart(lenient)
    if page.points:
        charts["scatter"] = scatter_chart(
            [(p.review.manager.name if p.review.manager else "No reviewer",
              p.review.quant_score, p.manager_qual) for p in page.points],
            page.org_quant if page.comparable else None,
            page.org_qual if page.comparable else None)
    return charts
