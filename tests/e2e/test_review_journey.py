"""The review chain in a browser: HR launches a cycle (refused for calls per day), the rep
self-assesses, the manager overrides a KPI and reconciles divergent scores; calibration."""

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from reviewapp.reviews.models import Review, ReviewState
from tests.reviews.conftest import validated  # noqa: F401  (fixture: data + a real KPI run)


def test_cycle_launch_self_assessment_and_manager_review(page, browser_login, validated, db):  # noqa: F811
    org = validated.org
    page.on("dialog", lambda dialog: dialog.accept())
    today = date.today()

    # HR drafts a cycle that includes calls per day, which the lab found not predictive.
    browser_login(org.hr)
    page.goto("/cycles/new")
    page.get_by_role("button", name="Add the five standard competencies").click()
    expect(page.get_by_text("The 5 standard competencies were added")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Q4 reviews")
    page.get_by_label("Period").fill("2025-Q4")
    for label, days in [("Self-assessment due", 7), ("Manager review due", 14),
                        ("Calibration due", 21), ("Acknowledgement due", 28)]:
        page.get_by_label(label).fill((today + timedelta(days=days)).isoformat())
    page.get_by_label("Alpha", exact=True).check()
    for name, target in [("Calls per day", "40"), ("Meetings", "20"), ("Proposals", "8")]:
        page.get_by_label(name, exact=True).check()
        page.get_by_label(f"Target for {name}").fill(target)
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Calls per day is not a validated KPI")).to_be_visible()
    page.get_by_role("button", name="Launch").click()
    expect(page.get_by_text("Calls per day is not a validated KPI").first).to_be_visible()
    assert db.session.scalar(db.select(db.func.count()).select_from(Review)) == 0

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Calls per day", exact=True).uncheck()
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Launch").click()
    expect(page.get_by_text(re.compile(r"launched", re.I)).first).to_be_visible()
    db.session.expire_all()
    review = db.session.scalar(db.select(Review).where(Review.rep_id == org.rep.id))
    assert review is not None and review.state == ReviewState.SELF_REVIEW
    page.get_by_role("button", name="Log out").click()

    # The rep writes and submits the self-assessment.
    browser_login(org.rep)
    page.get_by_role("link", name="My review").click()
    for fieldset in page.locator("fieldset.rating").all():
        fieldset.get_by_label("4").check()
    for note in page.locator("textarea[name^=self_note_]").all():
        note.fill("Kept my key accounts through the re-organisation.")
    page.get_by_label("Achievements this period").fill("Renewed Hansen early.")
    page.get_by_role("button", name="Submit to my manager").click()
    page.get_by_test_id("confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Your self-assessment is submitted.")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    # The manager overrides one KPI score and must reconcile before calibration.
    browser_login(org.lead)
    page.goto(f"/reviews/{review.id}")
    expect(page.get_by_text("Renewed Hansen early.")).to_be_visible()
    kpis = page.get_by_test_id("kpi-table")
    for row in kpis.locator("tbody tr").all():
        row.get_by_text("Override this score").click()
        row.get_by_label("Score").select_option("5")
        row.get_by_label("Justification").fill("Closed the two largest deals of the team.")
        row.get_by_role("button", name="Save override").click()
        expect(page.get_by_text("The KPI score was overridden")).to_be_visible()
        kpis = page.get_by_test_id("kpi-table")
    expect(page.get_by_test_id("quant-score")).to_have_text("5.00")
    form = page.locator("form", has=page.get_by_role("button", name="Submit to calibration"))
    for fieldset in form.locator("fieldset.rating").all():
        fieldset.get_by_label("2").check()
    for note in form.locator("textarea[name^=manager_note_]").all():
        note.fill("Misses handovers; two escalations this quarter.")
    page.get_by_role("button", name="Submit to calibration").click()
    page.get_by_test_id("confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Write a reconciliation note").first).to_be_visible()
    page.get_by_label(re.compile("Reconciliation note")).fill(
        "The numbers come from two inherited accounts; how the work gets done needs attention.")
    page.get_by_role("button", name="Submit to calibration").click()
    page.get_by_test_id("confirm-dialog").get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("review-state")).to_have_text("Calibration")
    db.session.expire_all()
    assert db.session.get(Review, review.id).state == ReviewState.CALIBRATION
