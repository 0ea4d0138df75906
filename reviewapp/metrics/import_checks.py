"""Checking an import's RawTable against the rep and metric catalogue (not KPI validation).

Second half of the all-or-nothing metric import (``parsing`` reads the input). Pure pandas/numpy.

Everything is column-wise: each column is factorised, its distinct values are checked once and
the verdicts are broadcast back by code, so 1,000,000 rows validate in about a second. Python
loops only run over distinct values, header columns, and the bounded list of reported errors.
Layouts and header rules live in ``layout``; the error type and collector in ``import_errors``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from reviewapp.lazy import np, pd
from reviewapp.metrics.import_errors import ErrorCollector, ImportProblem, cell_errors
from reviewapp.metrics.import_grains import flag_mixed_grains, grain_rank
from reviewapp.metrics.layout import (
    REQUIRED_LONG,
    REQUIRED_WIDE,
    Layout,
    LayoutKind,
    check_header,
    detect_layout,
    map_columns,
    normalise_header,
    normalise_key,
)
from reviewapp.metrics.parsing import DEFAULT_MAX_BYTES, RawTable, TableError, read_table
from reviewapp.metrics.periods import Grain, PeriodError, parse_period, parse_period_array
from reviewapp.numbers import MAX_MAGNITUDE, RANGE_TEXT, exact

__all__ = [
    "DEFAULT_MAX_ERRORS",
    "REQUIRED_LONG",
    "REQUIRED_WIDE",
    "ROW_COLUMNS",
    "Layout",
    "LayoutKind",
    "MetricRef",
    "RepRef",
    "Validated",
    "detect_layout",
    "normalise_header",
    "validate",
    "validate_upload",
]

ROW_COLUMNS = ("rep_id", "metric_id", "grain", "period_start", "value", "line")
# Errors are counted exactly but only this many are built: a wholly wrong 1M-row file must not
# allocate a million error objects.
DEFAULT_MAX_ERRORS = 10_000

_GRAIN_NAMES = tuple(g.value for g in Grain)  # indexed by Grain.rank
_DAY_OFFSET = 40_000  # shifts 1900-01-01 (day -25567) above zero when packing duplicate keys
_DAY_SPAN = 160_000  # covers MIN_YEAR..MAX_YEAR of periods.py with room to spare

# Value statuses from _parse_values.
(_OK, _EMPTY, _NOT_NUMBER, _NOT_FINITE, _COMMA, _THOUSANDS, _OUT_OF_RANGE, _COMMA_AGAINST,
 _DOT_AGAINST, _AMBIGUOUS_DOT, _AMBIGUOUS_COMMA) = range(11)


@dataclass(frozen=True)
class RepRef:
    """A rep known to the importer: database id and whether the uploader may write their data."""

    id: int
    in_scope: bool = True


@dataclass(frozen=True)
class MetricRef:
    """A metric of the catalogue: database id, archived (no new data), grain of stored values."""

    id: int
    archived: bool = False
    grain: str | None = None  # None: nothing stored yet, the file decides
    counted: bool = False  # an activity (calls, meetings): a count or a rate, never negative


@dataclass
class Validated:
    """Outcome of validation: the valid rows, the errors, and how the columns were read.

    ``rows`` has ROW_COLUMNS: rep_id int64, metric_id int64, grain str, period_start
    datetime64[ns], value float64, line int64 — only rows without any error. ``errors`` is
    sorted by line then column and holds at most ``max_errors`` entries; ``error_count`` is
    the true total. The import may proceed only when ``ok``.
    """

    rows: pd.DataFrame
    errors: list[ImportProblem]
    error_count: int
    layout: Layout | None
    unknown_columns: list[str] = field(default_factory=list)
    mapping: dict[str, str | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when there is no error at all."""
        return self.error_count == 0

    @property
    def truncated(self) -> bool:
        """True when more errors exist than were built into ``errors``."""
        return self.error_count > len(self.errors)


