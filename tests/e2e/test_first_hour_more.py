"""In a browser: code samples stay inside their cards at 1280 and 390 px; the cycle editor's
extra people narrow as you type, and what is ticked stays in view."""

import pytest
from playwright.sync_api import expect

# Each <pre>: how far it sticks out of its card, and how much of it is hidden sideways.
OVERFLOW = """() => Array.from(document.querySelectorAll('pre')).map(pre => {
  const card = pre.closest('.card').getBoundingClientRect();
  return [Math.round(pre.getBoundingClientRect().right - card.right),
          pre.scrollWidth - pre.clientWidth];
})"""


@pytest.mark.parametrize("width", [1280, 390])
def test_code_samples_stay_inside_their_cards(page, browser_login, org, width):
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(org.hr)
    for url in ("/metrics/import", "/account/tokens"):
        page.goto(url)
        boxes = page.evaluate(OVERFLOW)
        assert boxes, url
        assert all(out <= 0 and hidden <= 0 for out, hidden in boxes), (url, boxes)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, url


def test_extra_people_narrow_as_you_type(page, browser_login, org):
    browser_login(org.hr)
    page.goto("/cycles/new")
    people = page.locator("[data-checklist]")
    people.get_by_label("Bob Direct (Alpha)").check()
    expect(people.locator("[data-checklist-count]")).to_have_text("1 ticked.")
    people.get_by_role("searchbox").fill("omega")
    expect(people.get_by_label("Olga Outsider (Omega)")).to_be_visible()
    expect(people.get_by_label("Rita Rep (Alpha)")).to_be_hidden()
    expect(people.get_by_label("Bob Direct (Alpha)")).to_be_visible()  # ticked: stays
    people.get_by_role("searchbox").fill("nobody like this")
    people.get_by_role("searchbox").press("Enter")  # narrows only: the form is not sent
    expect(people.get_by_role("searchbox")).to_have_value("nobody like this")
    people.get_by_label("Bob Direct (Alpha)").uncheck()
    expect(people.locator("[data-checklist-none]")).to_be_visible()
