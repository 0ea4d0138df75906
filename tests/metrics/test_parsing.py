"""Tests for the metric import core: reading (parsing.py) and checking (import_checks.py).

Each error class has a small file in corpus/ (regenerate with corpus/make_corpus.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from reviewapp.metrics.import_checks import (
    ROW_COLUMNS,
    LayoutKind,
    MetricRef,
    RepRef,
    detect_layout,
    validate,
    validate_upload,
)
from reviewapp.metrics.parsing import (
    MAX_ERRORS_SHOWN,
    ImportProblem,
    RawTable,
    TableError,
    errors_to_csv,
    read_records,
    read_table,
)

CORPUS = Path(__file__).resolve().parent / "corpus"

REPS = {
    "ana@example.com": RepRef(1),
    "ben@example.com": RepRef(2),
    "Cara@Example.com ": RepRef(3),  # catalogue keys are normalised too
    "zoe@example.com": RepRef(9, in_scope=False),
}
METRICS = {
    "calls": MetricRef(10),
    "emails": MetricRef(11),
    "meetings": MetricRef(12),
    "revenue": MetricRef(13),
    "faxes": MetricRef(14, archived=True),
}


def load(name: str, **kwargs) -> RawTable:
    return read_table((CORPUS / name).read_bytes(), name, **kwargs)


def check(name: str, **kwargs):
    table_kwargs = {k: kwargs.pop(k) for k in ("sheet", "max_bytes") if k in kwargs}
    return validate(load(name, **table_kwargs), reps=REPS, metrics=METRICS, **kwargs)


def triples(result) -> list[tuple[int | None, str | None, str | None]]:
    return [(e.line, e.column, e.value) for e in result.errors]


# --- reading: formats, encodings, limits ------------------------------------------------------


def test_good_long_csv():
    raw = load("good_long.csv")
    assert raw.source == "csv" and raw.delimiter == "," and raw.header_line == 1
    assert raw.line_offset == 2
    assert raw.headers == ["rep_email", "period", "metric", "value"]
    assert list(raw.frame.index) == [2, 3, 4, 5, 6]
    assert all(isinstance(v, str) for v in raw.frame.to_numpy().ravel())
    result = validate(raw, reps=REPS, metrics=METRICS)
    assert result.ok and result.errors == [] and result.error_count == 0
    rows = result.rows
    assert list(rows.columns) == list(ROW_COLUMNS)
    assert rows.dtypes.astype(str).tolist() == [
        "int64",
        "int64",
        "object",
        "datetime64[ns]",
        "float64",
        "int64",
    ]
    assert rows.values.tolist() == [
        [1, 10, "month", pd.Timestamp("2026-03-01"), 120.0, 2],
        [1, 11, "week", pd.Timestamp("2026-03-09"), 45.5, 3],  # " Ana@Example.COM "
        [2, 10, "month", pd.Timestamp("2026-03-01"), 30.0, 4],
        [2, 12, "day", pd.Timestamp("2026-03-15"), 2.0, 5],
        [3, 13, "quarter", pd.Timestamp("2026-01-01"), -1500.0, 6],
    ]


def test_good_long_xlsx_reads_typed_cells():
    raw = load("good_long.xlsx")
    assert raw.source == "xlsx" and raw.sheet == "Metrics" and raw.header_line == 1
    # A typed Excel date comes back as the ISO day; numbers as their plain text.
    assert raw.frame.loc[4].tolist() == ["ben@example.com", "2026-03-15", "meetings", "2"]
    assert raw.frame.loc[3, "value"] == "45.5"
    result = validate(raw, reps=REPS, metrics=METRICS)
    assert triples(result) == [(6, "value", "abc")]
    assert result.errors[0].message == "value 'abc' is not a number"
    assert result.rows["line"].tolist() == [2, 3, 4, 5]
    assert result.rows["grain"].tolist() == ["month", "week", "day", "month"]


def test_xlsx_sheet_selection_and_sheet_row_numbers():
    first = check("two_sheets.xlsx")  # first sheet is a note, not a table
    assert [e.message.split(";")[0] for e in first.errors] == [
        "required column 'rep_email' is missing",
        "required column 'period' is missing",
    ]
    raw = load("two_sheets.xlsx", sheet="Data")
    assert raw.sheet_names == ["Notes", "Data"] and raw.header_line == 3
    assert list(raw.frame.index) == [4, 6]  # sheet rows; the empty row 5 is dropped
    result = validate(raw, reps=REPS, metrics=METRICS)
    assert result.layout.kind is LayoutKind.WIDE
    assert triples(result) == [(6, "calls", "many")]
    assert result.rows[["metric_id", "value", "line"]].values.tolist() == [
        [10, 10.0, 4],
        [11, 4.0, 4],
        [11, 2.0, 6],
    ]
    with pytest.raises(TableError) as info:
        load("two_sheets.xlsx", sheet="Summary")
    assert info.value.message == (
        "workbook has no sheet named 'Summary'; its sheets are: Notes, Data"
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "file is empty"),
        ("blank.csv", "file is empty"),
        ("not_a_table.pdf", "this is not a CSV or XLSX file: it looks like a PDF document"),
        ("image.png", "this is not a CSV or XLSX file: it looks like a PNG image"),
        ("garbage.bin", "this is not a CSV or XLSX file: it contains binary data"),
        ("fake.xlsx", "'fake.xlsx' is named like an Excel workbook but is not a valid .xlsx"),
        ("utf16.csv", "file is UTF-16 text; save it as 'CSV UTF-8' instead"),
        ("latin1.csv", "file is not UTF-8 text (byte 0xe9 on line 3); save it as 'CSV UTF-8'"),
        ("bad_ragged.csv", "line 3 has 5 fields but the header has 4"),
    ],
)
def test_unreadable_inputs(name, message):
    with pytest.raises(TableError) as info:
        load(name)
    assert info.value.message == message


def test_unreadable_error_lines_and_upload_wrapper():
    with pytest.raises(TableError) as info:
        load("latin1.csv")
    assert info.value.line == 3
    result = validate_upload(
        (CORPUS / "bad_ragged.csv").read_bytes(), "bad_ragged.csv", reps=REPS, metrics=METRICS
    )
    assert not result.ok and result.layout is None and result.rows.empty
    assert result.errors == [
        ImportProblem(3, None, None, "line 3 has 5 fields but the header has 4")
    ]


def test_unclosed_quote_names_its_line():
    data = b'rep_email,period,metric,value\nana@example.com,2026-03,calls,1\nben,"2026-03,x,1\n'
    with pytest.raises(TableError) as info:
        read_table(data, "x.csv")
    assert info.value.line == 3
    assert (
        info.value.message == 'line 3 opens a quoted cell that is never closed (check the " quotes)'
    )


def test_non_xlsx_zip_and_xls():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(TableError, match="ZIP archive but not an Excel workbook"):
        read_table(buf.getvalue(), "upload.zip")
    with pytest.raises(TableError, match="old Excel .xls"):
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "legacy.xls")


def test_size_limit():
    data = (CORPUS / "good_long.csv").read_bytes()
    assert len(read_table(data, "x.csv", max_bytes=len(data)).frame) == 5
    with pytest.raises(TableError) as info:
        read_table(data, "x.csv", max_bytes=100)
    assert info.value.message == f"file is too large ({len(data)} bytes; the limit is 100 bytes)"
    xlsx = (CORPUS / "good_long.xlsx").read_bytes()
    with pytest.raises(TableError, match="too large"):
        read_table(xlsx, "x.xlsx", max_bytes=len(xlsx) - 1)


def test_xlsx_inflation_limit():
    # A highly repetitive sheet compresses far below its real size (the zip-bomb shape).
    wb = openpyxl.Workbook()
    for i in range(1, 101):
        wb.active.cell(row=i, column=1, value=f"{i}" + "a" * 30000)
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        inflated = sum(info.file_size for info in zf.infolist())
    assert inflated > 20 * len(data)
    with pytest.raises(TableError, match="workbook is too large when uncompressed"):
        read_table(data, "bomb.xlsx", max_bytes=len(data))
    assert read_table(data, "bomb.xlsx", max_bytes=inflated).header_line == 1


def test_bom_tab_crlf_and_case_insensitive_headers():
    raw = load("bom_tab.tsv")
    assert raw.delimiter == "\t"
    assert raw.headers == ["Rep_Email", " Period ", "METRIC", "Value"]
    result = validate(raw, reps=REPS, metrics=METRICS)
    assert result.layout.kind is LayoutKind.LONG
    # UTF-8 beyond ASCII reads fine; the rep is simply unknown.
    assert triples(result) == [(3, "Rep_Email", "ren\u00e9@example.com")]
    assert result.errors[0].message == NOT_YOURS.format("ren\u00e9@example.com")
    assert result.rows[["rep_id", "value", "line"]].values.tolist() == [[1, 3.0, 2]]


def test_semicolon_file_accepts_decimal_comma_only():
    raw = load("semicolon_decimal_comma.csv")
    assert raw.delimiter == ";"
    result = validate(raw, reps=REPS, metrics=METRICS)
    assert result.rows["value"].tolist() == [12.5, -0.25, 7.0]
    assert triples(result) == [(5, "value", "1.234,5"), (6, "value", "1,234,567")]
    assert all("thousands separator" in e.message for e in result.errors)


def test_blank_lines_keep_file_line_numbers():
    raw = load("blank_lines.csv")
    assert raw.header_line == 2
    # Lines 4 (empty), 5 (",,,") and 7 (spaces) are blank rows and are dropped.
    assert list(raw.frame.index) == [3, 6]
    result = validate(raw, reps=REPS, metrics=METRICS)
    assert triples(result) == [(6, "value", "oops")]
    assert result.rows["line"].tolist() == [3]


def test_header_only_has_nothing_to_import():
    result = check("header_only.csv")
    assert result.errors == [
        ImportProblem(None, None, None, "nothing to import: the file has no values")
    ]


# --- layout -----------------------------------------------------------------------------------


def test_detect_layout():
    long = detect_layout([" Rep_Email", "PERIOD", "metric ", "Value"])
    assert long.kind is LayoutKind.LONG and long.metric_columns == ()
    extra = detect_layout(["rep_email", "period", "metric", "value", "Note"])
    assert extra.extra_columns == ("note",)
    wide = detect_layout(["rep_email", "period", "Calls", "emails"])
    assert wide.kind is LayoutKind.WIDE and wide.metric_columns == ("calls", "emails")
    # Long needs both columns: "value" or "metric" alone is a wide column (maybe a metric key).
    assert detect_layout(["rep_email", "period", "value"]).kind is LayoutKind.WIDE
    assert detect_layout(["rep_email", "period", "Metric"]).kind is LayoutKind.WIDE


def test_a_metric_keyed_value_is_a_wide_column():
    metrics = {**METRICS, "value": MetricRef(15)}
    data = b"rep_email,period,Value,calls\nana@example.com,2026-03,900,12\n"
    result = validate(read_table(data, "w.csv"), reps=REPS, metrics=metrics)
    assert result.ok and result.layout.kind is LayoutKind.WIDE
    assert result.rows[["metric_id", "value"]].values.tolist() == [[15, 900.0], [10, 12.0]]
    unknown = validate(read_table(data, "w.csv"), reps=REPS, metrics=METRICS)
    assert unknown.errors == [
        ImportProblem(
            1,
            "Value",
            "Value",
            "column 'Value' is not a metric key: map it to a metric or ignore it "
            "(a long file needs both a 'metric' and a 'value' column)",
        )
    ]


# --- header errors ----------------------------------------------------------------------------


def test_missing_header_column():
    result = check("bad_missing_header.csv")
    assert result.errors == [
        ImportProblem(
            1,
            "rep_email",
            None,
            "required column 'rep_email' is missing; the header has: email, period, metric, value",
        )
    ]
    assert result.rows.empty


def test_duplicated_header_column():
    result = check("bad_dup_header.csv")
    assert result.errors == [
        ImportProblem(
            1, "Period", "Period", "column 'Period' appears more than once (columns 2 and 5)"
        )
    ]


def test_extra_column_in_long_layout_can_be_ignored():
    result = check("bad_extra_column.csv")
    assert triples(result) == [(1, "note", "note")]
    assert result.unknown_columns == ["note"]
    ignored = check("bad_extra_column.csv", column_map={"Note": None})
    assert ignored.ok and ignored.mapping == {"note": None} and len(ignored.rows) == 1


# --- cell errors ------------------------------------------------------------------------------


NOT_YOURS = "rep '{}' is not one of the reps you may import data for"


def test_unknown_rep():
    result = check("bad_unknown_rep.csv")
    assert result.errors == [
        ImportProblem(3, "rep_email", "nobody@example.com",
                      NOT_YOURS.format("nobody@example.com")),
        ImportProblem(4, "rep_email", "", "rep_email is empty"),
    ]
    assert result.rows["line"].tolist() == [2]


def test_rep_outside_scope_reads_like_an_unknown_one():
    """A manager cannot tell a rep elsewhere in the company from a nobody."""
    result = check("bad_scope.csv")
    assert result.errors == [
        ImportProblem(3, "rep_email", "zoe@example.com", NOT_YOURS.format("zoe@example.com"))
    ]


def test_whoever_sees_everyone_hears_unknown():
    everyone = {k: RepRef(r.id, in_scope=True) for k, r in REPS.items()}
    result = validate(load("bad_unknown_rep.csv"), reps=everyone, metrics=METRICS)
    assert result.errors[0].message == "unknown rep email 'nobody@example.com'"


def test_unknown_and_archived_metric():
    result = check("bad_metric.csv")
    assert result.errors == [
        ImportProblem(3, "metric", "dials", "unknown metric 'dials'"),
        ImportProblem(4, "metric", "faxes", "metric 'faxes' is archived"),
        ImportProblem(5, "metric", "", "metric is empty"),
    ]


def test_bad_periods():
    result = check("bad_period.csv")
    assert triples(result) == [
        (2, "period", "2026-13"),
        (3, "period", "2026-Q5"),
        (4, "period", "2025-W53"),
        (5, "period", "15/03/2026"),
        (6, "period", ""),
        (7, "period", "2026-02-30"),
    ]
    messages = [e.message for e in result.errors]
    assert messages[0] == "'2026-13' is not a period: month must be 01 to 12"
    assert messages[2] == "'2025-W53' is not a period: 2025 has only 52 ISO weeks"
    assert messages[3].startswith("'15/03/2026' is not a period: use 2026-03-15 (day)")
    assert messages[4].startswith("period is empty")
    # 2026 has 53 ISO weeks: that line is fine.
    assert result.rows[["grain", "line"]].values.tolist() == [["week", 8]]


def test_bad_values():
    result = check("bad_value.csv")
    assert triples(result) == [
        (2, "value", ""),
        (3, "value", "abc"),
        (4, "value", "inf"),
        (5, "value", "nan"),
        (6, "value", "1,234.5"),
        (7, "value", "12,5"),
    ]
    messages = [e.message for e in result.errors]
    assert messages[:4] == [
        "value is empty",
        "value 'abc' is not a number",
        "value 'inf' is not a finite number",
        "value 'nan' is not a finite number",
    ]
    assert messages[4].startswith("value '1,234.5' contains a comma")
    assert "only accepted in semicolon-separated files" in messages[5]
    assert result.rows[["value", "line"]].values.tolist() == [[7.25, 8]]  # " 7.25 " is fine


def test_duplicates_report_first_occurrence():
    result = check("bad_duplicate.csv")
    assert result.errors == [
        ImportProblem(
            4,
            None,
            "ANA@example.com / calls / 2026-03",
            "duplicate of line 2: same rep, metric and period",
        ),
        ImportProblem(
            6,
            None,
            "ana@example.com / calls / 2026-03",
            "duplicate of line 2: same rep, metric and period",
        ),
    ]
    # The first occurrence stays a valid row; the duplicates are not.
    assert result.rows["line"].tolist() == [2, 3, 5]


def test_several_errors_sorted_by_line_then_column():
    data = (
        b"rep_email,period,metric,value\n"
        b"nobody@x.com,2026-13,dials,abc\n"
        b"ana@example.com,2026-03,calls,1\n"
    )
    result = validate(read_table(data, "x.csv"), reps=REPS, metrics=METRICS)
    assert triples(result) == [
        (2, "rep_email", "nobody@x.com"),
        (2, "period", "2026-13"),
        (2, "metric", "dials"),
        (2, "value", "abc"),
    ]


# --- wide layout ------------------------------------------------------------------------------


def test_wide_to_long():
    result = check("wide.csv")
    assert result.layout.kind is LayoutKind.WIDE
    assert result.layout.metric_columns == ("calls", "emails", "meetings")
    assert result.mapping == {"calls": "calls", "emails": "emails", "meetings": "meetings"}
    # Empty cells are skipped; a bad cell is reported under its own column header.
    assert triples(result) == [(4, "Emails", "x")]
    assert result.rows[["rep_id", "metric_id", "grain", "value", "line"]].values.tolist() == [
        [1, 10, "month", 120.0, 2],
        [1, 11, "month", 45.0, 2],
        [2, 11, "month", 12.0, 3],
        [2, 12, "month", 3.0, 3],
        [3, 10, "month", 7.0, 4],
        [3, 12, "month", 1.0, 4],
    ]


def test_wide_unknown_columns_and_column_map():
    result = check("wide_unknown_col.csv")
    assert result.unknown_columns == ["dials", "Notes"]
    assert result.errors == [
        ImportProblem(
            1,
            "dials",
            "dials",
            "column 'dials' is not a metric key: map it to a metric or ignore it",
        ),
        ImportProblem(
            1,
            "Notes",
            "Notes",
            "column 'Notes' is not a metric key: map it to a metric or ignore it",
        ),
    ]
    mapped = check("wide_unknown_col.csv", column_map={"dials": "Emails", "notes": None})
    assert mapped.ok and mapped.unknown_columns == []
    assert mapped.mapping == {"calls": "calls", "dials": "emails", "notes": None}
    assert mapped.rows[["rep_id", "metric_id", "value", "line"]].values.tolist() == [
        [1, 10, 120.0, 2],
        [1, 11, 80.0, 2],
        [2, 10, 90.0, 3],
    ]


def test_wide_column_map_errors():
    bad_target = check("wide_unknown_col.csv", column_map={"dials": "nope", "notes": None})
    assert bad_target.errors == [
        ImportProblem(1, "dials", "dials", "column 'dials' is mapped to unknown metric 'nope'")
    ]
    archived = check("wide_unknown_col.csv", column_map={"dials": "faxes", "notes": None})
    assert archived.errors == [
        ImportProblem(1, "dials", "dials", "column 'dials' is mapped to archived metric 'faxes'")
    ]
    twice = check("wide_unknown_col.csv", column_map={"dials": "calls", "notes": None})
    assert twice.errors == [
        ImportProblem(1, "dials", "dials", "columns 'calls' and 'dials' both map to metric 'calls'")
    ]


def test_wide_duplicate_rows_and_trailing_delimiter():
    result = check("wide_duplicate.csv")
    assert result.errors == [
        ImportProblem(
            4,
            "calls",
            "ana@example.com / calls / 2026-03",
            "duplicate of line 2: same rep, metric and period",
        )
    ]
    trailing = check("wide_trailing_delimiter.csv")
    assert trailing.ok and trailing.mapping == {"calls": "calls"}


def test_wide_line_errors_are_reported_once_per_line():
    data = b"rep_email,period,calls,emails\nnobody@x.com,2026-03,1,2\n"
    result = validate(read_table(data, "w.csv"), reps=REPS, metrics=METRICS)
    assert triples(result) == [(2, "rep_email", "nobody@x.com")]


# --- one grain per metric --------------------------------------------------------------------

ONE_GRAIN = "Send all of one metric's values at one grain."


def test_a_metric_at_two_grains_in_one_file_is_refused_at_the_odd_lines():
    # Line 5 is another metric, with a grain of its own; line 6's bad period is reported once.
    result = check("bad_mixed_grain.csv")
    assert result.errors[0] == ImportProblem(
        2,
        "period",
        "2026-W30",
        "calls is given by quarter elsewhere in this file (first on line 3); "
        "2026-W30 is a week. " + ONE_GRAIN,
    )
    assert triples(result) == [(2, "period", "2026-W30"), (6, "period", "2026-13")]
    assert result.rows["line"].tolist() == [3, 4, 5]


def test_a_metric_stored_at_one_grain_refuses_another():
    metrics = {**METRICS, "calls": MetricRef(10, grain="quarter")}
    data = (
        b"rep_email,period,metric,value\n"
        b"ana@example.com,2026-Q3,calls,42\n"
        b"ana@example.com,2026-W30,calls,50\n"
        b"ben@example.com,2026-W30,calls,30\n"
        b"ben@example.com,2026-W30,emails,30\n"
    )
    result = validate(read_table(data, "x.csv"), reps=REPS, metrics=metrics)
    message = "calls is stored by quarter; 2026-W30 is a week. " + ONE_GRAIN
    # What is stored wins over what most of the file says.
    assert result.errors == [
        ImportProblem(3, "period", "2026-W30", message),
        ImportProblem(4, "period", "2026-W30", message),
    ]
    assert result.rows["line"].tolist() == [2, 5]


def test_a_wide_file_mixing_grains_names_the_metric():
    metrics = {**METRICS, "emails": MetricRef(11, grain="day")}
    data = (
        b"rep_email,period,calls,emails\n"
        b"ana@example.com,2026-03,1,\n"
        b"ben@example.com,2026-03-02,3,4\n"
    )
    result = validate(read_table(data, "w.csv"), reps=REPS, metrics=metrics)
    assert [e.message for e in result.errors] == [
        "calls is given by month elsewhere in this file (first on line 2); "
        "2026-03-02 is a day. " + ONE_GRAIN
    ]
    assert triples(result) == [(3, "period", "2026-03-02")]


# --- stray NUL bytes ----------------------------------------------------------------------


def test_a_nul_byte_in_one_row_is_reported_at_its_cell():
    result = check("bad_nul.csv")
    # One error per cell: the NUL is the problem, not "unknown rep" or "not a number".
    assert result.errors == [
        ImportProblem(
            3, "value", "2\\x00", "value contains a NUL byte (shown as \\x00): remove it"
        ),
        ImportProblem(
            4,
            "rep_email",
            "ana\\x00@example.com",
            "rep_email contains a NUL byte (shown as \\x00): remove it",
        ),
    ]
    assert result.rows["line"].tolist() == [2]


def test_really_binary_content_is_still_refused_whole():
    for data in (b"\x00" * 1000, b"rep_email,period\n" + b"\x00\x01\x02\x03" * 100):
        with pytest.raises(TableError, match="it contains binary data"):
            read_table(data, "x.csv")


# --- API records ------------------------------------------------------------------------------


def test_records_long_layout():
    raw = read_records(
        [
            {"rep_email": "ana@example.com", "period": "2026-03", "metric": "calls", "value": 12},
            {"rep_email": "ana@example.com", "period": "2026-04", "metric": "calls", "value": None},
            {"rep_email": "ben@example.com", "period": "2026-04", "metric": "calls", "value": 1.5},
            {"rep_email": "ben@example.com", "period": "2026-05", "metric": "calls", "value": "x"},
            {"rep_email": "ben@example.com", "period": "2026-06", "metric": "calls", "value": True},
        ]
    )
    assert raw.source == "records" and list(raw.frame.index) == [1, 2, 3, 4, 5]
    result = validate(raw, reps=REPS, metrics=METRICS)
    assert triples(result) == [(2, "value", ""), (4, "value", "x"), (5, "value", "TRUE")]
    assert result.rows[["value", "line"]].values.tolist() == [[12.0, 1], [1.5, 3]]
    missing = validate(
        read_records([{"rep_email": "a", "period": "2026-03", "value": 1}]),
        reps=REPS,
        metrics=METRICS,
    )
    assert missing.errors[0].line is None and missing.errors[0].column == "value"
    assert "needs both a 'metric' and a 'value' column" in missing.errors[0].message
    with pytest.raises(TableError, match="no records"):
        read_records([])
    with pytest.raises(TableError, match="record 2 is not an object"):
        read_records([{"a": 1}, [1, 2]])


# --- error list -------------------------------------------------------------------------------


def test_error_cap_counts_everything_but_builds_only_the_first():
    lines = ["rep_email,period,metric,value"] + [
        f"nobody{i}@x.com,2026-03,calls,{i}" for i in range(500)
    ]
    raw = read_table("\n".join(lines).encode(), "x.csv")
    result = validate(raw, reps=REPS, metrics=METRICS, max_errors=MAX_ERRORS_SHOWN)
    assert result.error_count == 500 and result.truncated
    assert len(result.errors) == MAX_ERRORS_SHOWN == 200
    assert [e.line for e in result.errors] == list(range(2, 202))


def test_errors_to_csv_escapes_formulas():
    text = errors_to_csv(
        [
            ImportProblem(
                3, "value", '=HYPERLINK("x")', "value '=HYPERLINK(\"x\")' is not a number"
            ),
            ImportProblem(None, None, None, "nothing to import"),
            ImportProblem(4, None, "a, b", "duplicate of line 2"),
        ]
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["line", "column", "value", "message"],
        ["3", "value", '\'=HYPERLINK("x")', "value '=HYPERLINK(\"x\")' is not a number"],
        ["", "", "", "nothing to import"],
        ["4", "", "a, b", "duplicate of line 2"],
    ]
    assert ImportProblem(1, "a", "b", "c").to_dict() == {
        "line": 1,
        "column": "a",
        "value": "b",
        "message": "c",
    }


# --- scale ------------------------------------------------------------------------------------


def test_validation_is_vectorised_on_a_larger_file():
    n_reps, n_metrics, n_months = 200, 5, 10
    reps = {f"rep{i}@x.com": RepRef(i) for i in range(n_reps)}
    metrics = {f"m{j}": MetricRef(j) for j in range(n_metrics)}
    r, m, p = np.meshgrid(
        np.arange(n_reps), np.arange(n_metrics), np.arange(n_months), indexing="ij"
    )
    df = pd.DataFrame(
        {
            "rep_email": [f"rep{i}@x.com" for i in r.ravel()],
            "period": [f"2025-{k + 1:02d}" for k in p.ravel()],
            "metric": [f"m{j}" for j in m.ravel()],
            "value": np.arange(r.size) / 4,
        }
    )
    raw = read_table(df.to_csv(index=False).encode(), "big.csv")
    result = validate(raw, reps=reps, metrics=metrics)
    assert result.ok and len(result.rows) == n_reps * n_metrics * n_months
    assert result.rows["value"].sum() == pytest.approx(df["value"].sum())


def test_extra_empty_fields_on_data_rows_lose_nothing():
    result = validate(load("trailing_empty_fields.csv"), reps=REPS, metrics=METRICS)
    assert result.ok, result.errors
    assert result.rows["value"].tolist() == [5.0, 6.0]


def test_a_semicolon_file_with_dot_decimals_reads_grouped_digits_as_decimals():
    result = validate(load("semicolon_dot_decimals.csv"), reps=REPS, metrics=METRICS)
    assert result.ok, result.errors
    assert result.rows["value"].tolist() == [2.75, 1.234]


def test_a_semicolon_file_with_comma_decimals_reads_its_own_convention():
    result = validate(load("bad_semicolon_dot_in_comma_file.csv"), reps=REPS, metrics=METRICS)
    assert triples(result) == [(4, "value", "12.500")]
    assert result.errors[0].message == (
        "value '12.500' has a dot, but this file writes decimals with a comma (as in '3,5'): "
        "write 12500 without a thousands separator, or 12,5")


def test_grouped_digits_in_a_semicolon_file_that_does_not_say_its_decimal_mark():
    result = validate(load("bad_semicolon_grouped.csv"), reps=REPS, metrics=METRICS)
    assert triples(result) == [(3, "value", "12.500"), (4, "value", "1,234")]
    assert result.errors[0].message == (
        "value '12.500' could be 12500 or 12.5: write it without a thousands separator "
        "(12500), or with a decimal comma (12,5)")
    assert result.errors[1].message == (
        "value '1,234' could be 1234 or 1.234: write it without a thousands separator "
        "(1234), or with more decimals (1,2340)")


def _workbook_bytes(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_without_a_sheet_named_reads_the_first_visible_sheet():
    book = openpyxl.Workbook()
    book.active.title = "old draft"
    book.active.append(["rep_email", "period", "metric", "value"])
    book.active.append(["ana@example.com", "2026-03", "calls", 99])
    book.active.sheet_state = "hidden"
    final = book.create_sheet("final")
    final.append(["rep_email", "period", "metric", "value"])
    final.append(["ana@example.com", "2026-03", "calls", 12])
    raw = read_table(_workbook_bytes(book), "book.xlsx")
    assert raw.sheet == "final"
    assert validate(raw, reps=REPS, metrics=METRICS).rows["value"].tolist() == [12.0]
    # Asked for by name, a hidden sheet is read.
    assert read_table(_workbook_bytes(book), "book.xlsx", sheet="old draft").sheet == "old draft"


def test_xlsx_error_cells_are_refused_by_the_error_they_show():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["rep_email", "period", "calls", "revenue"])
    sheet.append(["ana@example.com", "2026-03", 5, 10])
    sheet.append(["ben@example.com", "2026-03", 6, 20])
    data = _workbook_bytes(book)
    # openpyxl writes no cached results: put an error where Excel would have left one.
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    name = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    xml = parts[name].decode()
    cell = xml.index('r="C3"')
    start, end = xml.rindex("<c ", 0, cell), xml.index("</c>", cell) + len("</c>")
    parts[name] = (xml[:start] + '<c r="C3" t="e"><f>A1/0</f><v>#DIV/0!</v></c>'
                   + xml[end:]).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for part, content in parts.items():
            zf.writestr(part, content)
    result = validate(read_table(out.getvalue(), "book.xlsx"), reps=REPS, metrics=METRICS)
    assert triples(result) == [(3, "calls", "#DIV/0!")]
    assert result.errors[0].message == (
        "value '#DIV/0!' is an Excel error, not a number: correct the formula or type the value")


def test_cr_only_line_endings_drop_blank_rows_as_lf_files_do():
    result = validate(load("blank_lines_cr.csv"), reps=REPS, metrics=METRICS)
    assert result.ok, result.errors
    assert result.rows[["value", "line"]].values.tolist() == [[1.0, 2], [2.0, 5]]


def test_invisible_spaces_around_a_cell_are_not_part_of_it():
    result = validate(load("invisible_spaces.csv"), reps=REPS, metrics=METRICS)
    assert result.ok, result.errors
    assert result.rows[["rep_id", "value"]].values.tolist() == [[1, 1234.0], [2, 12.0]]


def test_an_xlsx_date_shown_as_a_month_is_read_as_that_month():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["rep_email", "period", "metric", "value"])
    sheet.append(["ana@example.com", dt.datetime(2026, 3, 1), "calls", 5])
    sheet.append(["ben@example.com", dt.datetime(2026, 3, 1), "calls", 6])
    sheet.append(["ana@example.com", dt.datetime(2026, 3, 17), "emails", 7])
    sheet["B2"].number_format = "mmm yyyy"  # what Excel makes of a typed "2026-03"
    sheet["B3"].number_format = '[$-409]yyyy\\-mm;@'
    sheet["B4"].number_format = "yyyy-mm-dd"  # a day stays a day
    raw = read_table(_workbook_bytes(book), "book.xlsx")
    assert raw.frame["period"].tolist() == ["2026-03", "2026-03", "2026-03-17"]


def test_grouped_digits_with_an_invisible_space_are_still_ambiguous():
    # Read as 12.5 once the zero-width space was stripped, but tested for grouping with it.
    raw = read_table("rep_email;period;metric;value\nana@example.com;2026-03;calls;12.500\u200b\n"
                     .encode(), "copied.csv")
    result = validate(raw, reps=REPS, metrics=METRICS)
    assert [e.line for e in result.errors] == [2]
    assert "could be 12500 or 12.5" in result.errors[0].message


def test_a_formula_the_file_holds_no_result_for_is_refused_not_read_as_empty():
    """Workbooks written by scripts (openpyxl, some exporters) keep formulas without their
    results; read as empty, a wide file's value went missing without a word."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["rep_email", "period", "calls", "revenue"])
    sheet.append(["ana@example.com", "2026-03", 5, 10])
    sheet.append(["ben@example.com", "2026-03", "=C2*2", 20])
    result = validate(read_table(_workbook_bytes(book), "book.xlsx"), reps=REPS,
                      metrics=METRICS)
    assert triples(result) == [(3, "calls", "=C2*2")]
    assert result.errors[0].message == (
        "value '=C2*2' is a formula, not a number, and the file holds no result for it: save "
        "it from Excel or LibreOffice (which store results), or type the value")
