"""Bulk user import from CSV: all-or-nothing with every bad row reported."""

import io

from reviewapp.auth.models import Role, Team, User

HEADER = "email,name,role,manager_email,team\n"


def upload(client, text: str, name="users.csv"):
    data = {"file": (io.BytesIO(text.encode()), name)}
    return client.post("/admin/users/import", data=data, content_type="multipart/form-data")


def user_count(db):
    return db.session.scalar(db.select(db.func.count()).select_from(User))


def test_good_file_creates_users_teams_and_forward_managers(client, org, login_as, db):
    login_as(org.hr)
    text = HEADER + (
        "ann@x.test,Ann,rep,mia@x.test,Delta\n"      # manager appears later in the file
        f"mia@x.test,Mia,manager,{org.boss.email},Delta\n"
        f"joe@x.test,Joe,rep,{org.lead.email},\n"
    )
    response = upload(client, text)
    body = response.get_data(as_text=True)
    assert "3 users imported" in body and body.count("/auth/set-password/") == 3
    ann = db.session.scalar(db.select(User).where(User.email == "ann@x.test"))
    assert ann.manager.email == "mia@x.test" and ann.team.name == "Delta"
    assert db.session.scalar(db.select(Team).where(Team.name == "Delta")) is not None


def test_every_bad_row_is_reported_and_nothing_written(client, org, login_as, db):
    login_as(org.hr)
    before = user_count(db)
    text = HEADER + (
        "good@x.test,Good,rep,,\n"
        "not-an-email,Bad,rep,,\n"
        f"{org.rep.email.upper()},Dup,rep,,\n"
        "good@x.test,Again,rep,,\n"
        "sam@x.test,Sam,boss,,\n"
        "tim@x.test,Tim,rep,ghost@x.test,\n"
        f"una@x.test,Una,rep,{org.rep.email},\n"
        "vic@x.test,,rep,,\n"
    )
    response = upload(client, text)
    body = response.get_data(as_text=True)
    assert "Nothing was imported." in body
    for line, fragment in [
        (3, "not a valid email"), (4, "already exists"), (5, "Duplicate of line 2"),
        (6, "Role &#39;boss&#39; is not one of"), (7, "No user ghost@x.test"),
        (8, "cannot manage anyone"), (9, "Name is required"),
    ]:
        assert f"<td>{line}</td>" in body, line
        assert fragment in body, fragment
    assert user_count(db) == before
    assert db.session.scalar(db.select(User).where(User.email == "good@x.test")) is None


def test_loop_in_file_is_refused(client, org, login_as, db):
    login_as(org.hr)
    before = user_count(db)
    text = HEADER + "a@x.test,A,manager,b@x.test,\nb@x.test,B,manager,a@x.test,\n"
    body = upload(client, text).get_data(as_text=True)
    assert "form a loop" in body
    assert user_count(db) == before


def test_missing_columns_empty_and_not_utf8(client, org, login_as, db):
    login_as(org.hr)
    assert "Missing column(s): role, manager_email, team" in upload(
        client, "email,name\na@x.test,A\n").get_data(as_text=True)
    assert "The file is empty." in upload(client, "").get_data(as_text=True)
    assert "has a header but no users" in upload(client, HEADER).get_data(as_text=True)
    data = {"file": (io.BytesIO("email,name,role,manager_email,team\nä".encode("latin-1")),
                     "u.csv")}
    body = client.post("/admin/users/import", data=data,
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "not UTF-8" in body


def test_cli_import_and_create(runner, org, db, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(HEADER + f"zed@x.test,Zed,rep,{org.lead.email},Alpha\n")
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 users" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "x,Y,rep,,\n")
    result = runner.invoke(args=["users", "import", str(bad)])
    assert result.exit_code != 0
    assert "line 2, column email" in result.output
    result = runner.invoke(args=["users", "create", "--email", "Cli@X.test", "--name", "Cli",
                                 "--role", "manager", "--team", "Alpha", "--password-stdin"],
                           input="a-long-password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User).where(User.email == "cli@x.test"))
    assert user.role == Role.MANAGER and user.password_hash
    result = runner.invoke(args=["users", "create", "--email", "cli@x.test", "--name", "C",
                                 "--role", "rep", "--password-stdin"], input="a-long-password\n")
    assert result.exit_code != 0 and "already exists" in result.output


def test_the_errors_of_a_file_are_listed_in_its_order(client, org, login_as, db):
    """A duplicate of line 3 on line 7 was listed before line 5's missing name."""
    import re

    login_as(org.hr)
    text = HEADER + (
        "vp@x.test,Victor,manager,,\n"
        "erik@x.test,Erik,manager,vp@x.test,Nordics\n"
        "bad-email,Someone,rep,erik@x.test,Nordics\n"
        "x@x.test,,rep,nobody@x.test,Nordics\n"
        "y@x.test,Y Person,rep,erik@x.test,\n"
        "erik@x.test,Erik Dup,manager,,Nordics\n"
    )
    body = upload(client, text).get_data(as_text=True)
    lines = [int(n) for n in re.findall(r"<tr>\s*<td[^>]*>(\d+)</td>", body)]
    assert lines and lines == sorted(lines), lines


def test_every_problem_of_every_line_is_listed(client, org, login_as, db):
    """A bad email hid the same line's bad role, a loop showed only once every other problem
    was fixed, and a manager on a line with an error was 'No user ..., here or in the file'."""
    login_as(org.hr)
    text = HEADER + (
        "bad,New Rep,boss,ghost@x.test,Eastern\n"
        "a@x.test,Ann,manager,b@x.test,\n"
        "b@x.test,Ben,manager,a@x.test,\n"
        "c@x.test,Cy,chief,,\n"
        "d@x.test,Di,rep,c@x.test,\n"
    )
    body = upload(client, text).get_data(as_text=True)
    assert "boss" in body and "ghost@x.test" in body  # line 2: email, role and manager
    assert body.count("form a loop") == 2  # lines 3 and 4
    assert "c@x.test is on line 5, which has an error" in body
    assert db.session.scalar(db.select(User).where(User.email == "a@x.test")) is None
