"""Anonymity end to end: a rep and a manager crawl every page, export and PDF they can reach.

The test that nothing ties an answer to its author: crawl, then give each answer to another of
the peers who answered (in the database), and crawl again. If anything the rep or a manager can
reach linked an answer to its author (a name or id beside it, an order, a time), the two crawls
would differ. They must be identical, while HR's page of who answered must change (so the swap
is visible wherever a link exists). Below the minimum nothing of any answer shows anywhere.
"""

import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.peers.models import PeerAnswer
from reviewapp.reviews.states import ReviewState
from tests.peers.crawl import crawl
from tests.peers.helpers import answer, asked, move, request_of

MARKERS = {"A": "2", "B": "4", "C": "5"}  # each answering peer: a marker and a rating


def _answer_all(client, login_as, review, peers):
    for (marker, rating), peer in zip(MARKERS.items(), peers, strict=False):
        ratings = {c.name: rating for c in review.cycle.competencies}
        answer(client, login_as, review, peer, ratings=ratings,
               example=f"Marker-{marker} saw {{c}} in the Hansen deal.")


def _give_answers_to_others(review, peers) -> None:
    """Each answer becomes another answering peer's (same rows, same ids, other request)."""
    requests = [request_of(review, p).id for p in peers]
    moved = {requests[i]: requests[(i + 1) % len(requests)] for i in range(len(requests))}
    rows = db.session.execute(sa.select(PeerAnswer.__table__)).mappings().all()
    db.session.execute(sa.delete(PeerAnswer))
    db.session.execute(sa.insert(PeerAnswer.__table__),
                       [{**row, "request_id": moved[row["request_id"]]} for row in rows])
    db.session.commit()


def _crawl_as(app, user) -> dict[str, str]:
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = user.get_id(), True
    return crawl(client)


def _everything(pages: dict[str, str]) -> str:
    return "\n".join(pages.values())


def test_nothing_a_rep_or_manager_reaches_ties_an_answer_to_its_author(app, client, login_as,
                                                                       peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers)
    _answer_all(client, login_as, review, peers[:3])
    login_as(peers[3])
    client.post(f"/peers/requests/{request_of(review, peers[3]).id}/decline",
                data={"reason": "Not on any of her deals."})
    move(review, ReviewState.SHARED)
    viewers = {"rep": org.rep, "manager": org.lead, "above": org.boss}

    authors = f"/peers/reviews/{review.id}/answers"
    before = {who: _crawl_as(app, user) for who, user in viewers.items()}
    hr_before = login_as(org.hr).get(authors).get_data(as_text=True)
    for who, pages in before.items():
        text = _everything(pages)
        assert f"/reviews/{review.id}" in pages, who
        assert all(f"Marker-{m}" in text for m in MARKERS), who  # the aggregate is reachable
        assert any("Marker-A" in body for url, body in pages.items() if url.endswith(".pdf"))
        for peer in peers:  # no page names a peer's request
            assert f"/peers/requests/{request_of(review, peer).id}" not in text, who
        assert "peer.answer" not in text

    _give_answers_to_others(review, peers[:3])
    after = {who: _crawl_as(app, user) for who, user in viewers.items()}
    hr_after = login_as(org.hr).get(authors).get_data(as_text=True)
    for who in viewers:
        assert before[who].keys() == after[who].keys(), who
        changed = [url for url in before[who] if before[who][url] != after[who][url]]
        assert not changed, f"{who}: these pages tie answers to authors: {changed}"
    # Where HR may see who answered, the same swap shows: the method sees a link if one exists.
    assert "Marker-A" in hr_before and hr_before != hr_after
    assert not any(authors in _everything(pages) for pages in before.values())


def test_below_the_minimum_no_answer_shows_anywhere(app, client, login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    _answer_all(client, login_as, review, peers[:2])
    login_as(peers[2])
    client.post(f"/peers/requests/{request_of(review, peers[2]).id}/decline",
                data={"reason": "Not on any of her deals."})
    move(review, ReviewState.SHARED)
    for user in (org.rep, org.lead, org.boss, org.hr):
        pages = _crawl_as(app, user)
        if user is org.hr:  # HR's page of who answered shows them, for abuse; nothing else
            assert "Marker-A" in pages.pop(f"/peers/reviews/{review.id}/answers")
        assert "Marker-" not in _everything(pages), user.name
        assert "Not enough responses to keep them anonymous" in pages[f"/reviews/{review.id}"]