# Blanks around a cell that are no part of it: whitespace, and what text copied from a web page
# or a PDF carries (no-break and zero-width spaces, word joiners, a stray BOM).
EDGE_BLANKS = " \t\r\n\v\f\u00a0\u2007\u202f\u200b\u200c\u200d\u2060\ufeff"


def _lookup(series: pd.Series, keys: list[str]) -> np.ndarray:
    """Position of each cell's normalised (trimmed, lower-case) text in keys, -1 if absent."""
    codes, uniques = pd.factorize(series.to_numpy(dtype=object))
    normalised = pd.Index(uniques, dtype=object).str.strip(EDGE_BLANKS).str.lower()
    positions = pd.Index(keys, dtype=object).get_indexer(normalised)
    return positions[codes] if len(codes) else np.empty(0, dtype=np.intp)


@dataclass(frozen=True)
class DecimalMark:
    """How a file writes decimals. Comma, tab and API files: with a dot. Semicolon files come
    from locales that write 12,5, but not all do: their own values decide. A value with a
    decimal part that is not a group of three digits ('12,5', '2.75') settles it; '12.500' or
    '1,234' alone could be a thousands separator or a decimal mark, and is refused unless the
    file has settled it, never guessed. A file with both ('12,5' and '2.75') is settled by the
    first, and the values written the other way are refused."""

    kind: Literal["plain", "dot", "comma", "unknown"]
    example: str = ""  # the value that settled it, quoted back in messages


_DECIMAL_COMMA = r"[+-]?[0-9]*,[0-9]+"
_DECIMAL_DOT = r"[+-]?[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?"
_GROUPED_COMMA = r"[+-]?[0-9]{1,3},[0-9]{3}"
_GROUPED_DOT = r"[+-]?[0-9]{1,3}\.[0-9]{3}"


def decimal_mark(value_columns: Sequence[np.ndarray], semicolon: bool) -> DecimalMark:
    """The file's decimal mark, from the distinct texts of all its value cells."""
    if not semicolon:
        return DecimalMark("plain")
    if not value_columns:
        return DecimalMark("unknown")
    text = pd.Series(pd.unique(np.concatenate([np.asarray(c, dtype=object)
                                               for c in value_columns])), dtype=object)
    text = text.astype(str).str.strip(EDGE_BLANKS)
    comma = text[text.str.fullmatch(_DECIMAL_COMMA) & ~text.str.fullmatch(_GROUPED_COMMA)]
    dot = text[text.str.fullmatch(_DECIMAL_DOT) & ~text.str.fullmatch(_GROUPED_DOT)]
    if len(comma) and not len(dot):
        return DecimalMark("comma", str(comma.iloc[0]))
    if len(dot) and not len(comma):
        return DecimalMark("dot", str(dot.iloc[0]))
    if len(dot) and len(comma):
        # 12,5 on one line and 2.75 on another: the file contradicts itself. The mark seen
        # first decides, so that every value written the other way is refused by line.
        if comma.index[0] < dot.index[0]:
            return DecimalMark("comma", str(comma.iloc[0]))
        return DecimalMark("dot", str(dot.iloc[0]))
    return DecimalMark("unknown")


