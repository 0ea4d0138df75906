"""The corpus of malformed imports: each refused with its own message, naming the line at fault.

test_import_web.py proves through the upload page that every bad file is refused whole and
leaves the database as it was; here each file's first problem is pinned down: the line (None
where the whole file is unreadable before any row, such as a PDF or a 0-byte file) and words
of the message a user needs to fix it.
"""

import io

import pytest
import sqlalchemy as sa

from reviewapp.metrics.importer import prepare_import
from tests.metrics.conftest import table_state
from tests.metrics.test_import_web import BAD_FILES, CORPUS

# file -> (line of the first problem, words of its message)
EXPECTED = {
    "bad_bom_then_latin1.csv": (4, "not UTF-8 text (byte 0xe9 on line 4)"),
    "bad_cp1252.csv": (3, "not UTF-8 text (byte 0x93 on line 3)"),
    "bad_dup_header.csv": (1, "column 'Period' appears more than once"),
    "bad_duplicate.csv": (4, "duplicate of line 2"),
    "bad_extra_column.csv": (1, "unknown column 'note'"),
    "bad_formula.csv": (3, "'=SUM(A1:A9)' is a formula, not a number"),
    "bad_huge_number.csv": (2, "'1e308' is out of range"),
    "bad_metric.csv": (3, "unknown metric 'dials'"),
    "bad_missing_header.csv": (1, "required column 'rep_email' is missing"),
    "bad_mixed_grain.csv": (2, "2026-W30 is a week"),
    "bad_nan_inf.csv": (2, "'NaN' is not a finite number"),
    "bad_negative_count.csv": (3, "value -3 is negative, but calls is an activity, counted from "
                                  "zero"),
    "bad_nul.csv": (3, "contains a NUL byte"),
    "bad_period.csv": (2, "'2026-13' is not a period: month must be 01 to 12"),
    "bad_quarter5.csv": (2, "'2026-Q5' is not a period: quarter must be Q1 to Q4"),
    "bad_quoted_newline.csv": (3, "line 3: the quoted cell in column 'value' goes on over a "
                                  "line break"),
    "bad_ragged.csv": (3, "line 3 has 5 fields but the header has 4"),
    "bad_ragged_first_row.csv": (2, "line 2 has 5 fields but the header has 4"),
    "bad_ragged_first_row_wide.csv": (2, "line 2 has 5 fields but the header has 4"),
    "bad_semicolon_grouped.csv": (3, "'12.500' could be 12500 or 12.5"),
    "bad_semicolon_dot_in_comma_file.csv": (4, "this file writes decimals with a comma"),
    # 12,5 and 2.75 in one file: it contradicts itself; the mark seen first decides.
    "bad_semicolon_both_marks.csv": (4, "value '2.75' has a dot, but this file writes decimals "
                                        "with a comma (as in '12,5')"),
    "bad_scope.csv": (3, "zoe@example.com"),
    "bad_unclosed_quote.csv": (3, "line 3 opens a quoted cell that is never closed"),
    "bad_unknown_rep.csv": (3, "nobody@example.com"),
    "bad_utf16be.csv": (None, "UTF-16"),
    "bad_value.csv": (2, "value is empty"),
    "bad_week54.csv": (3, "'2026-W54' is not a period: ISO week must be 01 to 53"),
    "bad_zip_bomb.xlsx": (None, "workbook is too large when uncompressed"),
    "bad_zip_not_xlsx.xlsx": (None, "a ZIP archive but not an Excel workbook"),
    "blank.csv": (None, "file is empty"),
    "empty.csv": (None, "file is empty"),
    "fake.xlsx": (None, "named like an Excel workbook but is not a valid .xlsx"),
    "garbage.bin": (None, "contains binary data"),
    "header_only.csv": (None, "the file has no values"),
    "image.png": (None, "looks like a PNG image"),
    "latin1.csv": (3, "not UTF-8 text (byte 0xe9 on line 3)"),
    "not_a_table.pdf": (None, "looks like a PDF document"),
    "utf16.csv": (None, "UTF-16"),
    "wide_duplicate.csv": (4, "duplicate of line 2"),
    "wide_unknown_col.csv": (1, "column 'dials' is not a metric key"),
}


def test_the_corpus_holds_at_least_30_bad_files_each_with_an_expectation():
    assert len(BAD_FILES) >= 30
    assert sorted(EXPECTED) == sorted(BAD_FILES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bad_file_names_its_problem_and_line(corpus_org, db, name):
    before = table_state(db)
    plan = prepare_import(corpus_org.lead, (CORPUS / name).read_bytes(), name, source="web")
    assert not plan.ok
    line, words = EXPECTED[name]
    first = plan.errors[0]
    assert words in first.message, first
    assert first.line == line, first
    db.session.rollback()
    assert table_state(db) == before


def test_a_60_mb_upload_is_refused_before_it_is_read(client, corpus_org, login_as, db):
    login_as(corpus_org.lead)
    before = table_state(db)
    row = b"ana@example.com,2026-03,calls,1\n"
    data = b"rep_email,period,metric,value\n" + row * (60 * 1024 * 1024 // len(row) + 1)
    response = client.post("/metrics/import", data={"file": (io.BytesIO(data), "big.csv")},
                           content_type="multipart/form-data")
    assert response.status_code in (200, 413, 422)
    page = response.get_data(as_text=True)
    assert "too large" in page or "larger than" in page, page[:500]
    assert table_state(db) == before
    assert db.session.scalar(sa.text("SELECT count(*) FROM observations")) == 0
