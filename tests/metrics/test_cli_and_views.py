"""The metrics CLI, and the rep, team and organisation views of the data."""


import re

import openpyxl
import sqlalchemy as sa

from reviewapp.metrics.models import ImportBatch, Metric, Observation
from tests.metrics.conftest import table_state

GOOD = ("rep_email,period,metric,value\n"
        "ana@example.com,2026-Q1,calls,120\nana@example.com,2026-Q2,calls,90\n"
        "ana@example.com,2026-Q3,calls,140\nben@example.com,2026-Q1,calls,60\n"
        "ana@example.com,2026-01,revenue,1000\nana@example.com,2026-02,revenue,500\n")


def test_cli_add_and_list(runner, app, db):
    result = runner.invoke(args=["metrics", "add", "calls", "--name", "Calls", "--kind",
                                 "activity", "--direction", "higher", "--rollup", "sum"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["metrics", "add", "calls", "--name", "Calls", "--kind",
                                 "activity", "--direction", "higher", "--rollup", "sum"])
    assert result.exit_code != 0 and "already exists" in result.output
    listing = runner.invoke(args=["metrics", "list"]).output
    assert "calls" in listing and "candidate" in listing


def test_cli_import_errors_replace_duplicate_and_export(runner, corpus_org, db, tmp_path):
    path = tmp_path / "good.csv"
    path.write_text(GOOD)
    result = runner.invoke(args=["metrics", "import", str(path), "--as", corpus_org.lead.email])
    assert result.exit_code == 0, result.output
    assert "6 rows, 6 new, 0 changed" in result.output
    again = runner.invoke(args=["metrics", "import", str(path)])
    assert again.exit_code != 0 and "already imported as batch #" in again.output
    changed = tmp_path / "changed.csv"
    changed.write_text("rep_email,period,metric,value\nana@example.com,2026-Q1,calls,121\n")
    before = table_state(db)
    result = runner.invoke(args=["metrics", "import", str(changed)])
    assert result.exit_code != 0 and "--replace" in result.output
    assert table_state(db) == before
    result = runner.invoke(args=["metrics", "import", str(changed), "--replace"])
    assert result.exit_code == 0 and "1 changed" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("rep_email,period,metric,value\nghost@example.com,2026-Q5,calls,x\n")
    result = runner.invoke(args=["metrics", "import", str(bad)])
    assert result.exit_code != 0
    assert "line 2, column rep_email ('ghost@example.com')" in result.output
    assert "2026-Q5" in result.output and "nothing was imported" in result.output
    out = tmp_path / "export.csv"
    result = runner.invoke(args=["metrics", "export", "-o", str(out)])
    assert result.exit_code == 0
    text = out.read_text()
    assert "ana@example.com,2026-Q1,calls,121.0" in text
    assert "ana@example.com,2026-01,revenue,1000.0" in text
    xlsx = tmp_path / "export.xlsx"
    assert runner.invoke(args=["metrics", "export", "--format", "xlsx", "-o", str(xlsx)]
                         ).exit_code == 0
    sheet = openpyxl.load_workbook(xlsx).active
    assert [c.value for c in sheet[1]] == ["rep_email", "period", "metric", "value"]
    assert sheet.max_row == 7


def test_cli_refuses_a_second_grain_for_a_metric(runner, corpus_org, db, tmp_path):
    _import(runner, tmp_path)  # calls by quarter
    before = table_state(db)
    path = tmp_path / "weekly.csv"
    path.write_text("rep_email,period,metric,value\nben@example.com,2026-Q2,calls,1\n"
                    "ben@example.com,2026-W30,calls,2\n")
    result = runner.invoke(args=["metrics", "import", str(path)])
    assert result.exit_code != 0
    assert ("line 3, column period ('2026-W30'): calls is stored by quarter; 2026-W30 is a "
            "week. Send all of one metric's values at one grain.") in result.output
    assert "1 error(s); nothing was imported." in result.output
    assert table_state(db) == before


def test_cli_import_of_an_xlsx_sheet(runner, corpus_org, db, tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "notes"
    sheet = book.create_sheet("data")
    sheet.append(["rep_email", "period", "metric", "value"])
    sheet.append(["ben@example.com", "2026-Q2", "calls", 33])
    path = tmp_path / "data.xlsx"
    book.save(path)
    result = runner.invoke(args=["metrics", "import", str(path), "--sheet", "data"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(Observation.value)) == 33


def _import(runner, tmp_path, text=GOOD):
    path = tmp_path / "data.csv"
    path.write_text(text)
    assert runner.invoke(args=["metrics", "import", str(path)]).exit_code == 0


def test_rep_sees_own_metrics_rolled_up_with_sparkline(client, runner, corpus_org, login_as,
                                                       tmp_path):
    _import(runner, tmp_path)
    ana = corpus_org.reps["ana"]
    login_as(ana)
    body = client.get(f"/metrics/people/{ana.id}").get_data(as_text=True)
    assert "My metrics" in body and "<polyline" in body
    assert "2026-Q1" in body and "1,500" in body  # Jan + Feb revenue summed into Q1
    body = client.get(f"/metrics/people/{ana.id}?grain=month").get_data(as_text=True)
    assert "2026-02" in body
    assert client.get(f"/metrics/people/{corpus_org.reps['ben'].id}").status_code == 404


def test_manager_team_table_sorts_and_downloads_csv(client, runner, corpus_org, login_as,
                                                    tmp_path):
    _import(runner, tmp_path)
    login_as(corpus_org.lead)
    body = client.get("/metrics/team?period=2026-Q1&sort=calls&dir=desc").get_data(as_text=True)
    assert body.index("Ana") < body.index("Ben") < body.index("Cara")
    assert "Zoe" not in body
    body = client.get("/metrics/team?period=2026-Q1&sort=calls&dir=asc").get_data(as_text=True)
    assert body.index("Ben") < body.index("Ana")
    response = client.get("/metrics/team?period=2026-Q1&format=csv")
    lines = response.get_data(as_text=True).splitlines()
    assert response.mimetype == "text/csv"
    assert lines[0] == "rep_email,rep_name,period,revenue,calls"  # outcomes first
    assert "ana@example.com,Ana,2026-Q1,1500,120" in lines
    # The download of a search holds what the search found (it held the whole team).
    searched = client.get("/metrics/team?period=2026-Q1&q=ana&format=csv")
    lines = searched.get_data(as_text=True).splitlines()
    assert len(lines) == 2 and lines[1].startswith("ana@example.com,")


def test_team_table_cells_show_each_value_in_its_size(client, runner, corpus_org, login_as,
                                                     tmp_path):
    _import(runner, tmp_path, "rep_email,period,metric,value\n"
            "ana@example.com,2026-Q1,calls,1234.6\nben@example.com,2026-Q1,calls,12.345\n"
            "cara@example.com,2026-Q1,revenue,-250\nana@example.com,2026-Q1,revenue,0.5\n")
    login_as(corpus_org.lead)
    body = client.get("/metrics/team?period=2026-Q1").get_data(as_text=True)
    rows = {name: re.findall(r'<td class="num">([^<]*)</td>', row) for name, row in
            re.findall(r'<tr><td><a href="[^"]+">([^<]+)</a></td>(.*?)</tr>', body, re.S)}
    # Columns: revenue (the outcome, which refunds can take below zero) first, then calls.
    assert rows == {"Ana": ["0.5", "1,235"], "Ben": ["—", "12.3"], "Cara": ["-250", "—"]}


def test_hr_sees_everyone_and_all_batches(client, runner, corpus_org, login_as, tmp_path, db):
    _import(runner, tmp_path, GOOD + "zoe@example.com,2026-Q1,calls,7\n")
    login_as(corpus_org.hr)
    assert "Zoe" in client.get("/metrics/team?period=2026-Q1").get_data(as_text=True)
    batch = db.session.scalar(sa.select(ImportBatch))
    assert f"#{batch.id}" in client.get("/metrics/batches").get_data(as_text=True)
    login_as(corpus_org.elsewhere)
    assert f"#{batch.id}</a>" not in client.get("/metrics/batches").get_data(as_text=True)
    assert client.get(f"/metrics/batches/{batch.id}").status_code == 404


def test_team_metrics_before_any_import_says_so(client, login_as, corpus_org):
    """A fresh install showed an empty Period list and a table of names, with no word."""
    login_as(corpus_org.lead)
    body = client.get("/metrics/team").get_data(as_text=True)
    assert 'data-testid="no-data"' in body and "No metric data yet" in body
    assert 'href="/metrics/import"' in body


def test_the_command_line_maps_and_ignores_a_wide_files_columns(runner, corpus_org, tmp_path,
                                                                 db):
    """As the preview page's mapping does; without it such a file could only go in by the web."""
    path = tmp_path / "wide.csv"
    path.write_text("rep_email,period,Dials,Notes\nana@example.com,2026-Q1,40,called twice\n")
    refused = runner.invoke(args=["metrics", "import", str(path)])
    assert refused.exit_code == 1 and "Dials" in refused.output
    bad = runner.invoke(args=["metrics", "import", str(path), "--map", "Dials"])
    assert bad.exit_code == 2 and "is not COLUMN=METRIC" in bad.output
    result = runner.invoke(args=["metrics", "import", str(path), "--map", "Dials=calls",
                                 "--ignore", "Notes"])
    assert result.exit_code == 0, result.output
    values = db.session.execute(sa.select(Metric.key, Observation.value).join(Metric)).all()
    assert [(k, v) for k, v in values] == [("calls", 40.0)]


def test_sorting_team_metrics_keeps_the_search(client, runner, corpus_org, login_as,
                                               tmp_path):
    """The column links dropped ?q=: a search for one rep went back to everyone on a click."""
    _import(runner, tmp_path)
    login_as(corpus_org.lead)
    body = client.get("/metrics/team?period=2026-Q1&q=ana").get_data(as_text=True)
    links = re.findall(r'href="(/metrics/team\?[^"]*sort=[^"]*)"', body)
    assert links and all("q=ana" in link for link in links)
    empty = client.get("/metrics/team?period=2026-Q1&q=nobody-here").get_data(as_text=True)
    assert "No rep matches" in empty and "No reps in scope" not in empty


def test_hrs_people_link_keeps_the_search_sort_and_page(client, corpus_org, login_as):
    login_as(corpus_org.hr)
    response = client.get("/people?q=orion&sort=-name&page=3")
    location = response.headers["Location"]
    assert location.startswith("/admin/users?")
    assert all(part in location for part in ("q=orion", "sort=-name", "page=3"))


def test_team_metrics_keep_someone_who_left_in_the_periods_they_worked(
        client, runner, corpus_org, login_as, tmp_path, db):
    """Ben's 2026-Q1 figures were in the KPI run and on his own page, but not in the team's
    table or CSV once his account was deactivated: the past team total came out short."""
    _import(runner, tmp_path)  # Ben has 2026-Q1 only
    ben = corpus_org.reps["ben"]
    ben.active = False
    db.session.commit()
    login_as(corpus_org.lead)
    q1 = client.get("/metrics/team?period=2026-Q1").get_data(as_text=True)
    assert "Ben</a> <span class=\"muted\">(left)</span>" in q1
    csv_text = client.get("/metrics/team?period=2026-Q1&format=csv").get_data(as_text=True)
    assert ben.email in csv_text
    q2 = client.get("/metrics/team?period=2026-Q2").get_data(as_text=True)
    assert ">Ben</a>" not in q2  # no figures then: not on the team's list


def test_team_metrics_search_reads_the_team_and_the_manager_too(client, runner, corpus_org,
                                                                login_as, tmp_path):
    """As the README says of every list: it read only the name and the email."""
    _import(runner, tmp_path)
    login_as(corpus_org.hr)
    ana = corpus_org.reps["ana"]
    for words in (ana.team.name, corpus_org.lead.name) if ana.team else (corpus_org.lead.name,):
        body = client.get("/metrics/team", query_string={"period": "2026-Q1", "q": words}
                          ).get_data(as_text=True)
        assert ">Ana</a>" in body, words


def test_the_filters_keep_the_search_and_the_order(client, runner, corpus_org, login_as,
                                                   tmp_path):
    """Changing the period or the team after a search lost the search and the sort."""
    import re as _re

    _import(runner, tmp_path)
    login_as(corpus_org.lead)
    for url in ("/metrics/team?period=2026-Q1&q=ana&sort=calls&dir=desc",
                "/goals/?q=ana&sort=title", "/goals/tree?q=ana&sort=title"):
        body = client.get(url).get_data(as_text=True)
        form = _re.search(r'<form method="get"[^>]*class="filters".*?</form>', body, _re.S)
        assert form, url
        assert 'type="hidden" name="q" value="ana"' in form.group(0), url
        assert 'type="hidden" name="sort"' in form.group(0), url
