"""Commands given bad input say what is wrong, exit non-zero and change nothing: no traceback,
no half-made account (probe of every `flask` command, 4 December 2026)."""

import pytest
import sqlalchemy as sa

from reviewapp.auth.models import Team, User
from reviewapp.metrics.models import Metric


def _refused(result, *words):
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)  # a ClickException, not a traceback
    for word in words:
        assert word in result.output, result.output


def test_an_empty_password_on_stdin_makes_no_account(runner, db):
    result = runner.invoke(args=["users", "create", "--email", "pw@x.test", "--name", "P W",
                                 "--role", "rep", "--password-stdin"], input="")
    _refused(result, "No password on standard input")
    assert db.session.scalar(sa.select(User).where(User.email == "pw@x.test")) is None


def test_names_too_long_are_refused_on_the_command_line_too(runner, db):
    result = runner.invoke(args=["metrics", "add", "k_long", "--name", "N" * 500,
                                 "--kind", "activity", "--direction", "higher",
                                 "--rollup", "sum"])
    _refused(result, "at most 120 characters")
    result = runner.invoke(args=["metrics", "add", "k_unit", "--name", "Unit", "--unit",
                                 "u" * 40, "--kind", "activity", "--direction", "higher",
                                 "--rollup", "sum"])
    _refused(result, "at most 32 characters")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Metric)) == 0
    result = runner.invoke(args=["users", "create", "--email", "t@x.test", "--name", "T",
                                 "--role", "rep", "--team", "T" * 500, "--password-stdin"],
                           input="a-long-password\n")
    _refused(result, "at most 120 characters")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Team)) == 0
    assert db.session.scalar(sa.select(User).where(User.email == "t@x.test")) is None


def test_an_import_as_someone_who_may_not_import_is_a_message(runner, org, tmp_path):
    data = tmp_path / "m.csv"
    data.write_text("rep_email,period,metric,value\n")
    result = runner.invoke(args=["metrics", "import", str(data), "--as", org.rep.email])
    _refused(result, "may not import metric data")


@pytest.mark.parametrize("args", [
    ["records", "keygen", "--days", "-5"], ["records", "keygen", "--days", "0"],
    ["records", "render", "--cycle", "Any", "--workers", "-1"],
    ["records", "render", "--cycle", "Any", "--workers", "0"],
])
def test_counts_out_of_range_are_refused_by_option(runner, tmp_path, args):
    if args[1] == "keygen":
        args = [*args, "--out", str(tmp_path / "keys")]
    option = "--days" if args[1] == "keygen" else "--workers"
    result = runner.invoke(args=args)
    _refused(result, f"Invalid value for '{option}'")
    assert not (tmp_path / "keys").exists()


def test_the_demo_is_not_loaded_beside_a_real_organisation(runner, org, db):
    """It added 28 accounts with the published demo password, one of them HR, and 150 emails
    to a database that held a real organisation."""
    people = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    result = runner.invoke(args=["demo", "load"])
    _refused(result, "not demo people", "--force")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == people


def test_a_sheet_for_a_csv_is_refused_not_ignored(runner, org, tmp_path):
    data = tmp_path / "m.csv"
    data.write_text("rep_email,period,metric,value\n")
    result = runner.invoke(args=["metrics", "import", str(data), "--sheet", "Foo"])
    _refused(result, "--sheet", "XLSX")
