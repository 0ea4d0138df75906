"""Reading metric import files (CSV, XLSX, API records) into a table of strings.

This is the first half of the all-or-nothing metric import shared by the web page, the CLI and
the JSON API; ``reviewapp.metrics.import_checks`` is the second half. Pure pandas, no Flask, no
database.

Problems that make the whole input unreadable (not a CSV/XLSX, empty, too big, not UTF-8, unknown
sheet, ragged CSV row) raise ``TableError``; everything that can be pinned to a cell is reported
later by ``import_checks`` as ``ImportProblem`` entries.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import math
import re
import time
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reviewapp.lazy import np, pd
from reviewapp.metrics.import_errors import MAX_ERRORS_SHOWN, ImportProblem, errors_to_csv

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_ERRORS_SHOWN",
    "ImportProblem",
    "RawTable",
    "TableError",
    "errors_to_csv",
    "read_records",
    "read_table",
]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# An .xlsx is a ZIP: a small upload can inflate enormously (zip bomb), so the uncompressed size
# is capped too, as a multiple of the upload limit.
XLSX_INFLATE_FACTOR = 20
# A sheet's cells and the time spent reading them are capped as well: a 256 KB workbook can
# hold 100 MB of cells, which held a worker for 30 s at 578 MB. The declared dimension is
# checked before any row is read; the count and the clock while rows stream.
XLSX_MAX_CELLS = 3_000_000
XLSX_MAX_SECONDS = 20.0

_UTF8_BOM = b"\xef\xbb\xbf"
_DELIMITERS = (",", ";", "\t")
# Magic numbers of formats people upload by mistake, for a clearer message than "bad CSV".
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls (or other Office 97) file; save it as .xlsx or CSV"),
    (b"{\\rtf", "an RTF document"),
)


class TableError(ValueError):
    """The input cannot be read as a table at all (format, encoding, size, sheet...)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def as_import_error(self) -> ImportProblem:
        """The same problem as a single ImportProblem for uniform reporting."""
        return ImportProblem(line=self.line, column=None, value=None, message=self.message)


@dataclass
class RawTable:
    """A table of strings as read from the input, before any validation.

    ``frame`` holds every cell as a str ("" for empty), columns named by the trimmed header
    cells (duplicates kept as they are), and its index is the source line of each row: the file
    line for CSV (header = line 1, assuming no line breaks inside quoted cells), the sheet row
    for XLSX, the 1-based record number for API records. Entirely empty rows are dropped.
    """

    frame: pd.DataFrame
    headers: list[str]
    header_line: int
    source: Literal["csv", "xlsx", "records"]
    delimiter: str | None = None
    sheet: str | None = None
    sheet_names: list[str] = field(default_factory=list)
    may_hold_nul: bool = True  # False when the bytes were seen to hold no NUL (cheap for CSV)
    may_quote: bool = True  # False when a CSV's bytes hold no '"' (no cell spans lines)

    @property
    def line_offset(self) -> int:
        """Line number of the first data row (before empty rows were dropped)."""
        return self.header_line + 1

    @property
    def lines(self) -> np.ndarray:
        """Source line number of every row (int64)."""
        return self.frame.index.to_numpy(dtype=np.int64)


def _human_size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


def read_table(
    data: bytes, filename: str, *, sheet: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> RawTable:
    """Read CSV or XLSX bytes into a RawTable; raise TableError if it is not a readable table."""
    if len(data) > max_bytes:
        raise TableError(
            f"file is too large ({_human_size(len(data))}; the limit is {_human_size(max_bytes)})"
        )
    # Look at the head first so a big file is not copied just to find out it is not blank.
    if not data[:65536].strip() and not data.strip():
        raise TableError("file is empty")
    # Decide by content, not by the name: browsers and users get extensions wrong.
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, sheet=sheet, max_bytes=max_bytes)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TableError("file is UTF-16 text; save it as 'CSV UTF-8' instead")
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            raise TableError(f"this is not a CSV or XLSX file: it looks like {what}")
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise TableError(f"'{filename}' is named like an Excel workbook but is not a valid .xlsx")
    if _looks_binary(data[:65536]):
        raise TableError("this is not a CSV or XLSX file: it contains binary data")
    return _read_csv(data)


# Bytes that plain text does not hold (all C0 controls but tab, line feed and carriage return).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13)) + b"\x7f"


def _looks_binary(head: bytes) -> bool:
    """True for content that is not text, as opposed to text with a stray NUL in a cell.

    A stray NUL (a damaged export) is reported later at its line and column; binary content
    has NULs and also either is not UTF-8 or is full of control bytes.
    """
    if b"\x00" not in head:
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls * 10 > len(head) or not _is_utf8_head(head)


