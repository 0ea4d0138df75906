"""Steps of peer feedback through the pages, shared by the peer tests."""

import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.peers.models import PeerRequest
from reviewapp.reviews.models import Review


def fresh_review(review_id: int) -> Review:
    db.session.expire_all()
    return db.session.get(Review, review_id)


def requests_on(review) -> list[PeerRequest]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(PeerRequest).where(
        PeerRequest.review_id == review.id).order_by(PeerRequest.id)))


def request_of(review, peer) -> PeerRequest:
    return next(r for r in requests_on(review) if r.peer_id == peer.id)


def nominate(client, login_as, review, peers, expect: int = 302):
    login_as(review.rep)
    response = client.post(f"/peers/reviews/{review.id}/nominate",
                           data={"peers": [str(p.id) for p in peers]})
    assert response.status_code == expect, response.get_data(as_text=True)[:500]
    return response


def approve(client, login_as, review, expect: int = 302):
    login_as(review.manager)
    response = client.post(f"/peers/reviews/{review.id}/approve")
    assert response.status_code == expect, response.get_data(as_text=True)[:500]
    return response


def answer_form(review, ratings=None, example="Saw it in the {c} hand-over.") -> dict:
    """A rating and an example per competency ("none": not observed)."""
    data = {}
    for competency in review.cycle.competencies:
        rating = (ratings or {}).get(competency.name, "4")
        data[f"rating_{competency.id}"] = rating
        data[f"example_{competency.id}"] = example.format(c=competency.name) \
            if rating != "none" else ""
    return data


def answer(client, login_as, review, peer, expect: int = 302, **form):
    login_as(peer)
    request = request_of(review, peer)
    response = client.post(f"/peers/requests/{request.id}/answer",
                           data=answer_form(review, **form))
    assert response.status_code == expect, response.get_data(as_text=True)[:800]
    return response


def asked(client, login_as, review, peers):
    """The rep nominates the peers and the manager approves them."""
    nominate(client, login_as, review, peers)
    approve(client, login_as, review)


def move(review, state, *, manager_rating: int = 3):
    """Move the review on directly (with what the constraints need), as the route tests do."""
    from datetime import UTC, datetime

    from reviewapp.reviews.states import ReviewState

    review = fresh_review(review.id)
    now = datetime.now(UTC)
    review.self_submitted_at = review.self_submitted_at or now
    for rating in review.ratings:
        rating.self_rating, rating.self_note = 4, "My own evidence."
        if state.rank >= ReviewState.MANAGER_REVIEW.rank:
            rating.manager_rating, rating.manager_note = manager_rating, "Seen in the quarter."
    if state.rank >= ReviewState.CALIBRATION.rank:
        review.manager_submitted_at = now
    if state.rank >= ReviewState.SHARED.rank:
        review.shared_at = now
    if state == ReviewState.FINALIZED:
        review.finalized_at = now
    db.session.flush()
    review.state = state
    db.session.commit()
    return review
