"""More of what a new customer meets in the first hour: HR has one list of people, not two;
the cycle editor's extra people are a checkbox list; units in team metrics; one "Whose goal";
metric names, not keys, in the KPI runs list."""

import re

from tests.kpis.conftest import sales  # noqa: F401  (fixture)
from tests.metrics.conftest import corpus_org  # noqa: F401  (fixture)
from tests.metrics.test_import_web import csv_bytes, upload


def _nav(page: str) -> str:
    return re.search(r"<nav.*?</nav>", page, re.S).group(0)


def test_hr_has_one_people_list_with_the_accounts(client, org, login_as):
    login_as(org.hr)
    nav = _nav(client.get("/dashboard").get_data(as_text=True))
    assert re.search(r'href="/admin/users"[^>]*>People</a>', nav)
    assert ">Users</a>" not in nav and 'href="/people"' not in nav
    response = client.get("/people")  # the old address still leads to the list
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    page = client.get("/admin/users").get_data(as_text=True)
    assert "<h1>People</h1>" in page
    intro = re.search(r'data-testid="people-intro">(.*?)</p>', page, re.S).group(1)
    assert "sign-in account" in intro and "who reports to whom" in intro
    assert org.outsider.name in page and "Set-password link" in page


def test_a_manager_people_list_says_whose_it_is(client, org, login_as):
    login_as(org.boss)
    nav = _nav(client.get("/dashboard").get_data(as_text=True))
    assert re.search(r'href="/people"[^>]*>People</a>', nav) and "/admin/users" not in nav
    page = client.get("/people").get_data(as_text=True)
    intro = re.search(r'data-testid="people-intro">(.*?)</p>', page, re.S).group(1)
    assert "report to you" in intro
    assert org.rep.name in page and org.outsider.name not in page
    assert client.get("/admin/users").status_code == 403


def _checkbox(page: str, name: str, value: int) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*value="{value}"[^>]*>', page).group(0)


def test_extra_people_are_a_checkbox_list_not_a_ctrl_click_select(client, org, login_as, db):
    from reviewapp.cycles.models import Cycle
    from tests.reviews.cycle_fixtures import cycle_form
    login_as(org.hr)
    page = client.get("/cycles/new").get_data(as_text=True)
    assert "<select multiple" not in page and "Ctrl" not in page
    listing = re.search(r"<fieldset[^>]*data-checklist.*?</fieldset>", page, re.S).group(0)
    assert "<legend>Extra people</legend>" in listing
    assert 'type="checkbox"' in _checkbox(listing, "people", org.outsider.id)
    assert "Olga Outsider (Omega)</label>" in listing
    assert "data-checklist-filter hidden" in listing  # the filter box needs the script
    assert '/static/js/checklist.js"' in page
    assert client.get("/static/js/checklist.js").status_code == 200

    chosen = [str(org.outsider.id), str(org.boss_rep.id)]
    refused = client.post("/cycles/new", data=cycle_form(org, name="", people=chosen))
    assert refused.status_code == 200  # the form comes back with the ticks kept
    again = refused.get_data(as_text=True)
    assert "checked" in _checkbox(again, "people", org.outsider.id)
    assert "checked" not in _checkbox(again, "people", org.rep2.id)
    assert client.post("/cycles/new", data=cycle_form(org, people=chosen)).status_code == 302
    [cycle] = db.session.scalars(db.select(Cycle)).all()
    assert sorted(p.name for p in cycle.people) == ["Bob Direct", "Olga Outsider"]
    edit = client.get(f"/cycles/{cycle.id}/edit").get_data(as_text=True)
    assert "checked" in _checkbox(edit, "people", org.boss_rep.id)


def test_team_metrics_columns_say_their_unit_and_roll_up(client, corpus_org, login_as, db):  # noqa: F811
    from reviewapp.metrics.models import Rollup
    corpus_org.metrics["calls"].unit, corpus_org.metrics["calls"].rollup = "calls", Rollup.MEAN
    corpus_org.metrics["revenue"].unit = "$"
    db.session.commit()
    login_as(corpus_org.lead)
    preview = upload(client, csv_bytes(["ana@example.com,2026-Q1,calls,40",
                                        "ana@example.com,2026-Q1,revenue,1500",
                                        "ben@example.com,2026-Q1,meetings,3"]), "q1.csv")
    assert client.post(preview, data={"action": "confirm"}).status_code == 302
    page = client.get("/metrics/team?period=2026-Q1").get_data(as_text=True)
    head = re.search(r"<thead>.*?</thead>", page, re.S).group(0)
    units = dict(re.findall(r'>(\w+)</a><span class="unit">([^<]*)</span>', head))
    assert units == {"Calls": "calls · average", "Revenue": "$ · total",
                     "Meetings": "no unit · total"}


def test_the_new_goal_form_asks_whose_goal_once(client, org, login_as):
    login_as(org.lead)
    page = client.get("/goals/new").get_data(as_text=True)
    assert page.count("Whose goal") == 1
    assert re.search(r'<legend>Whose goal</legend>\s*<div class="field[^"]*">\s*'
                     r'<label for="owner">Person</label>', page)
    team = client.get("/goals/new?scope=team").get_data(as_text=True)
    assert team.count("Whose goal") == 1 and '<label for="team">Team</label>' in team


def test_the_runs_list_names_metrics_as_people_know_them(client, sales, login_as, db):  # noqa: F811
    from reviewapp.kpis.runs import run_validation
    run_validation(None, "revenue", source="cli")
    db.session.commit()
    login_as(sales.org.hr)
    page = client.get("/kpis/runs").get_data(as_text=True)
    decisions = re.search(r'<ul class="run-decisions">(.*?)</ul>', page, re.S).group(1)
    assert 'Calls per day <code class="metric-key">calls_per_day</code>: not predictive' \
        in decisions
    assert "<li><code>" not in decisions  # every key found its name
    calls = sales.metrics["calls_per_day"]
    history = client.get(f"/kpis/metrics/{calls.id}").get_data(as_text=True)
    runs = re.search(r'data-testid="metric-runs">.*?</table>', history, re.S).group(0)
    assert "<td>Revenue</td>" in runs and "<td>revenue</td>" not in runs


def test_a_person_page_links_their_own_goals(client, org, login_as):
    from tests.goals.conftest import set_goal
    set_goal(org.lead, owner_id=org.rep.id, kind="percent", title="Rita's own goal")
    set_goal(org.lead, owner_id=org.rep2.id, kind="percent", title="Ravi's own goal")
    login_as(org.lead)
    person = client.get(f"/people/{org.rep.id}").get_data(as_text=True)
    link = f'/goals/?owner={org.rep.id}&amp;period=all'
    assert f'href="{link}">Goals</a>' in person
    page = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "Rita Rep’s goals</strong>" in page
    assert "Rita&#39;s own goal" in page and "Ravi&#39;s own goal" not in page
    assert "Ravi&#39;s own goal" in client.get("/goals/?period=all").get_data(as_text=True)
    assert client.get(f"/goals/?owner={org.outsider.id}").status_code == 404  # not his
    assert client.get("/goals/?owner=999999").status_code == 404
