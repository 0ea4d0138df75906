"""Peer feedback fixtures: a launched cycle that asks peers (no KPIs, so no validation run is
needed), Rita's review in it, and colleagues to ask."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from reviewapp.auth.models import Role
from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.extensions import db
from reviewapp.peers.services import PeerSettings
from reviewapp.reviews.models import Review
from tests.factories import create_user

PEER_NAMES = ["Pia Peer", "Paul Peer", "Petra Peer", "Pavel Peer"]


def peer_draft(org, *, due_days: int = 8, enabled: bool = True, minimum: int = 3,
               reviewers: int = 5, name: str = "Peer cycle") -> CycleDraft:
    today = date.today()
    return CycleDraft(
        name=name, period="2026-Q3", self_due=today + timedelta(days=5),
        manager_due=today + timedelta(days=10), calibration_due=today + timedelta(days=15),
        acknowledgement_due=today + timedelta(days=20), team_ids=[org.team.id],
        competency_ids=[c.id for c in ensure_default_competencies()],
        peer=PeerSettings(enabled, reviewers, minimum, today + timedelta(days=due_days)))


def launch_peer_cycle(org, **settings) -> SimpleNamespace:
    """Team Alpha's cycle asking peers; colleagues in another team to ask."""
    peers = [create_user(Role.REP, name=n, manager=org.other_manager, team=org.other_team,
                         commit=False) for n in PEER_NAMES]
    cycle = save_cycle(org.hr, None, peer_draft(org, **settings))
    launch(org.hr, cycle)
    db.session.commit()
    review = db.session.scalar(sa.select(Review).where(Review.rep_id == org.rep.id))
    return SimpleNamespace(org=org, cycle=cycle, review=review, peers=peers)


@pytest.fixture
def peer_cycle(org):
    return launch_peer_cycle(org)
