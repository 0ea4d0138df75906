"""Who sees what of a launched cycle: HR's progress, managers' overview of their people."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.reviews.models import Review, ReviewState
from tests.reviews.cycle_fixtures import kpis_fixture  # noqa: F401


def _draft(kpis, name: str, **kw) -> CycleDraft:
    soon = date.today() + timedelta(days=3)
    return CycleDraft(
        name=name, period="2026-Q3", self_due=soon, manager_due=soon + timedelta(days=7),
        calibration_due=soon + timedelta(days=14), acknowledgement_due=soon + timedelta(days=21),
        competency_ids=[c.id for c in ensure_default_competencies()],
        kpis=[(kpis.meetings.id, 12.0, 1.0)], **kw)


@pytest.fixture
def cycle(kpis, db):
    """A launched cycle over Alpha plus Olga (another branch), and a draft one."""
    org = kpis.org
    launched = save_cycle(org.hr, None, _draft(kpis, "Q3 reviews", team_ids=[org.team.id],
                                               person_ids=[org.outsider.id]))
    launch(org.hr, launched)
    draft = save_cycle(org.hr, None, _draft(kpis, "Q4 draft", team_ids=[org.team.id]))
    db.session.commit()
    reviews = {r.rep_id: r for r in db.session.scalars(sa.select(Review))}
    rita = reviews[org.rep.id]
    rita.quant_score, rita.qual_score, rita.overall_score = 4.5, 2.0, 3.25
    bob = reviews[org.boss_rep.id]
    bob.quant_score, bob.qual_score, bob.overall_score = 3.0, 3.5, 3.25
    db.session.commit()
    return SimpleNamespace(org=org, launched=launched, draft=draft, rita=rita, bob=bob)


def _row(page: str, name: str) -> str:
    """The progress table row of one rep."""
    for row in page.split("<tr>"):
        if f"<strong>{name}</strong>" in row:
            return row.split("</tr>")[0]
    raise AssertionError(f"no row for {name}")


def _names(page: str) -> set[str]:
    table = page.split('data-testid="progress"')[1].split("</table>")[0]
    return {n for n in ("Rita Rep", "Ravi Rep", "Bob Direct", "Olga Outsider")
            if f"<strong>{n}</strong>" in table}


@pytest.mark.parametrize("actor,expected", [
    ("lead", {"Rita Rep", "Ravi Rep"}),
    ("boss", {"Rita Rep", "Ravi Rep", "Bob Direct"}),
    ("other_manager", {"Olga Outsider"}),
    ("hr", {"Rita Rep", "Ravi Rep", "Bob Direct", "Olga Outsider"}),
])
def test_each_actor_sees_their_people(client, cycle, login_as, actor, expected):
    login_as(getattr(cycle.org, actor))
    page = client.get(f"/cycles/{cycle.launched.id}").get_data(as_text=True)
    assert _names(page) == expected


def test_managers_do_not_see_another_managers_draft_scores(client, cycle, login_as, db):
    org = cycle.org
    login_as(org.lead)  # Rita's reviewing manager
    page = client.get(f"/cycles/{cycle.launched.id}").get_data(as_text=True)
    assert "4.5" in _row(page, "Rita Rep") and "diverges" in _row(page, "Rita Rep")

    login_as(org.boss)  # above the lead: Rita's scores are the lead's draft until calibration
    page = client.get(f"/cycles/{cycle.launched.id}").get_data(as_text=True)
    assert "4.5" not in _row(page, "Rita Rep") and "diverges" not in _row(page, "Rita Rep")
    assert "3.5" in _row(page, "Bob Direct")  # the boss reviews Bob

    login_as(org.hr)
    page = client.get(f"/cycles/{cycle.launched.id}").get_data(as_text=True)
    assert "4.5" not in _row(page, "Rita Rep")

    rita = db.session.get(Review, cycle.rita.id)
    now = datetime.now(UTC)
    rita.self_submitted_at = rita.manager_submitted_at = now
    rita.state = ReviewState.CALIBRATION
    db.session.commit()
    for actor in (org.boss, org.hr):
        login_as(actor)
        row = _row(client.get(f"/cycles/{cycle.launched.id}").get_data(as_text=True),
                   "Rita Rep")
        assert "4.5" in row and "2.0" in row and "3.2" in row and "diverges" in row
        assert "Submitted" in row and "Calibration" in row


def test_overdue_reviews_are_flagged(client, cycle, login_as, db):
    launched = db.session.get(type(cycle.launched), cycle.launched.id)
    launched.self_due = date.today() - timedelta(days=1)
    db.session.commit()
    login_as(cycle.org.hr)
    page = client.get(f"/cycles/{cycle.launched.id}").get_data(as_text=True)
    assert 'class="overdue"' in _row(page, "Rita Rep")
    assert f"/reviews/{cycle.rita.id}" in _row(page, "Rita Rep")


def test_draft_cycles_do_not_exist_for_managers(client, cycle, login_as):
    login_as(cycle.org.lead)
    assert client.get(f"/cycles/{cycle.draft.id}").status_code == 404
    page = client.get("/cycles/").get_data(as_text=True)
    assert "Q3 reviews" in page and "Q4 draft" not in page


def test_cycles_list_counts_reviews_per_state(client, cycle, login_as, db):
    login_as(cycle.org.hr)
    page = client.get("/cycles/").get_data(as_text=True)
    assert "Q3 reviews" in page and "Q4 draft" in page
    launched_row = _list_row(page, "Q3 reviews")
    assert '<td class="num">4</td>' in launched_row and "Self-assessment" in launched_row
    assert "Not launched" in _list_row(page, "Q4 draft")

    login_as(cycle.org.lead)
    row = _list_row(client.get("/cycles/").get_data(as_text=True), "Q3 reviews")
    assert '<td class="num">2</td>' in row  # the lead's people only


def _list_row(page: str, name: str) -> str:
    for row in page.split("<tr>"):
        if f"<strong>{name}</strong>" in row:
            return row.split("</tr>")[0]
    raise AssertionError(f"no row for {name}")


def test_the_cycles_list_counts_the_reviews_a_manager_writes_as_the_cycle_page_does(
        client, launched, login_as, db):
    """Reps moved to another manager keep their reviewer until HR reassigns: the cycle page
    counted their reviews for the reviewer, the cycles list (the reviewer's people only) not."""
    from reviewapp.auth.models import Role
    from reviewapp.cycles.queries import review_counts, state_counts
    from tests.factories import create_user

    org, cycle = launched.org, launched.cycle
    before = sum(state_counts([cycle.id], org.lead)[cycle.id].values())
    other = create_user(Role.MANAGER, name="Mo Moved", manager=org.boss)
    org.rep.manager_id = other.id
    db.session.commit()
    listed = state_counts([cycle.id], org.lead)[cycle.id]
    assert listed == review_counts(cycle, org.lead)
    assert sum(listed.values()) == before


def test_percentages_read_as_on_every_other_page(client, launched, login_as):
    """The cycle and calibration pages wrote '70 % – 90 %', the review page '70%'."""
    login_as(launched.org.hr)
    for url in (f"/cycles/{launched.cycle.id}", f"/cycles/{launched.cycle.id}/calibration"):
        body = client.get(url).get_data(as_text=True)
        assert "&nbsp;%" not in body and "\xa0%" not in body, url
    assert "70%" in client.get(f"/cycles/{launched.cycle.id}").get_data(as_text=True)
