"""Accessibility on the demo organisation, in a browser.

axe-core (through axe-playwright-python, which ships axe's script inside the package: nothing is
fetched) finds no serious or critical violation on any page in the navigation, for each role, nor
on the pages behind it that people spend their time on: a review as the rep, her manager and HR,
calibration, a cycle, a KPI run, the goal tree, the new-goal form, the import preview, the login
page (empty and with its errors) and the confirmation dialog. And a rep logs in, opens her
review, rates every competency and submits her self-assessment with the keyboard alone, seeing
where the focus is at every step.

Cheap on purpose: the demo is loaded once for the module (without its PDF records, which take
most of `flask demo load`'s time and have no HTML page), one logged-in context per role, each
page loaded once.
"""


import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from reviewapp.auth.models import Role, User
from reviewapp.cycles.models import Cycle
from reviewapp.demo.people import DEMO_PASSWORD
from reviewapp.extensions import db
from reviewapp.kpis.models import RunScope, ValidationRun
from reviewapp.reviews.models import Review, ReviewState
from tests.e2e.demo_data import load_demo_without_records, log_in_as_demo

# Unlike the phone and print checks (marked `layout`), these run on both databases: the pages
# are read from each one, and #17 asks for the accessibility checks on SQLite and PostgreSQL.

BLOCKING = ("serious", "critical")
AXE = Axe()
IN_FLIGHT = 3  # pages being checked at once


@pytest.fixture(scope="module")
def demo(module_app):
    """Who logs in and which pages they open, picked from the demo's latest cycle."""
    load_demo_without_records(module_app)

    def reviews(state):
        return list(db.session.scalars(sa.select(Review).where(Review.state == state)
                                       .order_by(Review.id)))

    writing = reviews(ReviewState.SELF_REVIEW)
    managing = reviews(ReviewState.MANAGER_REVIEW)[0]
    calibrating = reviews(ReviewState.CALIBRATION)[0]
    run = db.session.scalar(sa.select(ValidationRun).where(
        ValidationRun.scope == RunScope.ORGANISATION).order_by(ValidationRun.id.desc()))
    hr = db.session.scalar(sa.select(User).where(User.role == Role.HR_ADMIN).order_by(User.id))
    cycle = db.session.get(Cycle, managing.cycle_id)
    return {
        "users": {Role.HR_ADMIN: hr, Role.MANAGER: managing.manager, Role.REP: writing[0].rep},
        "keyboard_rep": writing[1].rep,
        # Pages outside the navigation, by role (the rep's own review is in her navigation).
        "extra": {
            Role.HR_ADMIN: [("Review in calibration", f"/reviews/{calibrating.id}"),
                            ("Calibration", f"/cycles/{cycle.id}/calibration"),
                            ("Cycle", f"/cycles/{cycle.id}"),
                            ("Goal tree", "/goals/tree"),
                            ("KPI run", f"/kpis/runs/{run.id}")],
            Role.MANAGER: [("Review to write", f"/reviews/{managing.id}"),
                           ("Calibration", f"/cycles/{cycle.id}/calibration"),
                           ("New goal", "/goals/new")],
            Role.REP: [],
        },
    }


@pytest.fixture(scope="module")
def new_page(browser, live_server):
    """Pages in contexts of their own (one per role), closed at the end of the module."""
    contexts = []

    def _new_page():
        context = browser.new_context(base_url=live_server,
                                      viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield _new_page
    for context in contexts:
        context.close()


def _start_axe(page) -> None:
    """Start axe on the page without waiting: the browser checks it while the next page loads."""
    page.evaluate(AXE.axe_script)
    page.evaluate("() => { window.__axe = axe.run({resultTypes: ['violations']}); }")


def _axe_result(page) -> list[str]:
    return _blocking(page.evaluate("() => window.__axe"))


def _blocking_violations(page) -> list[str]:
    return _blocking(AXE.run(page).response)


def _blocking(response: dict) -> list[str]:
    """Serious and critical axe violations: the rule, the first elements, and why the first."""
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(" ".join(n["target"]) for n in v["nodes"][:4])
            + f" [{' '.join(v['nodes'][0].get('failureSummary', '').split())[:200]}]"
            for v in response["violations"] if v["impact"] in BLOCKING]


def test_the_login_page_has_no_serious_violation(new_page):
    page = new_page()
    page.goto("/auth/login")
    assert _blocking_violations(page) == []
    page.get_by_role("button", name="Log in").click()  # empty: the form with its errors
    expect(page.locator(".error").first).to_be_visible()
    assert _blocking_violations(page) == []


def test_an_error_page_has_no_serious_violation(new_page):
    """The big 404 was #c4cbe0 on white (1.6:1), below even large text's 3:1."""
    page = new_page()
    assert page.goto("/no-such-page").status == 404
    assert _blocking_violations(page) == []


