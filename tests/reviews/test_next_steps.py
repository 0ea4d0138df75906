"""No dead ends: after submitting, the manager is offered the next review waiting for them and
the way back to the cycle, the rep reads what happens next, and HR sees the state, the deadline
and who acts next (read from policy.REVIEW_ACTIONS)."""

import re
from datetime import date, timedelta

from reviewapp.policy import Party, ReviewAction
from reviewapp.reviews.models import Review
from reviewapp.reviews.models import ReviewState as S
from reviewapp.reviews.next_steps import next_steps
from tests.reviews.test_decisions import (  # noqa: F401  (fixtures)
    _hr,
    acknowledged,
    in_calibration,
    shared,
)
from tests.reviews.test_workflow import fresh, manager_form, self_form


def _panel(html: str) -> str:
    found = re.search(r'<section class="card" data-testid="next-steps">.*?</section>', html, re.S)
    return found.group(0) if found else ""


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _review_of(db, rep) -> Review:
    return db.session.scalar(db.select(Review).where(Review.rep_id == rep.id))


def _submit_self(client, login_as, db, rep):
    review = _review_of(db, rep)
    login_as(rep)
    response = client.post(f"/reviews/{review.id}/self", data=self_form(review, action="submit"))
    assert response.status_code == 302
    return review


def test_after_submitting_the_manager_is_offered_the_next_review(client, launched, login_as, db):
    org = launched.org
    rita = _submit_self(client, login_as, db, org.rep)
    ravi = _submit_self(client, login_as, db, org.rep2)
    login_as(org.lead)
    response = client.post(f"/reviews/{rita.id}/manager", follow_redirects=True, data=manager_form(
        fresh(db, rita.id), action="submit", reconciliation_note="Explained."))
    assert response.status_code == 200
    panel = _panel(response.get_data(as_text=True))
    assert f'href="/reviews/{ravi.id}"' in panel
    assert f"Next review waiting for you: {org.rep2.name}" in _text(panel)
    assert f'href="/cycles/{launched.cycle.id}">Back to the cycle' in panel

    # Ravi's is the manager's turn: no panel there; once submitted nothing else waits.
    ravi_page = client.get(f"/reviews/{ravi.id}").get_data(as_text=True)
    assert _panel(ravi_page) == ""
    client.post(f"/reviews/{ravi.id}/manager", data=manager_form(
        fresh(db, ravi.id), action="submit", reconciliation_note="Explained."))
    assert fresh(db, ravi.id).state == S.CALIBRATION
    panel = _panel(client.get(f"/reviews/{ravi.id}").get_data(as_text=True))
    assert 'data-testid="none-waiting"' in panel and "Back to the cycle" in panel


def test_after_submitting_the_rep_reads_what_happens_next(client, launched, login_as, db):
    org = launched.org
    review = _submit_self(client, login_as, db, org.rep)
    html = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    text = _text(_panel(html))
    assert f"{org.lead.name} writes your review now" in text
    assert f"{org.lead.name} (reviewing manager): sending the review to calibration" in text
    assert "Manager review due" in text
    assert "Back to the cycle" not in text  # the cycle's page is not the rep's


def test_hr_sees_state_deadline_and_who_acts_next(client, launched, login_as, db):
    org, review = launched.org, launched.review
    hr = _hr(db)
    login_as(hr)
    text = _text(_panel(client.get(f"/reviews/{review.id}").get_data(as_text=True)))
    assert "State Self-assessment" in text
    assert f"Self-assessment due: {launched.cycle.self_due:%d %b %Y}" in text
    assert f"{org.rep.name} (rep): submitting the self-assessment" in text
    # Before the deadline the manager may not move on yet, so only the rep is named.
    assert "moving on" not in text


def test_the_manager_may_move_on_once_the_self_deadline_passed(launched, db):
    review = launched.review
    steps = next_steps(review, today=review.cycle.self_due + timedelta(days=1))
    assert [(s.action, s.party) for s in steps] == [
        (ReviewAction.SUBMIT_SELF, Party.REVIEWEE), (ReviewAction.SKIP_SELF, Party.REVIEWER)]
    assert steps[1].names == (review.manager.name,)


def test_hr_acts_in_calibration_and_after_the_acknowledgement(client, acknowledged, login_as,  # noqa: F811
                                                               db):
    hr = _hr(db)
    steps = next_steps(acknowledged)
    assert [(s.action, s.party) for s in steps] == [(ReviewAction.FINALIZE, Party.HR)]
    assert hr.name in steps[0].names
    login_as(hr)
    text = _text(_panel(client.get(f"/reviews/{acknowledged.id}").get_data(as_text=True)))
    assert "(HR): finalising the review" in text and hr.name in text


def test_shared_waits_for_the_rep_until_the_acknowledgement_deadline(shared, db):  # noqa: F811
    before = next_steps(shared, today=date.today())
    assert [s.party for s in before] == [Party.REVIEWEE]
    after = next_steps(shared, today=shared.cycle.acknowledgement_due + timedelta(days=1))
    assert [s.party for s in after] == [Party.REVIEWEE, Party.HR]
