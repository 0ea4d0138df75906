"""Charts of the KPI lab as inline SVG (matplotlib, Agg, no network, no files).

Runs are never edited, so a run stores a small anonymous sample of points per candidate
(`chart_points`) and the page renders it on demand; rendered SVGs are cached by content.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from typing import Any

from reviewapp.analytics.panel import absorb, prepare_panel
from reviewapp.caching import Lru
from reviewapp.chart_markup import chart_text, drawn_svg, without_inline_styles
from reviewapp.lazy import np, pd

# matplotlib is imported by the functions that draw (Figure needs no GUI backend): importing it
# here would cost every app start, every `flask` command and every worker boot ~0.3 s.

MAX_POINTS = 400
INK, MUTED, BRAND, WARN, OK = "#1d2433", "#667085", "#2f5bea", "#a15c00", "#127a45"
CACHE_SIZE = 256
_cache: Lru[str] = Lru(CACHE_SIZE)


def _round(values: np.ndarray) -> list[float]:
    """Four significant figures (plenty for a chart; keeps the stored JSON small)."""
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 10.0 ** (3 - np.floor(np.log10(np.abs(values))))
        rounded = np.round(values * scale) / scale
    return np.where(np.isfinite(rounded), rounded, values).tolist()


def _slope(x: np.ndarray, y: np.ndarray) -> float | None:
    sxx = float(x @ x)
    return float(x @ y) / sxx if sxx > 0 else None


def chart_points(panel: pd.DataFrame, outcome: str, candidates: Sequence[str],
                 lag: int, period_effects: bool = True) -> dict[str, dict[str, Any]]:
    """Per candidate: a sample of pooled (raw) points, and of the points the verdict rests on,
    with slopes.

    The second panel is the model's own view of the candidate (an added-variable plot): the
    outcome and the candidate with each rep's average taken out, each period's too when the
    run has period effects, and then the other candidates. Its fit line's slope is the run's
    coefficient (Frisch-Waugh-Lovell), so a season that lifts activity and revenue together,
    or a metric that only shadows another, does not draw a slope the verdict denies. Uses the
    rows the joint fit uses (complete for every candidate, lagged if asked).
    """
    try:
        prep = prepare_panel(panel, outcome, list(candidates), lag)
    except ValueError:
        return {}
    if prep.n_obs < 3:
        return {}
    y = prep.y
    both = np.column_stack([y, prep.x])
    absorbed = absorb(both - both.mean(axis=0), prep.rep_codes, prep.n_reps,
                      prep.period_codes if period_effects else None,
                      prep.n_periods if period_effects else 0).resid
    yw, xw_all = absorbed[:, 0], absorbed[:, 1:]
    net = (["season"] if period_effects else []) + (["others"] if len(candidates) > 1 else [])
    pick = np.arange(prep.n_obs)
    if prep.n_obs > MAX_POINTS:
        pick = np.sort(np.random.default_rng(0).choice(prep.n_obs, MAX_POINTS, replace=False))
    out: dict[str, dict[str, Any]] = {}
    for j, key in enumerate(candidates):
        x, xj, yj = prep.x[:, j], xw_all[:, j], yw
        others = np.delete(xw_all, j, axis=1)
        if others.shape[1]:
            fit, *_ = np.linalg.lstsq(others, np.column_stack([yj, xj]), rcond=None)
            yj, xj = yj - others @ fit[:, 0], xj - others @ fit[:, 1]
        out[key] = {
            "pooled": {"x": _round(x[pick]), "y": _round(y[pick]),
                       "slope": _slope(x - x.mean(), y - y.mean()),
                       "x_mean": float(x.mean()), "y_mean": float(y.mean())},
            "within": {"x": _round(xj[pick]), "y": _round(yj[pick]), "slope": _slope(xj, yj),
                       "net": net},
            "n": prep.n_obs,
        }
    return out


def taken_out(charts: Sequence[dict[str, Any] | None], grain: str) -> list[str]:
    """What the run's within charts took out of their points besides each rep's average, in
    words ("each quarter's company-wide swing", "the other metrics"); none for runs stored
    before "net" was kept."""
    net = next((c["within"].get("net") or [] for c in charts if c), [])
    return ([f"each {grain}'s company-wide swing"] if "season" in net else []) + (
        ["the other metrics"] if "others" in net else [])


def within_title(within: dict[str, Any]) -> tuple[str, str]:
    """The second panel's title and axis suffix, by what was taken out of its points (runs
    stored before "net" was kept show deviations from each rep's own average)."""
    net = within.get("net")
    if not net:
        return "Within each rep (vs. own average)", "vs. own average"
    return "Within each rep (adjusted)", "(adjusted)"  # the page says what was taken out