def _parse_values(cells: np.ndarray, mark: DecimalMark) -> tuple[np.ndarray, np.ndarray]:
    """Parse value cells to float64 with a status per cell (_OK, _EMPTY, _NOT_NUMBER...)."""
    numbers = pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce")
    values = np.array(numbers.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    values += 0.0  # turns "-0" into 0.0 so stored values compare and hash as users expect
    status = np.zeros(len(values), dtype=np.int8)
    with np.errstate(invalid="ignore"):
        status[np.abs(values) > MAX_MAGNITUDE] = _OUT_OF_RANGE  # 1e308 + 1e308 is inf
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        # Only the failures get the slower string analysis.
        text = pd.Series(cells[bad], dtype=object).str.strip(EDGE_BLANKS)
        # "1234" and a no-break space, copied from a web page, is 1234.
        again = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64,
                                                              na_value=np.nan)
        cleaned = np.isfinite(again) & (np.abs(again) <= MAX_MAGNITUDE)
        values[bad[cleaned]] = again[cleaned] + 0.0
        st = np.full(len(bad), _NOT_NUMBER, dtype=np.int8)
        st[np.isinf(values[bad])] = _NOT_FINITE
        st[text.str.fullmatch(r"(?i)[+-]?(nan|inf|infinity)").to_numpy(dtype=bool)] = \
            _NOT_FINITE
        has_comma = text.str.contains(",", regex=False).to_numpy(dtype=bool)
        if mark.kind != "plain":
            # "1.234,5" stays refused: a thousands separator with a decimal comma.
            plain = text.str.fullmatch(r"[+-]?[0-9]+,[0-9]+").to_numpy(dtype=bool)
            fixed = pd.to_numeric(text[plain].str.replace(",", ".", regex=False),
                                  errors="coerce")
            values[bad[plain]] = fixed.to_numpy(dtype=np.float64)
            st[plain] = _OK
            st[has_comma & ~plain] = _THOUSANDS
        else:
            st[has_comma] = _COMMA
        st[cleaned] = _OK
        st[text.eq("").to_numpy(dtype=bool)] = _EMPTY
        status[bad] = st
    if mark.kind != "plain":
        status = _against_the_mark(cells, status, mark)
    return values, status


def _against_the_mark(cells: np.ndarray, status: np.ndarray, mark: DecimalMark) -> np.ndarray:
    """Of the values read, those whose separator the file's decimal mark does not allow, or
    leaves ambiguous (distinct texts tested once, the verdicts broadcast back)."""
    codes, uniques = pd.factorize(pd.Series(cells, dtype=object))
    text = pd.Series(uniques, dtype=object).astype(str).str.strip(EDGE_BLANKS)
    flags = np.full(len(text), _OK, dtype=np.int8)
    if mark.kind == "dot":
        flags[text.str.contains(",", regex=False).to_numpy(dtype=bool)] = _COMMA_AGAINST
    elif mark.kind == "comma":
        flags[text.str.contains(".", regex=False).to_numpy(dtype=bool)] = _DOT_AGAINST
    else:
        flags[text.str.fullmatch(_GROUPED_DOT).to_numpy(dtype=bool)] = _AMBIGUOUS_DOT
        flags[text.str.fullmatch(_GROUPED_COMMA).to_numpy(dtype=bool)] = _AMBIGUOUS_COMMA
    per_cell = flags[codes] if len(codes) else np.empty(0, dtype=np.int8)
    return np.where((status == _OK) & (per_cell != _OK), per_cell, status).astype(np.int8)


def _without_separator(v: str) -> str:
    return v.strip(EDGE_BLANKS).replace(".", "").replace(",", "")


def _decimal(v: str, mark: str) -> str:
    """The value with its one separator as the decimal mark, trailing zeros dropped."""
    whole, _, part = v.strip(EDGE_BLANKS).replace(",", ".").partition(".")
    part = part.rstrip("0")
    return f"{whole}{mark}{part}" if part else whole


EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                          "#GETTING_DATA", "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!",
                          "#CONNECT!", "#BUSY!", "#UNKNOWN!"})


