"""Regenerate the import test corpus: python tests/metrics/corpus/make_corpus.py.

The files are committed; this script documents their exact bytes (BOMs, tabs, CRLF, Latin-1,
binary headers) and builds the XLSX workbooks with openpyxl.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent

TEXT_FILES: dict[str, bytes] = {
    "good_long.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,120\n"
        b" Ana@Example.COM ,2026-W11,emails,45.5\n"
        b"ben@example.com,2026-03,calls,30\n"
        b"ben@example.com,2026-03-15,meetings,2\n"
        b"cara@example.com,2026-Q1,revenue,-1.5e3\n"
    ),
    "bad_unknown_rep.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,1\n"
        b"nobody@example.com,2026-03,calls,2\n"
        b",2026-03,calls,3\n"
    ),
    "bad_scope.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,1\n"
        b"zoe@example.com,2026-03,calls,2\n"
    ),
    "bad_metric.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,1\n"
        b"ana@example.com,2026-03,dials,2\n"
        b"ana@example.com,2026-03,faxes,3\n"
        b"ana@example.com,2026-03,,4\n"
    ),
    "bad_period.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-13,calls,1\n"
        b"ana@example.com,2026-Q5,calls,2\n"
        b"ana@example.com,2025-W53,calls,3\n"
        b"ana@example.com,15/03/2026,calls,4\n"
        b"ana@example.com,,calls,5\n"
        b"ana@example.com,2026-02-30,calls,6\n"
        b"ana@example.com,2026-W53,calls,7\n"
    ),
    "bad_value.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-01,calls,\n"
        b"ana@example.com,2026-02,calls,abc\n"
        b"ana@example.com,2026-03,calls,inf\n"
        b"ana@example.com,2026-04,calls,nan\n"
        b'ana@example.com,2026-05,calls,"1,234.5"\n'
        b'ana@example.com,2026-06,calls,"12,5"\n'
        b"ana@example.com,2026-07,calls, 7.25 \n"
    ),
    "bad_duplicate.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,1\n"
        b"ben@example.com,2026-03,calls,2\n"
        b"ANA@example.com,2026-03,calls,3\n"
        b"ana@example.com,2026-03,emails,4\n"
        b"ana@example.com, 2026-03 ,calls,5\n"
    ),
    "bad_mixed_grain.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-W30,calls,9\n"
        b"ana@example.com,2026-Q2,calls,40\n"
        b"ben@example.com,2026-Q2,calls,35\n"
        b"ana@example.com,2026-W30,emails,9\n"
        b"ben@example.com,2026-13,calls,1\n"
    ),
    "bad_nul.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,1\n"
        b"ben@example.com,2026-03,calls,2\x00\n"
        b"ana\x00@example.com,2026-04,calls,3\n"
    ),
    "bad_missing_header.csv": (b"email,period,metric,value\nana@example.com,2026-03,calls,1\n"),
    "bad_dup_header.csv": (
        b"rep_email,period,metric,value,Period\nana@example.com,2026-03,calls,1,2026-04\n"
    ),
    "bad_ragged.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,1\n"
        b"ana@example.com,2026-04,calls,1,extra\n"
    ),
    # A thousands separator left unquoted in the first row: pandas took that row's width as
    # the file's and cut the value to "1" (and every later long row) with only a warning.
    "bad_ragged_first_row.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,1,234\n"
        b"ana@example.com,2026-04,calls,12,500\n"
    ),
    "bad_ragged_first_row_wide.csv": (
        b"rep_email,period,calls,revenue\n"
        b"ana@example.com,2026-03,12,500,14\n"
    ),
    # Excel's trailing delimiters on data rows (not the header): empty cells, nothing lost.
    "trailing_empty_fields.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,5,,\n"
        b"ben@example.com,2026-03,calls,6,\n"
    ),
    # Semicolon files (German or French Excel): a separator between groups of three digits
    # may be a thousands separator or a decimal mark; nothing else in this file says which.
    "bad_semicolon_grouped.csv": (
        b"rep_email;period;metric;value\n"
        b"ana@example.com;2026-03;calls;7\n"
        b"ana@example.com;2026-04;calls;12.500\n"
        b"ana@example.com;2026-05;calls;1,234\n"
    ),
    # Here "3,5" says the file writes decimals with a comma: "1,234" is 1.234, "12.500" is
    # refused (a thousands separator, or a decimal point against the file's own convention).
    "bad_semicolon_dot_in_comma_file.csv": (
        b"rep_email;period;metric;value\n"
        b"ana@example.com;2026-03;calls;3,5\n"
        b"ana@example.com;2026-04;calls;1,234\n"
        b"ana@example.com;2026-05;calls;12.500\n"
    ),
    # And here "2.75" says the file writes decimals with a dot: "1.234" is 1.234.
    "semicolon_dot_decimals.csv": (
        b"rep_email;period;metric;value\n"
        b"ana@example.com;2026-03;calls;2.75\n"
        b"ana@example.com;2026-04;calls;1.234\n"
    ),
    "bad_extra_column.csv": (
        b"rep_email,period,metric,value,note\nana@example.com,2026-03,calls,1,first month\n"
    ),
    "empty.csv": b"",
    "blank.csv": b"  \r\n\r\n",
    "header_only.csv": b"rep_email,period,metric,value\r\n",
    "blank_lines.csv": (
        b"\n"
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,1\n"
        b"\n"
        b",,,\n"
        b"ana@example.com,2026-04,calls,oops\n"
        b"   \n"
    ),
    # Old Mac line endings (CR only), with Excel's trailing ",,," rows and a blank line.
    "blank_lines_cr.csv": (
        b"rep_email,period,metric,value\r"
        b"ana@example.com,2026-03,calls,1\r"
        b",,,\r"
        b"\r"
        b"ben@example.com,2026-03,calls,2\r"
        b",,,\r"
    ),
    # Copied from a web page or a PDF: a no-break space after a number, a zero-width space
    # after an email.
    "invisible_spaces.csv": (
        "rep_email,period,metric,value\n"
        "ana@example.com,2026-03,calls,1234\u00a0\n"
        "ben@example.com\u200b,2026-03,calls,12\n"
    ).encode(),
    "not_a_table.pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    "image.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01",
    "garbage.bin": bytes(range(256)) * 4,
    "fake.xlsx": b"rep_email,period,metric,value\nana@example.com,2026-03,calls,1\n",
    "utf16.csv": "rep_email\tperiod\tmetric\tvalue\n".encode("utf-16"),
    "latin1.csv": (
        "rep_email,period,metric,value\n"
        "ana@example.com,2026-03,calls,1\n"
        "ren\u00e9@example.com,2026-03,calls,2\n"
    ).encode("latin-1"),
    "semicolon_decimal_comma.csv": (
        b"rep_email;period;metric;value\n"
        b"ana@example.com;2026-03;calls;12,5\n"
        b"ana@example.com;2026-04;calls;-0,25\n"
        b"ana@example.com;2026-05;calls;7\n"
        b"ana@example.com;2026-06;calls;1.234,5\n"
        b"ana@example.com;2026-07;calls;1,234,567\n"
    ),
    "bom_tab.tsv": (
        b"\xef\xbb\xbfRep_Email\t Period \tMETRIC\tValue\r\n"
        b"ana@example.com\t2026-03\tcalls\t3\r\n"
        b"ren\xc3\xa9@example.com\t2026-03\tcalls\t4\r\n"
    ),
    "wide.csv": (
        b"rep_email,period,calls,Emails,meetings\n"
        b"ana@example.com,2026-03,120,45,\n"
        b"ben@example.com,2026-03,,12,3\n"
        b"cara@example.com,2026-03,7,x,1\n"
    ),
    "wide_unknown_col.csv": (
        b"rep_email,period,calls,dials,Notes\n"
        b"ana@example.com,2026-03,120,80,good month\n"
        b"ben@example.com,2026-03,90,,\n"
    ),
    "wide_duplicate.csv": (
        b"rep_email,period,calls,emails\n"
        b"ana@example.com,2026-03,1,2\n"
        b"ben@example.com,2026-03,3,\n"
        b"ana@example.com,2026-03,5,\n"
    ),
    "wide_trailing_delimiter.csv": (b"rep_email,period,calls,\nana@example.com,2026-03,1,\n"),
    # Issue 17's malformed imports.
    "bad_quoted_newline.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,1\n"
        b'ben@example.com,2026-03,calls,"2\n3"\n'
        b"cara@example.com,2026-03,calls,4\n"
    ),
    "bad_unclosed_quote.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,1\n"
        b'"ben@example.com,2026-03,calls,2\n'
    ),
    "bad_formula.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,1\n"
        b"ben@example.com,2026-03,calls,=SUM(A1:A9)\n"
        b"=HYPERLINK(\"http://x\"),2026-03,calls,3\n"
    ),
    "bad_huge_number.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,1e308\n"
        b"ben@example.com,2026-03,calls,1e400\n"
        b"cara@example.com,2026-03,calls,-" + b"9" * 400 + b"\n"
    ),
    "bad_nan_inf.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,NaN\n"
        b"ben@example.com,2026-03,calls,-Infinity\n"
    ),
    "bad_week54.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-W52,calls,1\n"
        b"ana@example.com,2026-W54,calls,2\n"
    ),
    "bad_quarter5.csv": (b"rep_email,period,metric,value\nana@example.com,2026-Q5,calls,1\n"),
    "bad_cp1252.csv": (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,1\n"
        b"\x93ben\x94@example.com,2026-03,calls,2\n"
    ),
    "bad_bom_then_latin1.csv": (
        b"\xef\xbb\xbfrep_email,period,metric,value\n"
        b"ana@example.com,2026-03,calls,1\n"
        b"ana@example.com,2026-04,calls,2\n"
        b"ren\xe9@example.com,2026-03,calls,2\n"
    ),
    "bad_utf16be.csv": "rep_email,period,metric,value\n".encode("utf-16-be").join(
        [b"\xfe\xff", b""]),
    "bad_zip_not_xlsx.xlsx": b"",  # written by _zip_not_xlsx
    "bad_zip_bomb.xlsx": b"",  # written by _zip_bomb
}


def _good_long_xlsx(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Metrics"
    ws.append(["rep_email", "period", "metric", "value"])
    ws.append(["ana@example.com", "2026-03", "calls", 120])
    ws.append(["ana@example.com", "2026-W11", "emails", 45.5])
    # A typed date comes back from Excel as a datetime: it must read as a day period.
    ws.append(["ben@example.com", dt.datetime(2026, 3, 15), "meetings", 2])
    ws.append(["ben@example.com", "2026-03", "calls", "30"])
    ws.append(["cara@example.com", "2026-Q1", "revenue", "abc"])
    wb.save(path)


def _two_sheets_xlsx(path: Path) -> None:
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "Notes"
    notes.append(["Exported from the CRM"])
    data = wb.create_sheet("Data")
    # Header on sheet row 3: errors must name sheet rows, not DataFrame positions.
    data["A3"], data["B3"], data["C3"], data["D3"] = "rep_email", "period", "calls", "emails"
    data.append(["ana@example.com", "2026-03", 10, 4])
    data.append([None, None, None, None])
    data.append(["ben@example.com", "2026-03", "many", 2])
    wb.save(path)


def _zip_not_xlsx(path: Path) -> None:
    """A valid ZIP archive holding a CSV, named .xlsx."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.csv", TEXT_FILES["good_long.csv"])


def _zip_bomb(path: Path) -> None:
    """A workbook whose sheet says it inflates to almost 4 GB (sizes patched after writing,
    so the file stays tiny): refused before anything is inflated."""
    buffer = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.append(["rep_email", "period", "metric", "value"])
    wb.save(buffer)
    data = bytearray(buffer.getvalue())
    huge = struct.pack("<I", 0xFFFF_FFF0)
    at = data.rfind(b"PK\x01\x02")  # patch the central directory entry of the last member
    data[at + 24:at + 28] = huge
    path.write_bytes(bytes(data))


def main() -> None:
    """Write every corpus file next to this script."""
    for name, content in TEXT_FILES.items():
        if content:
            (HERE / name).write_bytes(content)
    _good_long_xlsx(HERE / "good_long.xlsx")
    _two_sheets_xlsx(HERE / "two_sheets.xlsx")
    _zip_not_xlsx(HERE / "bad_zip_not_xlsx.xlsx")
    _zip_bomb(HERE / "bad_zip_bomb.xlsx")


if __name__ == "__main__":
    main()
