"""The demo has peer input on several reviews of its current cycle, and a customer voice."""

import sqlalchemy as sa

from reviewapp.auth.models import User
from reviewapp.cycles.models import Cycle
from reviewapp.demo.reviews import CYCLE_NAME
from reviewapp.metrics.models import Observation
from reviewapp.peers.models import PeerAnswer, PeerRequest
from reviewapp.reviews.models import Review


def _review_of(db, name: str) -> Review:
    return db.session.scalar(sa.select(Review).join(User, User.id == Review.rep_id)
                             .join(Cycle, Cycle.id == Review.cycle_id)
                             .where(User.name == name, Cycle.name == CYCLE_NAME))


def _person(db, name: str) -> User:
    return db.session.scalar(sa.select(User).where(User.name == name))


def _counts(db) -> tuple:
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                 for m in (PeerRequest, PeerAnswer, Observation))


def test_demo_peer_feedback(runner, db, client, login_as):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "peer feedback: 6 reviews, 15 answers" in result.output
    reviewed = db.session.scalars(sa.select(PeerAnswer.review_id).distinct()).all()
    assert len(reviewed) >= 5

    marcus = _person(db, "Marcus Cole")
    grace = _review_of(db, "Grace Liu")
    page = login_as(marcus).get(f"/reviews/{grace.id}").get_data(as_text=True)
    assert "4 peers answered (of 4 asked)" in page and "median" in page
    assert 'data-testid="customer-voice"' in page and "CSAT" in page
    for name in ("Priya Shah", "Ana Lima", "Jon Park", "Ben Carter"):  # asked, never linked
        assert f"<td>{name}</td><td>asked</td>" in page
    tasks = client.get("/dashboard").get_data(as_text=True)
    assert "Approve the colleagues Pedro Alves nominated" in tasks

    hana = _review_of(db, "Hana Sato")
    page = login_as(_person(db, "Sofia Marin")).get(f"/reviews/{hana.id}").get_data(
        as_text=True)
    assert "Not enough responses to keep them anonymous" in page

    hr = _person(db, "Hannah Reed")
    calibration = login_as(hr).get(f"/cycles/{grace.cycle_id}/calibration").get_data(
        as_text=True)
    differs = calibration.split('data-testid="peer-differs"')[1].split("</table>")[0]
    assert "Lena Vogel" in differs and "Collaboration" in differs

    omar = _review_of(db, "Omar Haddad")
    tasks = login_as(_person(db, "Priya Shah")).get("/dashboard").get_data(as_text=True)
    assert "Give feedback on Omar Haddad" in tasks
    assert login_as(_person(db, "Priya Shah")).get(f"/reviews/{omar.id}").status_code == 404

    before = _counts(db)
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "peer feedback: already loaded" in again.output
    assert _counts(db) == before
