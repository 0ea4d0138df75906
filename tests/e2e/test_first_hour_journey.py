"""The first hour in a browser: a refused self-assessment shows every problem in a summary that
has focus; the rep reads what she submitted; the manager's scores follow the ratings live."""

from playwright.sync_api import expect

from reviewapp.extensions import db as _db
from reviewapp.reviews.models import Review, ReviewState
from reviewapp.reviews.scoring import combine, format_score
from reviewapp.reviews.services import scores_of
from tests.reviews.conftest import launched, validated  # noqa: F401  (fixtures)


def test_summary_self_assessment_and_live_scores(page, browser_login, launched, db):  # noqa: F811
    review, org = launched.review, launched.org
    page.on("dialog", lambda dialog: dialog.accept())
    count = len(review.ratings)

    browser_login(org.rep)
    page.goto(f"/reviews/{review.id}")
    progress = page.locator("form[data-rating-form=self] [data-rating-progress]")
    expect(progress).to_have_text(f"0 of {count} competencies rated")
    first = page.locator("fieldset.rating").first
    first.get_by_label("3").check()
    expect(progress).to_have_text(f"1 of {count} competencies rated")
    page.get_by_role("button", name="Submit to my manager").click()
    page.get_by_test_id("confirm-dialog").get_by_role("button", name="Confirm").click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_focused()
    # every competency: one rating missing per unrated one, a note missing for each
    expect(summary.get_by_role("link")).to_have_count(2 * count - 1)
    summary.get_by_role("link").first.click()
    expect(page.locator("textarea[name^=self_note_]").first).to_be_focused()

    for fieldset in page.locator("fieldset.rating").all():
        fieldset.get_by_label("4").check()
    for note in page.locator("textarea[name^=self_note_]").all():
        note.fill("Kept my key accounts through the re-organisation.")
    page.get_by_role("button", name="Submit to my manager").click()
    page.get_by_test_id("confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Your self-assessment is submitted.")).to_be_visible()
    submitted = page.get_by_test_id("self-assessment")
    expect(submitted.get_by_text("Kept my key accounts through the re-organisation.")
           ).to_have_count(count)
    expect(page.get_by_test_id("self-submitted-at")).to_contain_text("UTC")
    page.get_by_role("button", name="Log out").click()

    _db.session.expire_all()
    fresh = _db.session.get(Review, review.id)
    assert fresh.state == ReviewState.MANAGER_REVIEW
    quant = scores_of(fresh).quant
    browser_login(org.lead)
    page.goto(f"/reviews/{review.id}")
    form = page.locator("form[data-rating-form=manager]")
    expect(form.locator("[data-rating-progress]")).to_have_text(
        f"0 of {count} competencies rated")
    expect(page.get_by_test_id("overall-side")).to_have_text("(KPIs only)")
    for rating in (5, 1):
        for fieldset in form.locator("fieldset.rating").all():
            fieldset.get_by_label(str(rating)).check()
        expected = combine([(quant, 1.0)], [rating] * count, fresh.cycle.quant_weight)
        expect(page.get_by_test_id("qual-score")).to_have_text(format_score(float(rating)))
        expect(page.get_by_test_id("overall-score")).to_have_text(format_score(expected.overall))
        expect(page.get_by_test_id("overall-side")).to_have_text("")
        divergence = page.get_by_test_id("divergence")
        (expect(divergence).to_be_visible() if expected.divergent
         else expect(divergence).to_be_hidden())
    expect(form.locator("[data-rating-progress]")).to_have_text(
        f"{count} of {count} competencies rated")
    assert any(combine([(quant, 1.0)], [r] * count, 0.5).divergent for r in (5, 1))