def _is_utf8_head(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The head may end inside a multi-byte character: that alone is not an encoding error.
        return exc.reason == "unexpected end of data"
    return True


def _check_utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TableError(
            f"file is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "save it as 'CSV UTF-8'",
            line=line,
        ) from None


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    # A single-column header has no delimiter at all; comma is the sane default.
    return best if counts[best] else ","


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A line holding nothing but blanks and delimiters (LF, CRLF or old Mac CR-only files).
_BLANK_ROW = re.compile(rb"(?:\r\n|\r(?!\n)|\n)[ \t,;]*(?:\r\n|\r(?!\n)|\n)")
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_UNCLOSED = re.compile(r"EOF inside string starting at row (\d+)")


def _read_csv(data: bytes) -> RawTable:
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    text = _check_utf8(data)
    # Leading blank lines are tolerated; the first non-blank line is the header.
    skipped = 0
    header_text = ""
    for line in _LINE_BREAK.split(text[:65536]):
        if line.strip():
            header_text = line
            break
        skipped += 1
    del text  # the decoded copy was only needed to check the encoding and find the header
    if not header_text:
        raise TableError("file is empty")
    delimiter = _sniff_delimiter(header_text)
    headers = next(csv.reader([header_text], delimiter=delimiter))
    header_line = skipped + 1
    n_cols = len(headers)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.BytesIO(data),
                sep=delimiter,
                header=None,
                names=list(range(n_cols)),
                skiprows=header_line,
                dtype=object,
                na_filter=False,  # keep every cell as text; "" stays "" and "NA" stays "NA"
                skip_blank_lines=False,  # the row position gives the line number
                index_col=False,
                encoding="utf-8",
                engine="c",
            )
        if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
            # The first row is wider than the header: pandas keeps the header's width and
            # drops the rest of every wider row (an unquoted "1,234" became 1). Refused at
            # the first row whose extra fields hold anything; empty ones lose nothing.
            wide = _first_wide_row(data, delimiter, header_line, n_cols)
            if wide is not None:
                line, saw = wide
                raise TableError(f"line {line} has {saw} fields but the header has {n_cols}",
                                 line=line)
    except pd.errors.ParserError as exc:
        m = _RAGGED.search(str(exc))
        if m:
            expected, line, saw = (int(g) for g in m.groups())
            raise TableError(
                f"line {line} has {saw} fields but the header has {expected}", line=line
            ) from None
        m = _UNCLOSED.search(str(exc))
        if m:
            line = int(m.group(1)) + 1  # pandas counts rows from 0 here
            raise TableError(
                f'line {line} opens a quoted cell that is never closed (check the " quotes)',
                line=line,
            ) from None
        raise TableError(f"cannot read the CSV file: {exc}") from None
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame({i: pd.Series(dtype=object) for i in range(n_cols)})
    frame.index = pd.RangeIndex(header_line + 1, header_line + 1 + len(frame))
    # Scanning the bytes is far cheaper than testing a million cells for blank rows.
    tail = data[data.rfind(b"\n") + 1 :]
    maybe_blank = _BLANK_ROW.search(data) is not None or (bool(tail) and not tail.strip(b" \t\r,;"))
    table = _finish(
        frame, headers, header_line, "csv", delimiter=delimiter, check_blank=maybe_blank
    )
    table.may_hold_nul = b"\x00" in data
    table.may_quote = b'"' in data
    return table


