"""One-way review actions ask first: an unconfirmed POST changes no state (a draft typed on the
way is saved) and answers with a confirmation page; only the confirmed POST moves the review."""

import re

from reviewapp.policy import REVIEW_ACTIONS
from reviewapp.reviews.confirmations import ONE_WAY
from reviewapp.reviews.models import ReviewState as S
from tests.reviews.test_decisions import CONFIRMED, _hr, in_calibration  # noqa: F401
from tests.reviews.test_workflow import fresh, manager_form, self_form


def _hidden(html: str) -> dict[str, str]:
    """The hidden fields of the confirmation page's form."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def test_every_confirmed_action_is_a_transition_of_the_policy_table():
    assert ONE_WAY and all(REVIEW_ACTIONS[a].to is not None for a in ONE_WAY)


def test_unconfirmed_self_submission_saves_the_draft_and_asks(client, launched, login_as, db):
    review = launched.review
    login_as(review.rep)
    data = self_form(review, action="submit", achievements="Renewed Hansen early.")
    del data["confirm"]
    response = client.post(f"/reviews/{review.id}/self", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="confirmation"' in html
    assert "You are about to submit your self-assessment to" in html
    assert "you can no longer edit it" in html
    assert f'href="/reviews/{review.id}"' in html and "Go back" in html
    assert 'data-testid="draft-saved"' in html
    after = fresh(db, review.id)
    assert after.state == S.SELF_REVIEW and after.self_submitted_at is None
    assert after.achievements == "Renewed Hansen early."  # nothing typed is lost

    # The page's form repeats the POST with confirm=1 and the version the save moved on to.
    hidden = _hidden(html)
    assert hidden["confirm"] == "1" and hidden["action"] == "submit"
    assert hidden["version"] == str(after.version)
    assert hidden["achievements"] == "Renewed Hansen early."
    confirmed = client.post(f"/reviews/{review.id}/self", data=hidden)
    assert confirmed.status_code == 302
    assert fresh(db, review.id).state == S.MANAGER_REVIEW


def test_saving_a_draft_never_asks(client, launched, login_as, db):
    review = launched.review
    login_as(review.rep)
    response = client.post(f"/reviews/{review.id}/self", data=self_form(review))
    assert response.status_code == 302


def test_unconfirmed_manager_submission_keeps_the_review_in_manager_review(
        client, launched, login_as, db):
    review = launched.review
    login_as(review.rep)
    assert client.post(f"/reviews/{review.id}/self",
                       data=self_form(review, action="submit")).status_code == 302
    login_as(review.manager)
    data = manager_form(fresh(db, review.id), action="submit", reconciliation_note="Explained.",
                        strengths="Calm in escalations.")
    del data["confirm"]
    response = client.post(f"/reviews/{review.id}/manager", data=data)
    assert response.status_code == 200
    assert "You are about to submit your review of" in response.get_data(as_text=True)
    after = fresh(db, review.id)
    assert after.state == S.MANAGER_REVIEW and after.strengths == "Calm in escalations."
    hidden = _hidden(response.get_data(as_text=True))
    assert client.post(f"/reviews/{review.id}/manager", data=hidden).status_code == 302
    assert fresh(db, review.id).state == S.CALIBRATION


def test_share_and_finalise_ask_first(client, in_calibration, login_as, db):  # noqa: F811
    review = in_calibration
    login_as(_hr(db))
    asked = client.post(f"/reviews/{review.id}/share")
    assert asked.status_code == 200
    assert "You are about to share the review with" in asked.get_data(as_text=True)
    assert fresh(db, review.id).state == S.CALIBRATION
    assert client.post(f"/reviews/{review.id}/share", data=CONFIRMED).status_code == 302
    assert fresh(db, review.id).state == S.SHARED

    login_as(review.rep)
    client.post(f"/reviews/{review.id}/acknowledge",
                data={"typed_name": review.rep.name, "read_confirmed": "1"})
    login_as(_hr(db))
    asked = client.post(f"/reviews/{review.id}/finalize")
    assert asked.status_code == 200
    assert "only HR can reopen it" in asked.get_data(as_text=True)
    assert fresh(db, review.id).state == S.ACKNOWLEDGED
    assert client.post(f"/reviews/{review.id}/finalize", data=CONFIRMED).status_code == 302
    assert fresh(db, review.id).state == S.FINALIZED


def test_whoever_may_not_act_is_refused_not_asked(client, in_calibration, login_as, db):  # noqa: F811
    review = in_calibration
    login_as(review.rep)
    assert client.post(f"/reviews/{review.id}/share").status_code == 403
    login_as(review.manager)  # may share only when the cycle lets managers share
    refused = client.post(f"/reviews/{review.id}/share")
    assert refused.status_code == 422
    assert 'data-testid="confirmation"' not in refused.get_data(as_text=True)
    assert fresh(db, review.id).state == S.CALIBRATION


def test_the_buttons_carry_the_question_for_the_dialog(client, launched, login_as):
    review = launched.review
    login_as(review.rep)
    html = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    button = re.search(r'<button[^>]*value="submit"[^>]*>Submit to my manager', html).group(0)
    assert 'data-confirm="You are about to submit your self-assessment to' in button
    assert "/static/js/confirm.js" in html


def test_the_cycle_pages_bulk_buttons_ask_first(client, in_calibration, login_as, db):  # noqa: F811
    login_as(_hr(db))
    html = client.get(f"/cycles/{in_calibration.cycle_id}").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/cycles/\d+/share-all"[^>]*>', html).group(0)
    assert ('data-confirm="Share the calibrated review with its rep? Each rep is told and '
            'can read their ratings and notes; a shared review cannot be unshared."') in form
    form = re.search(r'<form method="post" action="/cycles/\d+/close"[^>]*>', html).group(0)
    assert "data-confirm=\"Close " in form
