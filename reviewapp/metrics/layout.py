"""Import table layouts: header checks, long/wide detection and wide column mapping.

Layouts (header names are trimmed and case-insensitive):
- long: ``rep_email, period, metric, value``; an empty value is an error;
- wide: ``rep_email, period, <metric key>...``; an empty cell means "no value" and is skipped.
A table is long only when it has both a metric and a value column: a metric may be keyed
``value`` (or ``metric``), and then it is a wide file's column like any other key.
Unknown wide columns can be mapped to a metric key or ignored (None) with a column map.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from reviewapp.metrics.import_errors import ErrorCollector, ImportProblem

__all__ = [
    "REQUIRED_LONG",
    "REQUIRED_WIDE",
    "Layout",
    "LayoutKind",
    "check_header",
    "detect_layout",
    "map_columns",
    "normalise_header",
    "normalise_key",
]

REQUIRED_LONG = ("rep_email", "period", "metric", "value")
REQUIRED_WIDE = ("rep_email", "period")


class LayoutKind(StrEnum):
    """Shape of the table: one value per row (long) or one column per metric (wide)."""

    LONG = "long"
    WIDE = "wide"


@dataclass(frozen=True)
class Layout:
    """Detected layout; for wide, the normalised names of the metric columns."""

    kind: LayoutKind
    metric_columns: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()  # long layout: columns beyond the four required ones


# A wide column named like half of the long layout is most likely a long file missing the other.
_LONG_HINT = dict.fromkeys(
    ("metric", "value"), " (a long file needs both a 'metric' and a 'value' column)"
)


def normalise_header(name: object) -> str:
    """Header name as matched: trimmed, lower-case, without a stray BOM."""
    return str(name).replace("\ufeff", "").strip().lower()


def normalise_key(key: object) -> str:
    """Rep email or metric key as matched: trimmed and lower-case."""
    return str(key).strip().lower()


def detect_layout(headers: Sequence[str]) -> Layout:
    """Long if the header has both a metric and a value column, else wide (others = metrics)."""
    names = [normalise_header(h) for h in headers]
    if "metric" in names and "value" in names:
        extra = tuple(dict.fromkeys(n for n in names if n and n not in REQUIRED_LONG))
        return Layout(LayoutKind.LONG, extra_columns=extra)
    metric_cols = tuple(dict.fromkeys(n for n in names if n and n not in REQUIRED_WIDE))
    return Layout(LayoutKind.WIDE, metric_columns=metric_cols)


def check_header(
    headers: list[str], names: list[str], layout: Layout, at: int | None, errors: ErrorCollector
) -> dict[str, int] | None:
    """Column positions by normalised name, or None when the header makes rows unreadable."""
    position: dict[str, int] = {}
    fatal = False
    for i, name in enumerate(names):
        if not name:
            message = f"column {i + 1} has values but no header name"
            errors.one(ImportProblem(at, f"column {i + 1}", None, message), i)
        elif name in position:
            message = (
                f"column '{headers[i]}' appears more than once "
                f"(columns {position[name] + 1} and {i + 1})"
            )
            errors.one(ImportProblem(at, headers[i], headers[i], message), i)
            fatal = True  # which of the two columns holds the data is anyone's guess
        else:
            position[name] = i
    long = layout.kind is LayoutKind.LONG
    for name in REQUIRED_LONG if long else REQUIRED_WIDE:
        if name not in position:
            found = ", ".join(headers) or "(nothing)"
            message = f"required column '{name}' is missing; the header has: {found}"
            errors.one(ImportProblem(at, name, None, message))
            fatal = True
    if not long and not layout.metric_columns:
        message = (
            "no metric columns: add a 'metric' and a 'value' column (long layout) or one "
            "column per metric key (wide layout)"
        )
        errors.one(ImportProblem(at, None, None, message))
        fatal = True
    return None if fatal else position


def map_columns(
    headers: list[str],
    names: list[str],
    layout: Layout,
    position: dict[str, int],
    column_map: Mapping[str, str | None] | None,
    metric_keys: Sequence[str],
    metric_names: Sequence[str],
    metric_archived: Sequence[bool],
    at: int | None,
    errors: ErrorCollector,
) -> tuple[dict[str, str | None], list[str], list[tuple[int, int]]]:
    """Resolve non-required columns: (mapping, unknown columns, active (index, metric pos)).

    ``metric_keys`` are normalised catalogue keys, aligned with ``metric_names`` (as spelled in
    the catalogue) and ``metric_archived``.
    """
    cmap = {
        normalise_header(k): (normalise_key(v) if v is not None and str(v).strip() else None)
        for k, v in (column_map or {}).items()
    }
    long = layout.kind is LayoutKind.LONG
    base = REQUIRED_LONG if long else REQUIRED_WIDE
    mapping: dict[str, str | None] = {}
    unknown: list[str] = []
    active: list[tuple[int, int]] = []
    used: dict[str, str] = {}
    for i, name in enumerate(names):
        if not name or name in base or position.get(name) != i:
            continue
        header = headers[i]

        def fail(message: str, column_index: int = i, column: str = header) -> None:
            errors.one(ImportProblem(at, column, column, message), column_index)

        if name in cmap and cmap[name] is None:
            mapping[name] = None  # explicitly ignored by the user
        elif long:
            unknown.append(header)
            fail(
                f"unknown column '{header}': the long layout has only rep_email, period, "
                "metric and value; ignore the column or remove it"
            )
        elif cmap.get(name, name) not in metric_keys:
            if name in cmap:
                fail(f"column '{header}' is mapped to unknown metric '{cmap[name]}'")
            else:
                unknown.append(header)
                fail(f"column '{header}' is not a metric key: map it to a metric or ignore it"
                     + _LONG_HINT.get(name, ""))
        else:
            m_pos = list(metric_keys).index(cmap.get(name, name))
            key = metric_names[m_pos]
            if metric_archived[m_pos]:
                fail(
                    f"metric '{key}' is archived"
                    if name not in cmap
                    else f"column '{header}' is mapped to archived metric '{key}'"
                )
            elif key in used:
                fail(f"columns '{used[key]}' and '{header}' both map to metric '{key}'")
            else:
                used[key] = header
                mapping[name] = key
                active.append((i, m_pos))
    return mapping, unknown, active