def _svg(size: tuple[float, float], draw, salt: str) -> str:
    """The figure `draw(fig)` fills, as SVG for a page (chart_markup.drawn_svg)."""
    text = drawn_svg(draw, {"svg.hashsalt": salt, "svg.fonttype": "none"}, figsize=size,
                     dpi=72)
    start = text.find("<svg")
    return without_inline_styles(text[start:] if start >= 0 else text)


def _compact(value: float, _position=None) -> str:
    """Tick labels people read at a glance: 140000 -> 140k, 2500000 -> 2.5M."""
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:g}M"
    if size >= 1e4:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def _style(ax, title: str, xlabel: str, ylabel: str, numeric_x: bool = True) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.set_title(chart_text(title), fontsize=10, color=INK, loc="left")
    ax.set_xlabel(chart_text(xlabel), fontsize=9, color=MUTED)
    ax.set_ylabel(chart_text(ylabel), fontsize=9, color=MUTED)
    ax.tick_params(labelsize=8.5, colors=MUTED)
    if numeric_x:
        ax.xaxis.set_major_formatter(FuncFormatter(_compact))
    ax.yaxis.set_major_formatter(FuncFormatter(_compact))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#c9d0dc")
    ax.grid(True, color="#eef1f6", linewidth=0.6)
    ax.set_axisbelow(True)


def _line(ax, xs: list[float], slope: float | None, x0: float, y0: float, color: str) -> None:
    if slope is None or not xs or not math.isfinite(slope):
        return
    lo, hi = min(xs), max(xs)
    ax.plot([lo, hi], [y0 + slope * (lo - x0), y0 + slope * (hi - x0)], color=color,
            linewidth=1.6)


def scatter_svg(points: dict[str, Any], x_name: str, y_name: str, salt: str) -> str:
    """Two small panels: all rep-periods (pooled) and within-rep deviations, with fit lines."""
    key = hashlib.sha256(json.dumps([points, x_name, y_name, salt], sort_keys=True)
                         .encode()).hexdigest()
    cached = _cache.get(key)
    if cached is not None:
        return cached

    def draw(fig) -> None:
        # Fixed margins instead of tight_layout/bbox "tight": each of those draws it again.
        fig.subplots_adjust(left=0.1, right=0.985, bottom=0.17, top=0.9, wspace=0.3)
        left, right = fig.subplots(1, 2)
        pooled, within = points["pooled"], points["within"]
        left.scatter(pooled["x"], pooled["y"], s=9, color=MUTED, alpha=0.45, linewidths=0)
        _line(left, pooled["x"], pooled["slope"], pooled["x_mean"], pooled["y_mean"], WARN)
        _style(left, "Across reps (pooled)", x_name, y_name)
        right.scatter(within["x"], within["y"], s=9, color=BRAND, alpha=0.45, linewidths=0)
        _line(right, within["x"], within["slope"], 0.0, 0.0, INK)
        right.axhline(0, color="#c9d0dc", linewidth=0.8)
        right.axvline(0, color="#c9d0dc", linewidth=0.8)
        title, suffix = within_title(within)
        _style(right, title, f"{x_name} {suffix}", f"{y_name} {suffix}")

    return _cache.put(key, _svg((7.2, 3.0), draw, salt))


def drift_svg(labels: Sequence[str], coefs: Sequence[float | None],
              lows: Sequence[float | None], highs: Sequence[float | None],
              passed: Sequence[bool], y_label: str, salt: str) -> str | None:
    """The coefficient with its 95% CI over runs; filled markers where the run passed it."""
    idx = [i for i, c in enumerate(coefs) if c is not None and math.isfinite(c)]
    if not idx:
        return None
    xs = np.arange(len(idx))
    c = np.array([coefs[i] for i in idx])
    lo = np.array([lows[i] if lows[i] is not None else coefs[i] for i in idx])
    hi = np.array([highs[i] if highs[i] is not None else coefs[i] for i in idx])

    def draw(fig) -> None:
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.17, top=0.88)
        ax = fig.subplots()
        ax.axhline(0, color="#c9d0dc", linewidth=0.8)
        ax.vlines(xs, lo, hi, color=BRAND, linewidth=1.6)
        ax.plot(xs, c, color=BRAND, linewidth=0.8, alpha=0.5)
        for x, i in zip(xs, idx, strict=True):
            ax.plot([x], [coefs[i]], marker="o", markersize=6, color=OK if passed[i] else WARN,
                    markerfacecolor=OK if passed[i] else "white")
        ax.set_xticks(xs, [labels[i] for i in idx])
        _style(ax, "Within-rep coefficient with 95% CI, by run", "run", y_label,
               numeric_x=False)
        ax.set_xlim(-0.6, len(idx) - 0.4)

    return _svg((7.2, 2.8), draw, salt)