def _value_message(status: int, mark: DecimalMark) -> Callable[[str], str]:
    def dot_against(v: str) -> str:
        text = v.strip()
        fix = _decimal(text, ",")
        if re.fullmatch(_GROUPED_DOT, text):
            fix = f"{_without_separator(text)} without a thousands separator, or {fix}"
        return (f"value '{text}' has a dot, but this file writes decimals with a comma "
                f"(as in '{mark.example}'): write {fix}")

    messages: dict[int, Callable[[str], str]] = {
        _EMPTY: lambda v: "value is empty",
        _NOT_NUMBER: lambda v: (
            f"value '{v.strip()}' is an Excel error, not a number: correct the formula or "
            "type the value" if v.strip() in EXCEL_ERRORS else
            f"value '{v.strip()}' is a formula, not a number, and the file holds no result for "
            "it: save it from Excel or LibreOffice (which store results), or type the value"
            if v.strip().startswith("=") else f"value '{v.strip()}' is not a number"),
        _NOT_FINITE: lambda v: f"value '{v.strip()}' is not a finite number",
        _OUT_OF_RANGE: lambda v: f"value '{v.strip()}' is out of range: enter a number "
                                 f"{RANGE_TEXT}",
        _COMMA: lambda v: (
            f"value '{v.strip()}' contains a comma: use '.' for decimals and no thousands "
            "separator (a decimal comma is only accepted in semicolon-separated files)"
        ),
        _THOUSANDS: lambda v: (
            f"value '{v.strip()}' is not a plain number: remove the thousands separator"
        ),
        _COMMA_AGAINST: lambda v: (
            f"value '{v.strip()}' has a comma, but this file writes decimals with a dot "
            f"(as in '{mark.example}'): write {_decimal(v, '.')}, with no thousands separator"
        ),
        _DOT_AGAINST: dot_against,
        _AMBIGUOUS_DOT: lambda v: (
            f"value '{v.strip()}' could be {_without_separator(v)} or {_decimal(v, '.')}: write "
            f"it without a thousands separator ({_without_separator(v)}), or with a decimal "
            f"comma ({_decimal(v, ',')})"
        ),
        _AMBIGUOUS_COMMA: lambda v: (
            f"value '{v.strip()}' could be {_without_separator(v)} or {_decimal(v, '.')}: write "
            f"it without a thousands separator ({_without_separator(v)}), or with more "
            f"decimals ({v.strip()}0)"
        ),
    }
    return messages[status]


def _period_message(value: str) -> str:
    try:
        parse_period(value)
    except PeriodError as exc:
        return exc.message
    return f"'{value}' is not a period"  # unreachable: both parsers share one pattern


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": pd.Series(dtype=np.int64),
            "metric_id": pd.Series(dtype=np.int64),
            "grain": pd.Series(dtype=object),
            "period_start": pd.Series(dtype="datetime64[ns]"),
            "value": pd.Series(dtype=np.float64),
            "line": pd.Series(dtype=np.int64),
        }
    )


@dataclass
class _Catalogue:
    """Reps and metrics as aligned arrays; a trailing sentinel lets position -1 index safely."""

    rep_keys: list[str]
    rep_ids: np.ndarray
    rep_scope: np.ndarray
    metric_keys: list[str]  # normalised, for matching
    metric_names: list[str]  # as the catalogue spells them, for messages and the mapping
    metric_ids: np.ndarray
    metric_archived: np.ndarray
    metric_grain: np.ndarray  # rank of the stored grain, -1 when nothing is stored
    metric_counted: np.ndarray  # an activity: no negative value

    @classmethod
    def build(cls, reps: Mapping[str, RepRef], metrics: Mapping[str, MetricRef]) -> _Catalogue:
        rep_refs = {normalise_key(k): v for k, v in reps.items()}
        metric_refs = {normalise_key(k): (str(k).strip(), v) for k, v in metrics.items()}
        return cls(
            rep_keys=list(rep_refs),
            rep_ids=np.array([r.id for r in rep_refs.values()] + [0], dtype=np.int64),
            rep_scope=np.array([r.in_scope for r in rep_refs.values()] + [False], dtype=bool),
            metric_keys=list(metric_refs),
            metric_names=[name for name, _ in metric_refs.values()],
            metric_ids=np.array([m.id for _, m in metric_refs.values()] + [0], dtype=np.int64),
            metric_archived=np.array(
                [m.archived for _, m in metric_refs.values()] + [False], dtype=bool
            ),
            metric_grain=np.array(
                [grain_rank(m.grain) for _, m in metric_refs.values()] + [-1], dtype=np.int8
            ),
            metric_counted=np.array(
                [m.counted for _, m in metric_refs.values()] + [False], dtype=bool
            ),
        )


