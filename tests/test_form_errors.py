"""Every form shows the GOV.UK error summary: each problem at the top, linked to its field, and
the field marked (aria-invalid, aria-describedby to its message). The cycle editor lists all
its problems at once, not one service error at a time."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from reviewapp.cycles.models import Cycle
from tests.reviews.cycle_fixtures import cycle_form, kpis_fixture  # noqa: F401  (fixture)


def summary_links(html: str) -> list[str]:
    found = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert found, "no error summary on the page"
    assert "data-error-summary" in found.group(0)  # static/js/app.js focuses it
    return re.findall(r'href="#([^"]+)"', found.group(0))


def assert_marked(html: str, field_id: str) -> None:
    """The element the summary links to says it is invalid and is described by its message."""
    tag = re.search(rf'<[^>]*\bid="{re.escape(field_id)}"[^>]*>', html)
    assert tag, f"nothing with id {field_id}"
    if 'role="group"' not in tag.group(0):  # a group is described; its inputs are the invalid
        assert 'aria-invalid="true"' in tag.group(0), tag.group(0)
    described = re.search(r'aria-describedby="([^"]*)"', tag.group(0))
    assert described and f"{field_id}-error" in described.group(1).split(), tag.group(0)
    assert f'id="{field_id}-error"' in html


FORMS = [
    ("lead", "/goals/new", {}, ["title"]),
    ("hr", "/admin/users/new", {}, ["email", "name", "manager", "team"]),
    ("hr", "/admin/teams", {}, ["name", "manager"]),
    ("hr", "/admin/users/import", {}, ["file"]),
    ("hr", "/metrics/new", {}, ["key", "name", "kind", "direction", "rollup"]),
    ("lead", "/metrics/import", {}, ["file"]),
    ("hr", "/cycles/competencies/new", {},
     ["name", "anchor_1", "anchor_2", "anchor_3", "anchor_4", "anchor_5"]),
    ("rep", "/auth/password", {}, ["current_password", "new_password"]),
]


@pytest.mark.parametrize("who,url,data,fields", FORMS, ids=[f[1] for f in FORMS])
def test_every_problem_is_summarised_and_its_field_marked(client, org, login_as, who, url,
                                                          data, fields):
    login_as(getattr(org, who))
    response = client.post(url, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 422)
    assert summary_links(html) == fields
    for field_id in fields:
        assert_marked(html, field_id)


def test_a_service_refusal_on_a_form_is_in_the_summary(client, org, login_as):
    login_as(org.rep)
    response = client.post("/auth/password", data={
        "current_password": "not my password", "new_password": "a long new password 1",
        "confirm": "a long new password 1"})
    html = response.get_data(as_text=True)
    links = summary_links(html)
    assert links and links[0] == "current_password"
    assert_marked(html, "current_password")


def _cycles(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Cycle))


def test_the_cycle_editor_lists_form_and_kpi_row_problems_together(client, kpis, login_as,
                                                                    db):
    login_as(kpis.org.hr)
    meetings, proposals = kpis.meetings, kpis.proposals
    response = client.post("/cycles/new", data=cycle_form(
        kpis.org, [(meetings, "lots", 1), (proposals, "", "heavy")], name="", band_4=""))
    html = response.get_data(as_text=True)
    assert summary_links(html) == [
        "name", "band_4", f"target_{meetings.id}", f"target_{proposals.id}",
        f"weight_{proposals.id}"]
    for field_id in ("name", "band_4", f"target_{meetings.id}", f"weight_{proposals.id}"):
        assert_marked(html, field_id)
    assert f'name="weight_{proposals.id}" value="heavy"' in html  # what was typed is kept
    assert _cycles(db) == 0


def test_the_cycle_editor_lists_every_rule_it_breaks(client, kpis, login_as, db):
    login_as(kpis.org.hr)
    first = client.post("/cycles/new", data=cycle_form(
        kpis.org, [(kpis.meetings, 12, 1)], name="Taken"))
    assert first.status_code == 302
    due = date.today() + timedelta(days=30)
    response = client.post("/cycles/new", data=cycle_form(
        kpis.org, [(kpis.meetings, 0, 1)], name="taken", period="2026-W05",
        manager_due=due.isoformat(), calibration_due=(due - timedelta(days=1)).isoformat(),
        quant_weight="1.5", band_3="60"))
    html = response.get_data(as_text=True)
    links = summary_links(html)
    assert links == ["name", "period", "calibration_due", "quant_weight", "bands", "kpis"], links
    assert "A cycle called taken already exists." in html
    assert "Meetings needs a positive target" in html
    for field_id in ("name", "period", "calibration_due", "quant_weight", "bands"):
        assert_marked(html, field_id)
    assert _cycles(db) == 1
