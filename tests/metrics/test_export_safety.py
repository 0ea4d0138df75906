"""CSV and XLSX exports: cells a spreadsheet would run are neutralised, parameters are
validated, and the download's file name is built by a library, so nothing can inject."""

import csv
import io

import openpyxl
import pytest
from werkzeug.http import parse_options_header

from reviewapp.auth.models import Role
from reviewapp.extensions import db
from tests.factories import create_user

FORMULAS = ["=HYPERLINK(\"http://evil.test\",\"x\")", "+1+1", "-2+3", "@SUM(1)", "\t=1"]


@pytest.fixture
def team_with_formula_names(corpus_org, runner, tmp_path):
    reps = [create_user(Role.REP, email=f"f{i}@example.com", name=name,
                        manager=corpus_org.lead, commit=False)
            for i, name in enumerate(FORMULAS)]
    db.session.commit()
    path = tmp_path / "data.csv"
    path.write_text("rep_email,period,metric,value\n" + "".join(
        f"{r.email},2026-Q1,revenue,{-5 - i}\n" for i, r in enumerate(reps)))
    result = runner.invoke(args=["metrics", "import", str(path)])
    assert result.exit_code == 0, result.output
    return corpus_org


def test_team_csv_neutralises_names_and_keeps_numbers(client, login_as,
                                                      team_with_formula_names):
    login_as(team_with_formula_names.lead)
    response = client.get("/metrics/team?period=2026-Q1&format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    mine = [row for row in rows[1:] if row[0].startswith("f")]
    assert {row[1] for row in mine} == {"'" + name for name in FORMULAS}
    calls = rows[0].index("revenue")  # an outcome: refunds may take it below zero
    values = sorted(int(row[calls]) for row in mine)
    assert values == [-9, -8, -7, -6, -5]  # negative numbers stay numbers
    _, options = parse_options_header(response.headers["Content-Disposition"])
    assert options["filename"] == "team-metrics-2026-Q1.csv"


@pytest.mark.parametrize("period", ['2026-Q1"; filename="evil.exe', "=1+1", "2031-Q9",
                                    "x" * 500])
def test_an_unknown_period_is_refused(client, login_as, team_with_formula_names, period):
    login_as(team_with_formula_names.lead)
    for fmt in ("csv", "html"):
        response = client.get("/metrics/team", query_string={"period": period, "format": fmt})
        assert response.status_code == 400
        assert "Content-Disposition" not in response.headers
        assert "There is no period" in response.get_data(as_text=True)


def test_cli_exports_neutralise_text_cells(runner, app, tmp_path, corpus_org):
    rep = create_user(Role.REP, email="=cmd@example.com", manager=corpus_org.lead)
    path = tmp_path / "in.csv"
    path.write_text(f"rep_email,period,metric,value\n{rep.email},2026-Q1,revenue,-3\n")
    assert runner.invoke(args=["metrics", "import", str(path)]).exit_code == 0
    out = runner.invoke(args=["metrics", "export"]).output
    assert "'=cmd@example.com,2026-Q1,revenue,-3" in out
    xlsx = tmp_path / "out.xlsx"
    assert runner.invoke(args=["metrics", "export", "--format", "xlsx", "-o", str(xlsx)]
                         ).exit_code == 0
    sheet = openpyxl.load_workbook(xlsx).active
    cells = {cell.value: cell.data_type for row in sheet.iter_rows() for cell in row}
    assert cells["=cmd@example.com"] == "s"  # a text cell, never a formula
    assert cells[-3] == "n"


@pytest.mark.parametrize("text,expected", [("=1", "'=1"), ("+1", "'+1"), ("-x", "'-x"),
                                           ("@a", "'@a"), ("\r=1", "'\r=1"), ("ok", "ok"),
                                           ("", ""), (None, "")])
def test_safe_text(text, expected):
    from reviewapp.exports import safe_text

    assert safe_text(text) == expected


def test_team_csv_keeps_every_digit_and_writes_no_exponent(client, login_as, corpus_org,
                                                            runner, tmp_path):
    rep = create_user(Role.REP, email="big@example.com", name="Big Seller",
                      manager=corpus_org.lead)
    path = tmp_path / "big.csv"
    path.write_text("rep_email,period,metric,value\n"
                    f"{rep.email},2026-Q1,calls,1234567.89\n")
    assert runner.invoke(args=["metrics", "import", str(path)]).exit_code == 0
    login_as(corpus_org.lead)
    rows = list(csv.reader(io.StringIO(
        client.get("/metrics/team?period=2026-Q1&format=csv").get_data(as_text=True))))
    (row,) = [r for r in rows if r[0] == rep.email]
    assert row[rows[0].index("calls")] == "1234567.89"  # was 1.23457e+06


@pytest.mark.parametrize("value, expected", [
    (1234567.89, "1,234,567.89"), (2e6, "2,000,000"), (98765.43, "98,765.43"), (24.0, "24"),
    (0.1, "0.1"), (1e-7, "0.0000001"), (-5.0, "-5"), (-0.0, "0"),
    (1e20, "100,000,000,000,000,000,000"),
])
def test_exact_shows_a_value_as_stored_without_an_exponent(value, expected):
    from reviewapp.numbers import exact

    assert exact(value) == expected
