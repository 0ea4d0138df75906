"""Phones and print on the demo organisation: at 390 px every page in the navigation, for each
role, fits the screen (no sideways page scroll), the menu folds behind "Menu", and a printed
review has no navigation and no buttons."""

import pytest
import sqlalchemy as sa

from reviewapp.auth.models import Role, User
from reviewapp.extensions import db
from reviewapp.reviews.models import Review, ReviewState
from tests.e2e.demo_data import load_demo_without_records, log_in_as_demo

pytestmark = pytest.mark.layout  # see tests/e2e/conftest.py: once per make test

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def demo(module_app):
    """The demo, loaded once for the module; the first HR admin, manager and rep."""
    load_demo_without_records(module_app)
    return {role: db.session.scalar(sa.select(User).where(User.role == role).order_by(User.id))
            for role in (Role.HR_ADMIN, Role.MANAGER, Role.REP)}


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _too_wide(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


# The outermost elements that stick out on the right, to say what to fix.
CULPRITS = """() => Array.from(document.querySelectorAll('body *')).filter(e => {
  if (e.getBoundingClientRect().right <= innerWidth + 1) return false;
  for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') return false;
  }
  return true;
}).slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + e.className + ' ' +
  Math.round(e.getBoundingClientRect().right))"""


@pytest.mark.parametrize("role", [Role.HR_ADMIN, Role.MANAGER, Role.REP], ids=lambda r: r.value)
def test_every_page_in_the_navigation_fits_a_phone(phone, demo, role):
    log_in_as_demo(phone, demo[role])
    menu = phone.locator("#main-menu")
    assert not menu.is_visible()  # folded behind "Menu"
    phone.get_by_text("Menu", exact=True).click()
    assert menu.is_visible()
    links = [(a.inner_text(), a.get_attribute("href"))
             for a in menu.locator("a").all()]
    assert len(links) >= 3
    wide = {}
    for label, href in links + [("Profile", phone.locator(".me a").first.get_attribute("href"))]:
        phone.goto(href)
        width = _too_wide(phone)
        if width > PHONE["width"]:
            wide[f"{label} ({href})"] = (width, phone.evaluate(CULPRITS))
    assert not wide, f"wider than {PHONE['width']} px as {role.value}: {wide}"


def test_a_review_fits_a_phone_and_prints_without_navigation(phone, demo):
    review = db.session.scalar(sa.select(Review).where(
        Review.state == ReviewState.MANAGER_REVIEW).order_by(Review.id))
    log_in_as_demo(phone, review.manager)
    phone.goto(f"/reviews/{review.id}")
    assert _too_wide(phone) <= PHONE["width"]
    stats = phone.locator("[data-testid=scores] .stat").all()
    tops = [s.bounding_box()["y"] for s in stats[:2]]
    assert tops[0] == tops[1]  # two stat cards per row
    phone.emulate_media(media="print")
    assert not phone.locator("header.topbar").is_visible()
    assert not phone.get_by_role("navigation").is_visible()
    visible_buttons = [b for b in phone.locator("button, .button").all() if b.is_visible()]
    assert visible_buttons == []
    assert phone.get_by_test_id("scores").is_visible()


def test_the_pages_below_the_navigation_fit_a_phone_even_with_long_words(phone, demo):
    """A pasted ID in a check-in note and in a review made those pages 3,800 px wide; the
    goal page's cards, the cycle page's actions and the goal tree's columns did not fit."""
    from reviewapp.cycles.models import Cycle, CycleStatus
    from reviewapp.goals.models import CheckIn
    from reviewapp.kpis.models import ValidationRun

    word = "x" * 400
    check_in = db.session.scalar(sa.select(CheckIn).order_by(CheckIn.id))
    check_in.note = f"See {word}"
    review = db.session.scalar(sa.select(Review).where(
        Review.state == ReviewState.CALIBRATION).order_by(Review.id))
    review.achievements = f"Renewed {word}"
    db.session.commit()
    cycle = db.session.scalar(sa.select(Cycle).where(Cycle.status == CycleStatus.LAUNCHED))
    run = db.session.scalar(sa.select(ValidationRun.id).order_by(ValidationRun.id))
    pages = {demo[Role.HR_ADMIN]: [f"/cycles/{cycle.id}", f"/kpis/runs/{run}",
                                   f"/goals/{check_in.goal_id}", f"/reviews/{review.id}",
                                   "/goals/tree?period=all"],
             review.manager: [f"/reviews/{review.id}", "/goals/tree?period=all"]}
    wide = {}
    for user, urls in pages.items():
        log_in_as_demo(phone, user)
        for url in urls:
            phone.goto(url)
            if _too_wide(phone) > PHONE["width"]:
                wide[f"{user.email} {url}"] = (_too_wide(phone), phone.evaluate(CULPRITS))
        phone.context.clear_cookies()
    assert not wide, wide


def test_the_forms_fit_a_phone(phone, demo):
    """A fieldset is as wide as its widest row by default: the goal form was 502 px wide, the
    adjust form 420 and HR's new-cycle editor 597, with the KPI targets cut off."""
    from reviewapp.goals.models import Goal, GoalState

    goal = db.session.scalar(sa.select(Goal).where(
        Goal.state == GoalState.ACTIVE, Goal.owner_id.is_not(None)).order_by(Goal.id))
    manager = db.session.get(User, goal.owner.manager_id)
    pages = {demo[Role.HR_ADMIN]: ["/cycles/new"],
             manager: ["/goals/new", f"/goals/{goal.id}/adjust", f"/goals/{goal.id}/edit"]}
    wide = {}
    for user, urls in pages.items():
        log_in_as_demo(phone, user)
        for url in urls:
            response = phone.goto(url)
            assert response.status == 200, url
            if _too_wide(phone) > PHONE["width"]:
                wide[f"{user.email} {url}"] = (_too_wide(phone), phone.evaluate(CULPRITS))
        phone.context.clear_cookies()
    assert not wide, wide
