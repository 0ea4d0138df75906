"""Calibration lists a rating more than 1.5 points from the peers' median, with the examples,
for the reviews the viewer sees in full."""

import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.reviews.models import Review
from reviewapp.reviews.states import ReviewState
from tests.peers.helpers import answer, asked, move


def test_peer_view_differs_is_listed_with_the_examples(client, login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    for i, peer in enumerate(peers[:3]):
        answer(client, login_as, review, peer, ratings={"Collaboration": "1"},
               example=f"Example {{c}} number {i}.")
    move(review, ReviewState.CALIBRATION, manager_rating=4)
    for who in ("hr", "lead", "boss"):
        page = login_as(getattr(org, who)).get(
            f"/cycles/{review.cycle_id}/calibration").get_data(as_text=True)
        table = page.split('data-testid="peer-differs"')[1].split("</table>")[0]
        assert org.rep.name in table and "Collaboration" in table
        assert "Example Collaboration number 0." in table  # the examples, without names
        assert "Relationships" not in table  # 4 against peers' 4: no difference
        assert not any(p.name in table for p in peers)


def test_nothing_is_listed_for_people_the_viewer_does_not_see(client, login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    for peer in peers[:3]:
        answer(client, login_as, review, peer, ratings={"Collaboration": "1"})
    move(review, ReviewState.CALIBRATION, manager_rating=4)
    ravi = db.session.scalar(sa.select(Review).where(Review.rep_id == org.rep2.id))
    move(ravi, ReviewState.CALIBRATION)
    page = login_as(org.other_manager).get(
        f"/cycles/{review.cycle_id}/calibration").get_data(as_text=True)
    assert org.rep.name not in page and "Saw it in the" not in page