@dataclass
class _Entries:
    """Candidate observations: one per long row, or one per non-empty wide cell."""

    row: np.ndarray  # position in the frame
    metric: np.ndarray  # position in the catalogue, -1 if unknown
    value: np.ndarray
    column: np.ndarray | None  # wide: header index of the cell
    valid: np.ndarray  # no error at all
    key_ok: np.ndarray  # rep, metric and period are known: takes part in duplicate detection


def _long_entries(
    frame: pd.DataFrame,
    position: dict[str, int],
    headers: list[str],
    lines: np.ndarray,
    cat: _Catalogue,
    line_ok: np.ndarray,
    key_ok_row: np.ndarray,
    mark: DecimalMark,
    errors: ErrorCollector,
) -> _Entries:
    """Check the metric and value columns of the long layout."""
    metric_i, value_i = position["metric"], position["value"]
    metric_cells = frame.iloc[:, metric_i].to_numpy(dtype=object)
    metric_pos = _lookup(frame.iloc[:, metric_i], cat.metric_keys)
    unknown = np.flatnonzero(metric_pos < 0)
    errors.add(
        lines[unknown],
        metric_i,
        cell_errors(
            unknown,
            lines,
            metric_cells,
            headers[metric_i],
            lambda v: f"unknown metric '{v.strip()}'" if v.strip() else "metric is empty",
        ),
    )
    archived = np.flatnonzero(cat.metric_archived[metric_pos])
    errors.add(
        lines[archived],
        metric_i,
        cell_errors(
            archived,
            lines,
            metric_cells,
            headers[metric_i],
            lambda v: f"metric '{v.strip()}' is archived",
        ),
    )
    value_cells = frame.iloc[:, value_i].to_numpy(dtype=object)
    values, status = _parse_values(value_cells, mark)
    for st in np.unique(status[status != _OK]):
        bad = np.flatnonzero(status == st)
        errors.add(
            lines[bad],
            value_i,
            cell_errors(bad, lines, value_cells, headers[value_i], _value_message(int(st), mark)),
        )
    metric_ok = (metric_pos >= 0) & ~cat.metric_archived[metric_pos]
    return _Entries(
        row=np.arange(len(frame)),
        metric=metric_pos,
        value=values,
        column=None,
        valid=line_ok & metric_ok & (status == _OK),
        key_ok=key_ok_row & (metric_pos >= 0),
    )


def _wide_entries(
    frame: pd.DataFrame,
    active: list[tuple[int, int]],
    headers: list[str],
    lines: np.ndarray,
    line_ok: np.ndarray,
    key_ok_row: np.ndarray,
    mark: DecimalMark,
    errors: ErrorCollector,
) -> _Entries:
    """Check the metric columns of the wide layout and unpivot the non-empty cells."""
    rows, metrics, values, columns, value_ok = [], [], [], [], []
    for col_i, m_pos in active:
        cells = frame.iloc[:, col_i].to_numpy(dtype=object)
        col_values, status = _parse_values(cells, mark)
        for st in np.unique(status[(status != _OK) & (status != _EMPTY)]):
            bad = np.flatnonzero(status == st)
            errors.add(
                lines[bad],
                col_i,
                cell_errors(bad, lines, cells, headers[col_i], _value_message(int(st), mark)),
            )
        present = np.flatnonzero(status != _EMPTY)  # an empty wide cell means "no value"
        rows.append(present)
        metrics.append(np.full(len(present), m_pos, dtype=np.intp))
        values.append(col_values[present])
        columns.append(np.full(len(present), col_i, dtype=np.intp))
        value_ok.append(status[present] == _OK)
    row = np.concatenate(rows) if rows else np.empty(0, dtype=np.intp)
    order = np.argsort(row, kind="stable")  # line-major, then column order, as the file reads
    row = row[order]

    def joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts)[order] if parts else np.empty(0, dtype=dtype)

    return _Entries(
        row=row,
        metric=joined(metrics, np.intp),
        value=joined(values, np.float64),
        column=joined(columns, np.intp),
        valid=line_ok[row] & joined(value_ok, bool),
        key_ok=key_ok_row[row],
    )


