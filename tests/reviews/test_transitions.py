"""Every review action, by every role, in every state up to calibration: allowed only where
the workflow says; refused otherwise with 403 (wrong person) or a clear message (wrong state),
and a refusal changes nothing."""

from datetime import date, timedelta

import pytest
from werkzeug.exceptions import Forbidden

from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.reviews.cycles import CycleDraft, ensure_default_competencies, launch, save_cycle
from reviewapp.reviews.models import Review, ReviewState
from reviewapp.reviews.services import (
    ManagerAssessment,
    SelfAssessment,
    override_kpi,
    save_manager,
    save_self,
    skip_self,
    submit_manager,
    submit_self,
)
from tests.reviews.cycle_fixtures import kpis_fixture  # noqa: F401

STATES = [ReviewState.SELF_REVIEW, ReviewState.MANAGER_REVIEW, ReviewState.CALIBRATION]
ACTORS = ["rep", "lead", "boss", "hr", "rep2"]


def _self_data(review):
    return SelfAssessment("a", "b", "c", {r.cycle_competency_id: (4, "evidence")
                                          for r in review.ratings})


def _manager_data(review):
    return ManagerAssessment("s", "d", "o", "reconciled", {r.cycle_competency_id: (3, "note")
                                                           for r in review.ratings})


ACTIONS = {
    "save_self": lambda actor, r: save_self(actor, r, _self_data(r), expected_version=None),
    "submit_self": lambda actor, r: (save_self(actor, r, _self_data(r), expected_version=None),
                                     submit_self(actor, r)),
    "skip_self": lambda actor, r: skip_self(actor, r, today=r.cycle.self_due + timedelta(1)),
    "save_manager": lambda actor, r: save_manager(actor, r, _manager_data(r),
                                                  expected_version=None),
    "submit_manager": lambda actor, r: (save_manager(actor, r, _manager_data(r),
                                                     expected_version=None),
                                        submit_manager(actor, r)),
    "override_kpi": lambda actor, r: override_kpi(actor, r, r.kpi_scores[0].id, 4, "because"),
}
ALLOWED = {
    ("rep", "save_self", ReviewState.SELF_REVIEW),
    ("rep", "submit_self", ReviewState.SELF_REVIEW),
    ("lead", "skip_self", ReviewState.SELF_REVIEW),
    ("lead", "save_manager", ReviewState.MANAGER_REVIEW),
    ("lead", "submit_manager", ReviewState.MANAGER_REVIEW),
    ("lead", "override_kpi", ReviewState.MANAGER_REVIEW),
}
WHO_MAY = {"save_self": "rep", "submit_self": "rep", "skip_self": "lead",
           "save_manager": "lead", "submit_manager": "lead", "override_kpi": "lead"}


@pytest.fixture
def review_in(kpis):
    """Build Rita's review in a given state through the workflow itself."""
    org = kpis.org

    def _in(state: ReviewState) -> Review:
        today = date.today()
        cycle = save_cycle(org.hr, None, CycleDraft(
            name="Transitions", period="2026-Q3", self_due=today + timedelta(days=3),
            manager_due=today + timedelta(days=6), calibration_due=today + timedelta(days=9),
            acknowledgement_due=today + timedelta(days=12), team_ids=[org.team.id],
            competency_ids=[c.id for c in ensure_default_competencies()],
            kpis=[(kpis.meetings.id, 20.0, 1.0)]))
        launch(org.hr, cycle)
        review = db.session.scalar(db.select(Review).where(Review.rep_id == org.rep.id))
        if state.rank >= ReviewState.MANAGER_REVIEW.rank:
            ACTIONS["submit_self"](org.rep, review)
        if state.rank >= ReviewState.CALIBRATION.rank:
            ACTIONS["submit_manager"](org.lead, review)
        db.session.commit()
        assert review.state == state
        return review

    return _in


@pytest.mark.parametrize("state", STATES, ids=lambda s: s.value)
@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("actor", ACTORS)
def test_action_by_role_and_state(org, review_in, state, action, actor):
    review = review_in(state)
    user = getattr(org, actor)
    before = (review.state, review.version)
    if (actor, action, state) in ALLOWED:
        ACTIONS[action](user, review)
        db.session.commit()
        return
    if WHO_MAY[action] == actor:
        with pytest.raises(ServiceError) as refused:
            ACTIONS[action](user, review)
        assert "only possible during" in refused.value.message
    else:
        with pytest.raises(Forbidden):
            ACTIONS[action](user, review)
    db.session.rollback()
    db.session.expire_all()
    fresh = db.session.get(Review, review.id)
    assert (fresh.state, fresh.version) == before
