"""Files people download and open in a spreadsheet: CSV and XLSX built so that nothing in
them runs, and a download answer whose file name cannot inject a header.

Spreadsheet apps execute a cell that starts with = + - @ (or a tab or carriage return before
one); names, notes and emails come from users and uploads. In CSV such text gets a leading
apostrophe (OWASP's advice; the apostrophe is not shown); numbers are written as numbers, so
-5 stays -5. In XLSX text cells are typed as text, never as formulas.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from flask import Response, send_file

from reviewapp.numbers import exact

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> str:
    """Text for a spreadsheet cell that it will show, never evaluate."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_cell(value: Any, float_format: str) -> Any:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):
        if float_format == "exact":
            return exact(value, separators=False)
        return format(value, float_format) if float_format and math.isfinite(value) else value
    if isinstance(value, int):
        return value
    return safe_text(value)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]], *,
             float_format: str = "") -> str:
    """CSV of a header and rows: text cells neutralised, numbers as numbers (floats written
    with float_format: "exact" for every digit and no exponent, a format spec, or as Python
    writes them)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_text(h) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(v, float_format) for v in row])
    return out.getvalue()


def write_xlsx(path: Path | str, sheet_name: str, header: Sequence[str],
               rows: Iterable[Sequence[Any]]) -> None:
    """An XLSX file in which every text cell is text (openpyxl would make '=…' a formula)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)
    for row in [list(header), *rows]:
        cells = []
        for value in row:
            cell = _xlsx_cell(sheet, value)
            cells.append(cell)
        sheet.append(cells)
    book.save(path)


def _xlsx_cell(sheet, value: Any):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def attachment(content: str | bytes, filename: str, mimetype: str) -> Response:
    """A download answer; the Content-Disposition header is built by Flask (quoted, and with
    filename* for non-ASCII), never by string formatting."""
    data = content.encode() if isinstance(content, str) else content
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=filename, max_age=0)