def _flag_duplicates(
    entries: _Entries,
    rep_pos: np.ndarray,
    grain: np.ndarray,
    start: np.ndarray,
    lines: np.ndarray,
    headers: list[str],
    rep_cells: np.ndarray,
    period_cells: np.ndarray,
    cat: _Catalogue,
    errors: ErrorCollector,
) -> None:
    """Report every repeat of a (rep, metric, period) after its first line; mark it invalid."""
    candidates = np.flatnonzero(entries.key_ok)
    if len(candidates) < 2:
        return
    rows = entries.row[candidates]
    # One int64 per key: cheaper to hash or sort than four columns.
    packed = (
        (rep_pos[rows].astype(np.int64) * (len(cat.metric_keys) + 1) + entries.metric[candidates])
        * 4
        + grain[rows]
    ) * _DAY_SPAN + (start[rows].astype(np.int64) + _DAY_OFFSET)
    ordered = np.sort(packed)  # a cheap "any duplicate at all?" test before the hash pass
    if not bool((ordered[1:] == ordered[:-1]).any()):
        return
    dup_mask = pd.Series(packed).duplicated(keep=False).to_numpy()
    dups = candidates[dup_mask]
    dup_lines = lines[entries.row[dups]]
    first_line = pd.Series(dup_lines).groupby(packed[dup_mask]).transform("min").to_numpy()
    later = dup_lines != first_line
    dups, first_line = dups[later], first_line[later]
    entries.valid[dups] = False

    def build(pos: np.ndarray) -> list[ImportProblem]:
        out = []
        for p in pos:
            e = dups[p]
            r = entries.row[e]
            metric = cat.metric_names[entries.metric[e]]
            column = None if entries.column is None else headers[entries.column[e]]
            value = f"{str(rep_cells[r]).strip()} / {metric} / {str(period_cells[r]).strip()}"
            message = f"duplicate of line {int(first_line[p])}: same rep, metric and period"
            out.append(ImportProblem(int(lines[r]), column, value, message))
        return out

    errors.add(lines[entries.row[dups]], len(headers), build)


def _flag_nul_cells(
    frame: pd.DataFrame, headers: list[str], lines: np.ndarray, errors: ErrorCollector
) -> tuple[pd.DataFrame, np.ndarray]:
    """Report each cell holding a NUL byte; return the frame without NULs and the rows hit.

    The other checks then see such a cell without its NUL, so that the one real defect is not
    reported a second time as an unknown rep or a value that is not a number.
    """
    hit = np.zeros(len(frame), dtype=bool)
    cleaned: dict[int, pd.Series] = {}
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        has_nul = column.str.contains("\x00", regex=False).to_numpy(dtype=bool)
        if not has_nul.any():
            continue
        rows = np.flatnonzero(has_nul)
        # Shown as the visible text \x00: a raw NUL would vanish in the page and the CSV.
        shown = column.str.replace("\x00", "\\x00", regex=False).to_numpy(dtype=object)
        message = f"{headers[i]} contains a NUL byte (shown as \\x00): remove it"
        errors.add(
            lines[rows], i, cell_errors(rows, lines, shown, headers[i], lambda v, m=message: m)
        )
        cleaned[i] = column.str.replace("\x00", "", regex=False)
        hit |= has_nul
    if cleaned:
        frame = frame.copy()
        for i, column in cleaned.items():
            frame.isetitem(i, column)
    return frame, hit


