"""A one-way review action in a browser: the native dialog asks, "Go back" changes nothing,
confirming submits; the rep then reads what happens next."""

from playwright.sync_api import expect

from reviewapp.extensions import db as _db
from reviewapp.reviews.models import Review, ReviewState
from tests.reviews.conftest import launched, validated  # noqa: F401  (fixtures)


def test_the_dialog_asks_before_the_self_assessment_goes(page, browser_login, launched, db):  # noqa: F811
    review, org = launched.review, launched.org
    browser_login(org.rep)
    page.goto(f"/reviews/{review.id}")
    for fieldset in page.locator("fieldset.rating").all():
        fieldset.get_by_label("4").check()
    for note in page.locator("textarea[name^=self_note_]").all():
        note.fill("Kept my key accounts through the re-organisation.")

    page.get_by_role("button", name="Submit to my manager").click()
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(
        f"You are about to submit your self-assessment to {org.lead.name}")
    dialog.get_by_role("button", name="Go back").click()
    expect(dialog).to_be_hidden()
    _db.session.expire_all()
    assert _db.session.get(Review, review.id).state == ReviewState.SELF_REVIEW

    page.get_by_role("button", name="Submit to my manager").click()
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Your self-assessment is submitted.")).to_be_visible()
    expect(page.get_by_test_id("rep-next")).to_contain_text(f"{org.lead.name} writes your review")
    _db.session.expire_all()
    assert _db.session.get(Review, review.id).state == ReviewState.MANAGER_REVIEW