def _first_wide_row(data: bytes, delimiter: str, header_line: int,
                    n_cols: int) -> tuple[int, int] | None:
    """(line, fields) of the first row after the header with a non-empty field beyond the
    header's n_cols, or None. Read with the csv module, which counts lines inside quotes."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter)
    line = 1
    for row in reader:
        if line > header_line and len(row) > n_cols and any(c.strip() for c in row[n_cols:]):
            return line, len(row)
        line = reader.line_num + 1
    return None


def _cell_text(value: Any) -> str:
    """Render one spreadsheet/JSON cell as the text a user would have typed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        return repr(float(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        # Excel stores typed dates as datetimes; a plain date is what the user meant.
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes, *, sheet: str | None, max_bytes: int) -> RawTable:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            inflated = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile:
        raise TableError("this is not a CSV or XLSX file: it is a damaged ZIP archive") from None
    if inflated > max_bytes * XLSX_INFLATE_FACTOR:
        raise TableError(f"workbook is too large when uncompressed ({_human_size(inflated)})")
    import openpyxl

    try:
        # Read-only: rows stream from the ZIP instead of building the whole workbook in memory.
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises a zoo of types for non-workbook ZIPs
        raise TableError(
            "this is not a CSV or XLSX file: it is a ZIP archive but not an Excel workbook"
        ) from None
    try:
        names = [str(n) for n in book.sheetnames]
        if sheet is None:
            if not names:
                raise TableError("workbook has no sheets")
            # The first sheet a person sees: a hidden first sheet is usually an old draft.
            visible = [ws.title for ws in book.worksheets
                       if getattr(ws, "sheet_state", "visible") == "visible"]
            sheet_name = str(visible[0]) if visible else names[0]
        elif sheet in names:
            sheet_name = sheet
        elif [n.casefold() for n in names].count(sheet.casefold()) == 1:
            sheet_name = next(n for n in names if n.casefold() == sheet.casefold())
        else:
            raise TableError(
                f"workbook has no sheet named '{sheet}'; its sheets are: {', '.join(names)}"
            )
        worksheet = book[sheet_name]
        cells = _stream_sheet(worksheet, sheet_name,
                              _uncached_formulas(data, getattr(worksheet, "_worksheet_path", "")))
    finally:
        book.close()
    if cells.empty:
        raise TableError(f"sheet '{sheet_name}' is empty")
    text = cells.map(_cell_text)  # spreadsheets are small next to CSV; per-cell is fine here
    non_empty = text.apply(lambda col: col.str.strip() != "").any(axis=1).to_numpy()
    if not non_empty.any():
        raise TableError(f"sheet '{sheet_name}' is empty")
    first = int(np.argmax(non_empty))
    # read_excel keeps leading empty rows, so position + 1 is the sheet row number.
    header_line = first + 1
    headers = text.iloc[first].tolist()
    frame = text.iloc[first + 1 :].copy()
    frame.columns = list(range(len(headers)))
    frame.index = pd.RangeIndex(header_line + 1, header_line + 1 + len(frame))
    return _finish(frame, headers, header_line, "xlsx", sheet=sheet_name, sheet_names=names)


_FORMAT_NOISE = re.compile(r'\[[^\]]*\]|"[^"]*"|\\.')


def _shows_month_only(number_format: str | None) -> bool:
    """Whether an Excel date format shows a month and a year but no day ('mmm yyyy', 'yyyy-mm',
    'mm/yy'), ignoring locale tags, quoted text and escapes."""
    plain = _FORMAT_NOISE.sub("", (number_format or "").lower())
    return "m" in plain and "y" in plain and "d" not in plain and "h" not in plain \
        and "s" not in plain


def _xlsx_value(cell):
    # Whole numbers as int, as pandas' openpyxl reader does. An error cell (#DIV/0!, #N/A)
    # keeps its text, to be refused as what it is: read as empty, a wide file's value
    # simply went missing.
    value = cell.value
    if value is None:
        return None
    if cell.data_type == "e":
        return str(value)
    if isinstance(value, dt.datetime) and cell.is_date and _shows_month_only(cell.number_format):
        # Excel turns a typed "2026-10" into 1 October 2026, shown "Oct 2026": what the person
        # typed and sees is the month, and read as a day it fixed a new metric's grain at day.
        return f"{value.year}-{value.month:02d}"
    if cell.data_type == "n" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# A cell that holds a formula and no result: <c r="C3"><f>C2*2</f></c>, or with an empty
# <v></v> as openpyxl writes it (a result would be a value in the <v>). Excel and LibreOffice
# save results; scripts and some exporters do not.
_UNCACHED = re.compile(r'<c\b[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*>\s*<f\b[^>]*?(?:/>|>([^<]*)</f>)'
                       r'\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>')


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _uncached_formulas(data: bytes, sheet_path: str) -> dict[tuple[int, int], str]:
    """(row, column) -> '=formula' of the sheet's formula cells with no stored result, which
    openpyxl reads as empty: refused as formulas instead."""
    if not sheet_path:
        return {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        try:
            xml = zf.read(sheet_path.lstrip("/")).decode("utf-8", "replace")
        except KeyError:
            return {}
    if "<f" not in xml:
        return {}
    return {(int(row), _column_number(col)): "=" + html.unescape(formula or "…")
            for col, row, formula in _UNCACHED.findall(xml)}


def _stream_sheet(ws, sheet_name: str,
                  uncached: dict[tuple[int, int], str] | None = None) -> pd.DataFrame:
    """The sheet's cells as a DataFrame of objects, refused early when it is too big."""
    limit = f"the limit is {XLSX_MAX_CELLS:,} cells; split the data or save it as CSV"
    try:
        rows, columns = ws.max_row or 0, ws.max_column or 0  # from the declared dimension
    except (TypeError, ValueError):
        rows = columns = 0
    if rows * columns > XLSX_MAX_CELLS:
        raise TableError(f"sheet '{sheet_name}' declares {rows:,} rows × {columns:,} columns "
                         f"({rows * columns:,} cells); {limit}")
    # A dimension can lie (or be missing): openpyxl would stop at it and lose rows, so forget
    # it and read everything, counting.
    ws.reset_dimensions()
    started = time.monotonic()
    out: list[list] = []
    count = 0
    for i, row in enumerate(ws.iter_rows()):
        values = [_xlsx_value(c) for c in row]
        if uncached:
            for j, cell in enumerate(row):
                key = (getattr(cell, "row", None), getattr(cell, "column", None))
                if values[j] is None and key in uncached:
                    values[j] = uncached[key]
        while values and values[-1] is None:
            values.pop()
        count += len(row)
        if count > XLSX_MAX_CELLS:
            raise TableError(f"sheet '{sheet_name}' holds more than {XLSX_MAX_CELLS:,} cells; "
                             f"{limit}")
        if i % 512 == 0 and time.monotonic() - started > XLSX_MAX_SECONDS:
            raise TableError(f"reading sheet '{sheet_name}' took longer than "
                             f"{XLSX_MAX_SECONDS:g} s; split the data or save it as CSV")
        out.append(values)
    while out and not out[-1]:
        out.pop()
    width = max((len(r) for r in out), default=0)
    return pd.DataFrame([r + [None] * (width - len(r)) for r in out], dtype=object)


def read_records(records: Sequence[Mapping[str, Any]] | Iterable[Mapping[str, Any]]) -> RawTable:
    """Turn API records (long layout dicts) into a RawTable; line = 1-based record number."""
    rows = list(records)
    if not rows:
        raise TableError("no records")
    headers: dict[str, None] = {}
    for i, rec in enumerate(rows, start=1):
        if not isinstance(rec, Mapping):
            raise TableError(f"record {i} is not an object", line=i)
        for key in rec:
            headers.setdefault(str(key), None)
    names = list(headers)
    frame = pd.DataFrame.from_records(rows, columns=names)
    text = pd.DataFrame(
        {i: _column_text(frame.iloc[:, i]) for i in range(len(names))}, index=frame.index
    )
    text.index = pd.RangeIndex(1, len(text) + 1)
    # An empty record in an API payload is a mistake to report, not a blank line to skip.
    return _finish(text, names, 0, "records", check_blank=False)


def _column_text(col: pd.Series) -> pd.Series:
    obj = col.astype(object)
    is_text = obj.map(type).eq(str)
    if bool(is_text.all()):
        return obj
    return obj.map(_cell_text).astype(object)


def _finish(
    frame: pd.DataFrame,
    headers: list[str],
    header_line: int,
    source: Literal["csv", "xlsx", "records"],
    *,
    delimiter: str | None = None,
    sheet: str | None = None,
    sheet_names: list[str] | None = None,
    check_blank: bool = True,
) -> RawTable:
    # Unnamed columns with no data come from trailing delimiters or formatted Excel cells.
    keep = [
        i
        for i, h in enumerate(headers)
        if str(h).strip() or not (frame.iloc[:, i].str.strip() == "").all()
    ]
    if len(keep) < len(headers):
        frame = frame.iloc[:, keep]
        headers = [headers[i] for i in keep]
    if not all(pd.api.types.is_object_dtype(d) for d in frame.dtypes):
        frame = frame.astype(object)
    frame.columns = [str(h).strip().lstrip("\ufeff") for h in headers]
    if check_blank and len(frame) and frame.shape[1]:
        # Only rows whose first cell is empty can be blank: check the rest for those alone.
        first = frame.iloc[:, 0]
        candidates = first.eq("") | first.str.isspace().astype(bool)
        if bool(candidates.any()):
            sub = frame[candidates.to_numpy()]
            blank = sub.apply(lambda col: col.str.strip() == "").all(axis=1)
            if bool(blank.any()):
                frame = frame.drop(index=sub.index[blank.to_numpy()])
    return RawTable(
        frame=frame,
        headers=[str(h) for h in headers],
        header_line=header_line,
        source=source,
        delimiter=delimiter,
        sheet=sheet,
        sheet_names=list(sheet_names or []),
    )
