"""Every review action, by every role, in every state up to calibration: allowed only where
the workflow says; refused otherwise with 403 (wrong person) or a clear message (wrong state),
and a refusal changes nothing."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from reviewapp import policy
from reviewapp.audit.models import AuditEvent
from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.errors import ActionUnavailable, NotAllowed
from reviewapp.extensions import db
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


# What an allowed action must leave behind, written independently of the policy's table.
EFFECT = {
    "save_self": lambda r: r.state == ReviewState.SELF_REVIEW and r.achievements == "a",
    "submit_self": lambda r: r.state == ReviewState.MANAGER_REVIEW and r.self_submitted_at,
    "skip_self": lambda r: r.state == ReviewState.MANAGER_REVIEW and r.self_skipped,
    "save_manager": lambda r: r.state == ReviewState.MANAGER_REVIEW and r.strengths == "s",
    "submit_manager": lambda r: r.state == ReviewState.CALIBRATION and r.manager_submitted_at,
    "override_kpi": lambda r: r.kpi_scores[0].override_score == 4,
}


def _fresh(review: Review) -> Review:
    db.session.expire_all()
    return db.session.get(Review, review.id)


@pytest.mark.parametrize("state", STATES, ids=lambda s: s.value)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_by_role_and_state(org, review_in, state, action):
    """Every actor tries the action; refusals first (they change nothing), the allowed one last."""
    review = review_in(state)
    before = (review.state, review.version)
    allowed = [a for a in ACTORS if (a, action, state) in ALLOWED]
    for actor in [a for a in ACTORS if a not in allowed]:
        if WHO_MAY[action] == actor:
            with pytest.raises(ActionUnavailable) as refused:
                ACTIONS[action](getattr(org, actor), review)
            assert "only possible while the review is" in refused.value.message
        else:
            with pytest.raises(NotAllowed):
                ACTIONS[action](getattr(org, actor), review)
        db.session.rollback()
        review = _fresh(review)
        assert (review.state, review.version) == before, f"{actor} changed the review"
    for actor in allowed:
        ACTIONS[action](getattr(org, actor), review)
        db.session.commit()
        review = _fresh(review)
        assert EFFECT[action](review), f"{actor} {action} in {state}: no effect"
        assert review.version > before[1], "an allowed change must move the version on"
        events = db.session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.entity_type == "review", AuditEvent.entity_id == review.id)).all()
        assert events, "an allowed change is audited"


def test_the_table_names_exactly_the_allowed_cases(org, review_in):
    """policy.allowed_review_actions agrees with the hand-written ALLOWED set."""
    for state in STATES:
        review = review_in(state)
        for actor in ACTORS:
            got = {a.value for a in policy.allowed_review_actions(
                getattr(org, actor), review, today=review.cycle.self_due + timedelta(1))}
            expected = {a for (who, a, s) in ALLOWED if who == actor and s == state}
            assert got & set(ACTIONS) == expected, (actor, state)
        db.session.delete(review.cycle)
        db.session.commit()
