"""What the rep and the manager see of peers' answers: only an aggregate per competency, only
once enough peers have answered and no more can, never a name."""

from datetime import date, timedelta

import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.peers.aggregate import Round, differs, summarise
from reviewapp.reviews.states import ReviewState
from tests.peers.helpers import answer, asked, move, nominate, request_of

NOT_ENOUGH = "Not enough responses to keep them anonymous"


def test_summarise_counts_median_and_sorted_examples():
    rows = [(1, 4, "b example"), (1, 2, "A example"), (1, 5, "c example"), (1, None, ""),
            (2, 3, "only one")]
    out = summarise(rows, [1, 2, 3], minimum=3)
    assert out[1].shown and out[1].rated == 3 and out[1].not_observed == 1
    assert out[1].distribution == (0, 1, 0, 1, 1) and out[1].median == 4.0
    assert out[1].examples == ("A example", "b example", "c example")  # not answer order
    assert not out[2].shown and out[2].examples == () and out[2].median is None
    assert out[3].rated == 0 and not out[3].shown
    assert differs(2, out[1]) and not differs(3, out[1]) and not differs(1, out[2])


def test_a_round_is_shown_once_complete():
    today = date(2026, 10, 1)
    pending = Round(asked=4, pending=1, answered=3, minimum=3, due=today)
    assert pending.enough() and not pending.closed(today) and not pending.shown(today)
    assert pending.shown(today + timedelta(days=1))  # the deadline passed: no more answers
    complete = Round(asked=4, pending=0, answered=3, minimum=3, due=today)
    assert complete.shown(today)
    few = Round(asked=3, pending=0, answered=2, minimum=3, due=today)
    assert not few.shown(today + timedelta(days=9))


def _page(client, login_as, user, review) -> tuple[int, str]:
    response = login_as(user).get(f"/reviews/{review.id}")
    return response.status_code, response.get_data(as_text=True)


def test_fewer_than_the_minimum_shows_nothing(client, login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    answer(client, login_as, review, peers[0], example="Unique example {c} from Pia.")
    answer(client, login_as, review, peers[1], example="Unique example {c} from Paul.")
    request = request_of(review, peers[2])
    login_as(peers[2])
    client.post(f"/peers/requests/{request.id}/decline", data={"reason": "Not my area."})
    move(review, ReviewState.MANAGER_REVIEW)
    status, page = _page(client, login_as, org.lead, review)
    assert status == 200 and NOT_ENOUGH in page
    assert "Unique example" not in page and "peer-median" not in page


def test_enough_answers_wait_for_the_round_to_close(client, login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers)
    for peer in peers[:3]:
        answer(client, login_as, review, peer, example=f"Unique example {{c}} by {peer.id}.")
    move(review, ReviewState.MANAGER_REVIEW)
    _, page = _page(client, login_as, org.lead, review)
    assert "Enough peers have answered" in page and "Unique example" not in page
    # The fourth answers: the round is complete and shown, once.
    answer(client, login_as, review, peers[3], example="Unique example {c} by the fourth.")
    _, page = _page(client, login_as, org.lead, review)
    assert "4 peers answered (of 4 asked)" in page and "Unique example" in page
    relationships = next(c for c in review.cycle.competencies if c.name == "Relationships")
    assert f'data-testid="peer-median-{relationships.id}">median 4' in page
    # A complete round cannot grow: adding someone would expose their answer by difference.
    outsider = org.boss_rep
    response = login_as(org.lead).post(f"/peers/reviews/{review.id}/add",
                                       data={"peer": str(outsider.id)})
    assert response.status_code == 422 and "complete and shown" in response.get_data(
        as_text=True)


def test_who_sees_the_aggregate_when(client, login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    for peer in peers[:3]:
        answer(client, login_as, review, peer, example="Unique example {c}.")
    seen = {}
    for state in (ReviewState.SELF_REVIEW, ReviewState.MANAGER_REVIEW, ReviewState.CALIBRATION,
                  ReviewState.SHARED):
        if state != ReviewState.SELF_REVIEW:
            move(review, state)
        for who in ("rep", "lead", "boss", "hr"):
            status, page = _page(client, login_as, getattr(org, who), review)
            seen[(state.value, who)] = status == 200 and "Unique example" in page
    assert [k for k, v in seen.items() if v] == [
        ("manager_review", "lead"), ("calibration", "lead"), ("calibration", "boss"),
        ("calibration", "hr"), ("shared", "rep"), ("shared", "lead"), ("shared", "boss"),
        ("shared", "hr")]


def test_a_competency_few_peers_rated_is_not_shown(client, login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    answer(client, login_as, review, peers[0], ratings={"Learning": "5"},
           example="Example {c} one.")
    for peer in peers[1:3]:
        answer(client, login_as, review, peer, ratings={"Learning": "none"},
               example="Example {c} other.")
    move(review, ReviewState.MANAGER_REVIEW)
    _, page = _page(client, login_as, org.lead, review)
    assert "Example Learning one." not in page
    assert "Fewer than 3 peers rated this" in page and "Example Relationships one." in page


def test_the_rep_sees_who_was_asked_never_who_answered(client, login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    answer(client, login_as, review, peers[0])
    _, page = _page(client, login_as, org.rep, review)
    for peer in peers[:3]:
        assert f"<td>{peer.name}</td><td>asked</td>" in page
    assert "answered" not in page.split('id="peers"')[1].split("</section>")[0].replace(
        "has answered", "").replace("have answered", "")


def test_a_cycle_without_peer_feedback_asks_nobody(client, login_as, org):
    from tests.peers.conftest import launch_peer_cycle

    cycle = launch_peer_cycle(org, enabled=False)
    review = cycle.review
    _, page = _page(client, login_as, org.rep, review)
    assert 'id="peers"' not in page
    response = nominate(client, login_as, review, cycle.peers[:3], expect=422)
    assert "does not ask peers" in response.get_data(as_text=True)
    assert db.session.scalar(sa.text("SELECT count(*) FROM peer_requests")) == 0
