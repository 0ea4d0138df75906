"""Goals are shown in a review for context and never enter any score."""

import pytest

from reviewapp.goals.services import GoalDraft, create_goal
from reviewapp.reviews.models import Review
from reviewapp.reviews.services import refresh_scores
from tests.reviews.test_workflow import manager_form, submit_self


def _scores(review: Review) -> tuple:
    return review.quant_score, review.qual_score, review.overall_score


def test_goal_progress_never_changes_a_score(client, launched, login_as, db):
    review, org = launched.review, launched.org
    submit_self(client, login_as, review)
    login_as(org.lead)
    db.session.expire_all()
    review = db.session.get(Review, review.id)
    client.post(f"/reviews/{review.id}/manager", data=manager_form(review, rating="3"))
    db.session.expire_all()
    review = db.session.get(Review, review.id)
    before = _scores(review)
    assert before[1] == pytest.approx(3.0)

    # A goal on a KPI metric in the cycle's period, far past its target.
    meetings = launched.metrics["meetings"]
    goal, _ = create_goal(org.lead, GoalDraft(
        scope="individual", owner_id=org.rep.id, title="Book discovery meetings",
        kind="metric", quarter=launched.cycle.period_label, metric_id=meetings.id,
        start_value=0, target_value=1))
    db.session.commit()

    body = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Book discovery meetings" in body and "context — not scored" in body
    refresh_scores(review)
    db.session.commit()
    assert _scores(review) == pytest.approx(before)