@pytest.mark.parametrize("role", [Role.HR_ADMIN, Role.MANAGER, Role.REP], ids=lambda r: r.value)
def test_every_page_of_a_role_has_no_serious_violation(new_page, live_server, demo, role):
    page = new_page()
    outside = []
    page.context.on("request", lambda request: None if request.url.startswith(live_server)
                    or request.url.startswith(("data:", "blob:")) else outside.append(request.url))
    log_in_as_demo(page, demo["users"][role])
    links = [(a.inner_text(), a.get_attribute("href"))
             for a in page.locator("#main-menu a").all()]
    assert len(links) >= 3
    pages = links + [("Profile", page.locator(".me a").first.get_attribute("href"))]
    found = {}
    # A few tabs of the one logged-in context, each page loaded once: axe runs in one tab while
    # the next loads in another.
    tabs = [page] + [page.context.new_page() for _ in range(IN_FLIGHT - 1)]
    checking = {}

    def collect(tab):
        if tab in checking:
            if violations := _axe_result(tab):
                found[checking[tab]] = violations
            del checking[tab]

    for i, (label, href) in enumerate(pages + demo["extra"][role]):
        tab = tabs[i % IN_FLIGHT]
        collect(tab)
        response = tab.goto(href)
        assert response.ok, f"{label} ({href}) answered {response.status}"
        _start_axe(tab)
        checking[tab] = f"{label} ({href})"
    for tab in tabs:
        collect(tab)
    if role == Role.MANAGER:  # the import preview: a file with an unknown column to map
        page.goto("/metrics/import")
        rep = demo["users"][Role.REP]
        csv = f"rep_email,period,meetings,Mtgs\n{rep.email},2026-Q1,20,9\n"
        page.get_by_label("Data file (CSV or XLSX)").set_input_files(
            files=[{"name": "q1.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
        page.get_by_role("button", name="Upload and preview").click()
        expect(page.get_by_test_id("layout")).to_have_text("wide")
        if violations := _blocking_violations(page):
            found[f"Import preview ({page.url})"] = violations
    assert not found, f"serious or critical axe violations as {role.value}: {found}"
    assert outside == [], "the pages (or axe) fetched something from outside the app"


# The focused element, and whether it shows that it is: on screen, not transparent, with an
# outline or a ring of box-shadow.
FOCUS = """() => {
  const e = document.activeElement, s = getComputedStyle(e), box = e.getBoundingClientRect();
  const seen = e.checkVisibility({opacityProperty: true, visibilityProperty: true})
    && box.width >= 8 && box.height >= 8;
  const ring = seen && ((s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
    || s.boxShadow !== 'none');
  return {tag: e.tagName.toLowerCase(), type: e.type || '', name: e.name || '',
          value: e.value || '', checked: !!e.checked, empty: !e.value,
          text: (e.innerText || e.value || '').trim().slice(0, 60),
          dialog: !!e.closest('dialog'), ring};
}"""


def _focused(page) -> dict:
    focused = page.evaluate(FOCUS)
    assert focused["ring"], f"the focus is not visible on {focused}"
    return focused


def _tab_to(page, wanted, limit: int = 80, back: bool = False) -> dict:
    """Press Tab (Shift+Tab) until `wanted(focused)` holds; every stop must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        focused = _focused(page)
        if wanted(focused):
            return focused
    raise AssertionError(f"Tab never reached the element; last focused: {focused}")


def test_a_rep_submits_her_self_assessment_with_the_keyboard_alone(new_page, demo):
    rep = demo["keyboard_rep"]
    page = new_page()
    page.goto("/auth/login")
    # The email field has the focus when the page opens.
    assert _focused(page)["name"] == "email"
    page.keyboard.type(rep.email)
    _tab_to(page, lambda f: f["name"] == "password")
    page.keyboard.type(DEMO_PASSWORD)
    _tab_to(page, lambda f: f["text"] == "Log in")
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard")

    _tab_to(page, lambda f: f["tag"] == "a" and f["text"] == "My review")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Submit to my manager")).to_be_visible()

    # Walk the form: each rating group is one Tab stop; Space picks, the arrow keys move.
    groups = page.locator("form[data-rating-form=self] fieldset.rating").count()
    assert groups >= 3
    rated = set()
    while True:
        focused = _tab_to(page, lambda f: (f["type"] == "radio"
                                           and f["name"].startswith("self_rating_")
                                           and f["name"] not in rated)
                          or (f["tag"] == "button" and f["text"] == "Submit to my manager"))
        if focused["tag"] == "button":
            break
        if not focused["checked"]:
            page.keyboard.press("Space")
        for _ in range(5):
            focused = _focused(page)
            if focused["value"] == "4":
                break
            page.keyboard.press("ArrowRight" if int(focused["value"]) < 4 else "ArrowLeft")
        assert focused["checked"] and focused["value"] == "4"
        rated.add(focused["name"])
        evidence = _tab_to(page, lambda f: f["tag"] == "textarea")
        if evidence["empty"]:
            page.keyboard.type("Kept my key accounts through the re-organisation.")
    assert len(rated) == groups
    expect(page.locator("[data-rated]")).to_have_text(str(groups))

    # Back up once and forward again (Shift+Tab), then submit with Enter.
    _tab_to(page, lambda f: f["text"] == "Save draft", back=True)
    _tab_to(page, lambda f: f["text"] == "Submit to my manager")
    page.on("dialog", lambda dialog: dialog.accept())  # a browser without <dialog>
    page.keyboard.press("Enter")
    dialog = page.get_by_test_id("confirm-dialog")
    try:
        dialog.wait_for(state="visible", timeout=3_000)
    except Exception:  # noqa: BLE001  (no in-page question: the native one was accepted)
        pass
    else:
        assert _blocking_violations(page) == [], "the confirmation dialog"
        focused = _focused(page)
        if focused["text"] != "Confirm":
            focused = _tab_to(page, lambda f: f["dialog"] and f["text"] == "Confirm")
        page.keyboard.press("Enter")
    expect(page.get_by_text("Your self-assessment is submitted.")).to_be_visible()
    db.session.expire_all()
    review = db.session.scalar(sa.select(Review).where(Review.rep_id == rep.id)
                               .order_by(Review.id.desc()))
    assert review.state == ReviewState.MANAGER_REVIEW
    assert {r.self_rating for r in review.ratings} == {4}
