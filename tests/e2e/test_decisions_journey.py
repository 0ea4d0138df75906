"""After the manager's review, in a browser: HR adjusts a rating in calibration with a reason
and shares; the rep acknowledges with a comment; HR finalises, after which the forms are
gone and the database refuses edits; HR reopens with a reason."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.exc import DBAPIError

from reviewapp.reviews.models import CompetencyRating, Review, ReviewState
from reviewapp.reviews.services import ManagerAssessment, save_manager, submit_manager
from tests.reviews.conftest import launched, validated  # noqa: F401  (fixtures)
from tests.reviews.test_workflow import fresh, submit_self


@pytest.fixture
def in_calibration(client, launched, login_as, db):  # noqa: F811
    review = launched.review
    submit_self(client, login_as, review)
    review = fresh(db, review.id)
    save_manager(review.manager, review, ManagerAssessment(
        "Calm under pressure.", "Forecasting.", "A solid quarter.", "Explained.",
        {r.cycle_competency_id: (3, "Seen in three escalations.") for r in review.ratings}),
        expected_version=None)
    submit_manager(review.manager, review)
    db.session.commit()
    return launched


def test_calibrate_share_acknowledge_finalise_reopen(page, browser_login, in_calibration, db):
    org, review = in_calibration.org, in_calibration.review
    page.on("dialog", lambda dialog: dialog.accept())

    # HR opens calibration and adjusts one rating with a reason.
    browser_login(org.hr)
    page.goto(f"/cycles/{review.cycle_id}/calibration")
    expect(page.get_by_role("heading", name=re.compile("Calibration"))).to_be_visible()
    page.goto(f"/reviews/{review.id}")
    form = page.get_by_test_id("calibration-form")
    first = form.locator("form").first
    first.get_by_label("Calibrated rating").select_option("4")
    first.get_by_role("button", name="Save calibration").click()
    expect(page.get_by_test_id("error-summary")).to_be_focused()
    expect(page.get_by_test_id("error-summary").get_by_role(
        "link", name=re.compile("Write the reason for the adjustment"))).to_be_visible()
    expect(form.get_by_text("Write the reason for the adjustment")).to_be_visible()
    first = page.get_by_test_id("calibration-form").locator("form").first
    first.get_by_label("Calibrated rating").select_option("4")
    first.get_by_label(re.compile("Reason")).fill("Two other managers saw the same level.")
    first.get_by_role("button", name="Save calibration").click()
    expect(page.get_by_text("The calibrated rating is saved")).to_be_visible()
    page.get_by_role("button", name=f"Share with {org.rep.name}").click()
    page.get_by_test_id("confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("The review is shared")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    # The rep reads it, sees the calibrated rating, and acknowledges with a comment.
    browser_login(org.rep)
    expect(page.get_by_text("has been shared with you")).to_be_visible()
    page.get_by_role("link", name=re.compile("Read and acknowledge")).click()
    expect(page.get_by_text("Changed in calibration")).to_be_visible()
    page.get_by_label("Type your full name").fill(org.rep.name)
    page.get_by_label(re.compile("Acknowledging does not mean I agree")).check()
    page.get_by_label(re.compile("Comment")).fill("Read; I want to talk about the target.")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_test_id("ack-comment")).to_have_text(
        "Read; I want to talk about the target.")
    expect(page.get_by_test_id("acknowledge-form")).to_have_count(0)
    page.get_by_role("button", name="Log out").click()

    # HR finalises: the review is read-only everywhere, and the database refuses edits.
    browser_login(org.hr)
    page.goto(f"/reviews/{review.id}")
    expect(page.get_by_text("The review will be read-only after this")).to_be_visible()
    page.get_by_role("button", name="Finalise").click()
    page.get_by_test_id("confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("finalized")).to_be_visible()
    expect(page.get_by_test_id("calibration-form")).to_have_count(0)
    db.session.expire_all()
    assert fresh(db, review.id).state == ReviewState.FINALIZED
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(sa.update(CompetencyRating).where(CompetencyRating.review_id == review.id)
                     .values(manager_rating=1))
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(sa.update(Review).where(Review.id == review.id).values(strengths="x"))

    # HR reopens with a reason; the manager can write again.
    page.get_by_label(re.compile("Reason for reopening")).fill("The target was wrong.")
    page.get_by_role("button", name="Reopen").click()
    expect(page.get_by_text("The review is reopened")).to_be_visible()
    expect(page.get_by_test_id("review-state")).to_have_text("Manager review")
    page.get_by_role("link", name="Audit trail of this review").click()
    expect(page.get_by_text("The target was wrong.")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    browser_login(org.lead)
    page.goto(f"/reviews/{review.id}")
    expect(page.get_by_role("button", name="Submit to calibration")).to_be_visible()
