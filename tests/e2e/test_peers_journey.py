"""Peer feedback in a browser: the rep nominates three colleagues, the manager approves them,
the three answer from their dashboards, and the manager sees their view beside each competency
while writing the review, without a name."""

import re

from playwright.sync_api import expect

from reviewapp.reviews.services import SelfAssessment, save_self, submit_self
from tests.peers.conftest import peer_cycle  # noqa: F401  (fixture)
from tests.reviews.test_workflow import fresh


def _submit_self(db, review_id: int) -> None:
    review = fresh(db, review_id)
    save_self(review.rep, review, SelfAssessment(
        "Closed the Hansen deal.", "On track.", "Negotiation.",
        {r.cycle_competency_id: (4, "Kept three key accounts.") for r in review.ratings}),
        expected_version=None)
    submit_self(review.rep, review)
    db.session.commit()


def _log_out(page):
    page.get_by_role("button", name="Log out").click()


def test_nominate_approve_answer_and_read_the_aggregate(page, browser_login, db,
                                                        peer_cycle):  # noqa: F811
    org, review, peers = peer_cycle.org, peer_cycle.review, peer_cycle.peers[:3]

    # The rep nominates three colleagues from her review.
    browser_login(org.rep)
    page.goto(f"/reviews/{review.id}")
    form = page.get_by_test_id("nominate-form")
    form.get_by_label("Colleagues who see your work").select_option(
        [f"{p.name} ({org.other_team.name})" for p in peers])
    form.get_by_role("button", name="Nominate").click()
    expect(page.get_by_text("Your nominations went to your manager")).to_be_visible()
    expect(page.get_by_test_id("peer-requests")).to_contain_text(
        "waiting for the manager's approval")
    _log_out(page)
    _submit_self(db, review.id)  # the review moves on to the manager

    # The manager approves from the to-do list.
    browser_login(org.lead)
    page.get_by_role("link", name=re.compile(f"Approve the colleagues {org.rep.name}")).click()
    page.get_by_role("button", name="Approve and ask 3 nominated colleagues").click()
    expect(page.get_by_text("have been asked for feedback")).to_be_visible()
    expect(page.get_by_test_id("peer-status")).to_contain_text(
        "Not enough responses to keep them anonymous")
    _log_out(page)

    # Each peer answers from their dashboard: a rating and an example per competency.
    competencies = [c.name for c in review.cycle.competencies]
    for n, peer in enumerate(peers):
        browser_login(peer)
        page.get_by_role("link", name=re.compile(f"Give feedback on {org.rep.name}")).click()
        form = page.get_by_test_id("answer-form")
        for name in competencies:
            rating = "4" if n < 2 else "2"
            form.locator("fieldset", has_text=f"Your rating of {name}").get_by_label(
                rating, exact=True).check()
            form.get_by_label(f"Example for {name}").fill(
                f"Peer {n} saw {name.lower()} on the Hansen renewal.")
        form.get_by_role("button", name="Send my answer").click()
        expect(page.get_by_text("Your answer is in")).to_be_visible()
        expect(page.get_by_test_id("own-answer")).to_be_visible()
        _log_out(page)

    # The manager reads the peers' view beside each competency while reviewing.
    browser_login(org.lead)
    page.goto(f"/reviews/{review.id}")
    expect(page.get_by_test_id("peer-status")).to_have_text("3 peers answered (of 3 asked).")
    first = review.cycle.competencies[0]
    beside = page.get_by_test_id(f"peer-aggregate-{first.id}")
    expect(beside).to_contain_text("median 4")
    expect(beside).to_contain_text("rated by 3")
    expect(beside).to_contain_text("2: 1 · 3: 0 · 4: 2")
    beside.get_by_text("3 examples").click()
    expect(beside).to_contain_text(f"Peer 0 saw {first.name.lower()} on the Hansen renewal.")
    for peer in peers:
        expect(beside).not_to_contain_text(peer.name)
    expect(page.get_by_role("button", name="Submit to calibration")).to_be_visible()
