"""HR's per-cycle peer settings in the cycle editor, and the organisation's customer voice."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from reviewapp.cycles.models import Cycle
from reviewapp.extensions import db
from reviewapp.metrics.catalogue import add_metric
from reviewapp.metrics.models import Observation
from reviewapp.reviews.states import ReviewState
from tests.peers.helpers import move
from tests.reviews.cycle_fixtures import cycle_form


def _peer_fields(due: date | None, **overrides) -> dict:
    data = {"peer_feedback": "y", "peer_reviewers": "6", "peer_min_responses": "4",
            "peer_due": due.isoformat() if due else ""}
    data.update(overrides)
    return data


def test_the_editor_saves_peer_settings(client, login_as, org):
    form = cycle_form(org)
    due = date.fromisoformat(form["manager_due"]) - timedelta(days=2)
    response = login_as(org.hr).post("/cycles/new", data={**form, **_peer_fields(due)})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    cycle = db.session.scalar(sa.select(Cycle))
    assert (cycle.peer_feedback, cycle.peer_reviewers, cycle.peer_min_responses,
            cycle.peer_due) == (True, 6, 4, due)
    page = client.get(f"/cycles/{cycle.id}/edit").get_data(as_text=True)
    assert 'name="peer_feedback" type="checkbox" value="y"' in page and 'value="6"' in page
    facts = client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert "up to 6 peers per review, shown from 4 answers" in facts


def test_a_cycle_without_peer_fields_keeps_peer_feedback_off(client, login_as, org):
    response = login_as(org.hr).post("/cycles/new", data=cycle_form(org))
    assert response.status_code == 302
    cycle = db.session.scalar(sa.select(Cycle))
    assert (cycle.peer_feedback, cycle.peer_reviewers, cycle.peer_min_responses) == (False, 5, 3)


@pytest.mark.parametrize("overrides,field,message", [
    ({"peer_min_responses": "2"}, "peer_min_responses", "between 3 and 12"),
    ({"peer_reviewers": "2", "peer_min_responses": "3"}, "peer_reviewers", "Ask between 3"),
    ({"peer_reviewers": "13"}, "peer_reviewers", "and 12 peers"),
    ({"peer_due": ""}, "peer_due", "Enter the last day peers can answer"),
    ({"late": True}, "peer_due", "by the manager review deadline"),
    ({"peer_reviewers": "many"}, "peer_reviewers", "Not a valid integer"),
])
def test_bad_peer_settings_are_refused_on_their_field(client, login_as, org, overrides, field,
                                                      message):
    form = cycle_form(org)
    manager_due = date.fromisoformat(form["manager_due"])
    due = manager_due + timedelta(days=1) if overrides.pop("late", False) else manager_due
    response = login_as(org.hr).post("/cycles/new", data={**form, **_peer_fields(due),
                                                           **overrides})
    assert response.status_code in (200, 400, 422)
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page and message in page
    error = page.split(f'id="{field}-error"')[1][:300] if f'id="{field}-error"' in page else ""
    assert message in error, page[page.find("peer-settings"):][:2000]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cycle)) == 0


def test_customer_voice_beside_customer_satisfaction(client, login_as, peer_cycle):
    org, review = peer_cycle.org, peer_cycle.review
    csat = add_metric(None, key="csat", name="CSAT", kind="outcome", direction="higher",
                      rollup="mean", unit="of 5")
    db.session.add_all([
        Observation(rep_id=org.rep.id, metric_id=csat.id, grain="quarter",
                    period_start=date(2026, 7, 1), value=4.6),
        Observation(rep_id=org.rep.id, metric_id=csat.id, grain="quarter",
                    period_start=date(2026, 4, 1), value=4.2)])
    db.session.commit()
    move(review, ReviewState.MANAGER_REVIEW)
    page = login_as(org.lead).get(f"/reviews/{review.id}").get_data(as_text=True)
    assert 'data-testid="customer-voice"' not in page  # optional: off until HR chooses it

    login_as(org.hr)
    assert client.get("/peers/settings").status_code == 200
    response = client.post("/peers/settings", data={"metric": "nonsense"})
    assert response.status_code == 422 and "Choose an outcome metric" in response.get_data(
        as_text=True)
    assert client.post("/peers/settings", data={"metric": "csat"}).status_code == 302
    page = login_as(org.lead).get(f"/reviews/{review.id}").get_data(as_text=True)
    voice = page.split('data-testid="customer-voice"')
    assert len(voice) == 2  # once: beside Customer satisfaction only
    assert "4.6" in voice[1][:200] and "2026-Q3" in voice[1][:200] and "4.2" in voice[1][:200]
    customer = page.split("<h3>Customer satisfaction</h3>")[1].split("<h3>")[0]
    assert 'data-testid="customer-voice"' in customer
    login_as(org.rep)
    assert client.get("/peers/settings").status_code == 403
    assert client.post("/peers/settings", data={"metric": ""}).status_code == 403


def test_a_cycle_whose_peer_deadline_has_passed_is_not_launched(org):
    """Launched with the peers' last day already behind it, the review promised answers 'once
    at least 3 have answered' that nobody could ever give."""
    from reviewapp.cycles.services import LaunchRefused, launch, save_cycle
    from tests.peers.conftest import peer_draft

    cycle = save_cycle(org.hr, None, peer_draft(org, due_days=-1))
    with pytest.raises(LaunchRefused) as refused:
        launch(org.hr, cycle)
    assert any("last day to answer" in p and "has passed" in p
               for p in refused.value.problems)