def cell_with_line_break(raw: RawTable) -> ImportProblem | None:
    """The first cell of a CSV that holds a line break (a quoted cell spanning lines), if any.

    No field of an import (an email, a period, a metric key, a number) may hold one; and every
    later line number would be off by one, so the whole file is refused at the first such
    cell. Its row starts on the line its index says: no earlier row spanned lines.
    """
    if raw.source != "csv" or raw.frame.empty:
        return None
    first = None
    for i, header in enumerate(raw.frame.columns):
        hit = raw.frame.iloc[:, i].str.contains(r"[\r\n]", regex=True).to_numpy(dtype=bool)
        if hit.any():
            row = int(np.argmax(hit))
            if first is None or row < first[0]:
                first = (row, str(header), str(raw.frame.iloc[row, i]))
    if first is None:
        return None
    row, header, value = first
    line = int(raw.lines[row])
    return ImportProblem(line, header, value.replace("\r", "\\r").replace("\n", "\\n"),
                         f"line {line}: the quoted cell in column '{header}' goes on over a line "
                         "break; a value must fit on one line (check the \" quotes)")


def _flag_negative_counts(entries: _Entries, lines: np.ndarray, headers: list[str],
                          value_column: int | None, cat: _Catalogue,
                          errors: ErrorCollector) -> np.ndarray:
    """Values below zero of activity metrics (-12 meetings is a typo, not a figure): refused
    by line, with the metric. Outcomes such as revenue may be negative (refunds)."""
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(entries.valid & (entries.value < 0)
                             & cat.metric_counted[entries.metric])
    negative = np.zeros(len(entries.valid), dtype=bool)
    if not len(bad):
        return negative
    negative[bad] = True

    def build(pos: np.ndarray) -> list[ImportProblem]:
        out = []
        for e in bad[pos]:
            column = value_column if entries.column is None else int(entries.column[e])
            name = cat.metric_names[entries.metric[e]]
            value = exact(float(entries.value[e]), separators=False)
            out.append(ImportProblem(
                int(lines[entries.row[e]]), headers[column], value,
                f"value {value} is negative, but {name} is an activity, counted from zero: "
                "check the sign"))
        return out

    first = value_column if value_column is not None else 0
    errors.add(lines[entries.row[bad]], first, build)
    return negative


def validate(
    raw: RawTable,
    *,
    reps: Mapping[str, RepRef],
    metrics: Mapping[str, MetricRef],
    column_map: Mapping[str, str | None] | None = None,
    max_errors: int | None = DEFAULT_MAX_ERRORS,
    others: Mapping[str, str] | None = None,
) -> Validated:
    """Check every cell of a RawTable; return the valid rows and all errors (bounded list).

    `others` maps the emails of people who are not reps to what they are ("a manager"), so that
    an uploader who may import for everyone learns why such a row is refused.
    """
    frame = raw.frame
    headers = [str(h) for h in frame.columns]
    names = [normalise_header(h) for h in headers]
    # API records have no header line to point at.
    at = None if raw.source == "records" else raw.header_line
    errors = ErrorCollector()
    layout = detect_layout(headers)

    position = check_header(headers, names, layout, at, errors)
    if position is None:
        found, total = errors.finish(max_errors)
        return Validated(_empty_rows(), found, total, layout)
    cat = _Catalogue.build(reps, metrics)
    mapping, unknown_columns, active = map_columns(
        headers,
        names,
        layout,
        position,
        column_map,
        cat.metric_keys,
        cat.metric_names,
        list(cat.metric_archived[:-1]),
        at,
        errors,
    )
    lines = raw.lines
    nul_row = np.zeros(len(frame), dtype=bool)
    if raw.may_hold_nul:
        frame, nul_row = _flag_nul_cells(frame, headers, lines, errors)

    # Rep and period are per line (reported once per line, also in the wide layout).
    rep_i = position["rep_email"]
    rep_cells = frame.iloc[:, rep_i].to_numpy(dtype=object)
    rep_pos = _lookup(frame.iloc[:, rep_i], cat.rep_keys)
    # To someone who may not import for everyone, a rep elsewhere in the company and an email
    # nobody has get the same answer: the error report must not tell who works here.
    scoped = not cat.rep_scope[:-1].all()
    refused = np.flatnonzero(~cat.rep_scope[rep_pos]) if scoped else np.flatnonzero(rep_pos < 0)

    def rep_message(v: str) -> str:
        if not v.strip():
            return "rep_email is empty"
        if scoped:
            return f"rep '{v.strip()}' is not one of the reps you may import data for"
        who = (others or {}).get(normalise_key(v))
        if who is not None:
            return f"'{v.strip()}' is {who}, not a rep: metric values are recorded for reps only"
        return f"unknown rep email '{v.strip()}'"

    errors.add(lines[refused], rep_i,
               cell_errors(refused, lines, rep_cells, headers[rep_i], rep_message))

    period_i = position["period"]
    period_cells = frame.iloc[:, period_i].to_numpy(dtype=object)
    codes, uniques = pd.factorize(period_cells)
    grain_u, start_u = parse_period_array(np.asarray(uniques, dtype=object))
    grain = grain_u[codes] if len(codes) else np.empty(0, dtype=np.int8)
    start = start_u[codes] if len(codes) else np.empty(0, dtype="datetime64[D]")
    bad_period = np.flatnonzero(grain < 0)
    messages: dict[str, str] = {}  # one parse per distinct bad label
    errors.add(
        lines[bad_period],
        period_i,
        cell_errors(
            bad_period,
            lines,
            period_cells,
            headers[period_i],
            lambda v: messages.setdefault(v, _period_message(v)),
        ),
    )

    line_ok = (rep_pos >= 0) & cat.rep_scope[rep_pos] & (grain >= 0) & ~nul_row
    key_ok_row = (rep_pos >= 0) & (grain >= 0)
    value_columns = ([frame.iloc[:, position["value"]].to_numpy(dtype=object)]
                     if layout.kind is LayoutKind.LONG else
                     [frame.iloc[:, col_i].to_numpy(dtype=object) for col_i, _ in active])
    mark = decimal_mark(value_columns, raw.delimiter == ";")
    if layout.kind is LayoutKind.LONG:
        entries = _long_entries(
            frame, position, headers, lines, cat, line_ok, key_ok_row, mark, errors
        )
    else:
        entries = _wide_entries(
            frame, active, headers, lines, line_ok, key_ok_row, mark, errors
        )
    entries.valid &= ~flag_mixed_grains(
        entries.metric,
        entries.row,
        grain,
        lines,
        period_cells,
        cat.metric_grain,
        cat.metric_names,
        (period_i, headers[period_i]),
        errors,
    )
    entries.valid &= ~_flag_negative_counts(
        entries, lines, headers, position.get("value") if layout.kind is LayoutKind.LONG
        else None, cat, errors)
    _flag_duplicates(
        entries, rep_pos, grain, start, lines, headers, rep_cells, period_cells, cat, errors
    )

    chosen = np.flatnonzero(entries.valid)
    rows_at = entries.row[chosen]
    rows = pd.DataFrame(
        {
            "rep_id": cat.rep_ids[rep_pos[rows_at]],
            "metric_id": cat.metric_ids[entries.metric[chosen]],
            "grain": pd.Series(np.array(_GRAIN_NAMES, dtype=object)[grain[rows_at]], dtype=object),
            "period_start": start[rows_at].astype("datetime64[ns]"),
            "value": entries.value[chosen],
            "line": lines[rows_at],
        }
    )
    if not len(errors) and rows.empty:
        errors.one(ImportProblem(None, None, None, "nothing to import: the file has no values"))
    found, total = errors.finish(max_errors)
    return Validated(rows, found, total, layout, unknown_columns, mapping)


def validate_upload(
    data: bytes,
    filename: str,
    *,
    reps: Mapping[str, RepRef],
    metrics: Mapping[str, MetricRef],
    sheet: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    column_map: Mapping[str, str | None] | None = None,
    max_errors: int | None = DEFAULT_MAX_ERRORS,
) -> Validated:
    """read_table + validate, with unreadable input reported as one error instead of raised."""
    try:
        raw = read_table(data, filename, sheet=sheet, max_bytes=max_bytes)
    except TableError as exc:
        return Validated(_empty_rows(), [exc.as_import_error()], 1, None)
    return validate(raw, reps=reps, metrics=metrics, column_map=column_map, max_errors=max_errors)
