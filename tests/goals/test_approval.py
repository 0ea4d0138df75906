"""A rep proposes their own goal; the manager approves it or returns it with a comment."""

import pytest
import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.goals.models import Goal, GoalState
from tests.goals.conftest import Q3


def propose(client, login_as, org, title="Learn the new CPQ tool"):
    login_as(org.rep)
    response = client.post("/goals/new", data={
        "owner": org.rep.id, "title": title, "quarter": Q3, "kind": "percent", "weight": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    return db.session.scalar(db.select(Goal).where(Goal.title == title))


def test_a_rep_proposal_starts_as_proposed(client, login_as, org):
    goal = propose(client, login_as, org)
    assert goal.state == GoalState.PROPOSED and goal.owner_id == org.rep.id
    body = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "Waiting for your manager" in body
    # The rep cannot approve their own goal, and check-ins wait for agreement.
    assert client.post(f"/goals/{goal.id}/approve").status_code == 403
    assert client.post(f"/goals/{goal.id}/check-ins", data={
        "held_on": "2026-08-01", "confidence": "3", "progress": "5"}).status_code == 422


def test_the_manager_approves(client, login_as, org):
    goal = propose(client, login_as, org)
    login_as(org.lead)
    body = client.get("/goals/").get_data(as_text=True)
    assert "Waiting for your approval (1)" in body
    assert 'data-testid="approval"' in client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert client.post(f"/goals/{goal.id}/approve", data={"comment": "Good one"}).status_code \
        == 302
    db.session.expire_all()
    goal = db.session.get(Goal, goal.id)
    assert goal.state == GoalState.ACTIVE and goal.approved_by_id == org.lead.id
    assert [c.body for c in goal.comments] == ["Good one"]
    # Approving twice is refused politely.
    client.post(f"/goals/{goal.id}/approve")
    db.session.expire_all()
    assert db.session.get(Goal, goal.id).state == GoalState.ACTIVE


def test_the_manager_returns_with_a_comment_and_the_rep_resubmits(client, login_as, org):
    goal = propose(client, login_as, org)
    login_as(org.lead)
    response = client.post(f"/goals/{goal.id}/return", data={"comment": ""})
    assert response.status_code == 422
    assert 'id="comment-error"' in response.get_data(as_text=True)
    assert client.post(f"/goals/{goal.id}/return",
                       data={"comment": "Tie it to a customer outcome"}).status_code == 302
    db.session.expire_all()
    goal = db.session.get(Goal, goal.id)
    assert goal.state == GoalState.RETURNED
    assert goal.comments[-1].body == "Tie it to a customer outcome"

    login_as(org.rep)
    assert "Returned to you" in client.get(f"/goals/{goal.id}").get_data(as_text=True)
    response = client.post(f"/goals/{goal.id}/edit", data={
        "title": "Use CPQ for every renewal", "quarter": Q3, "kind": "percent", "weight": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    goal = db.session.get(Goal, goal.id)
    assert goal.state == GoalState.PROPOSED and goal.title == "Use CPQ for every renewal"


def test_only_the_owners_managers_decide(client, login_as, org):
    goal = propose(client, login_as, org)
    login_as(org.other_manager)
    assert client.post(f"/goals/{goal.id}/approve").status_code == 404
    login_as(org.hr)
    assert client.post(f"/goals/{goal.id}/approve").status_code == 403
    login_as(org.boss)  # above the lead: may decide too
    assert client.post(f"/goals/{goal.id}/approve").status_code == 302


def test_an_agreed_goal_is_not_edited_by_the_rep(client, login_as, org):
    goal = propose(client, login_as, org)
    login_as(org.lead)
    client.post(f"/goals/{goal.id}/approve")
    login_as(org.rep)
    assert client.get(f"/goals/{goal.id}/edit").status_code == 403
    assert client.post(f"/goals/{goal.id}/delete").status_code == 403
    # ... but the rep follows it: check-ins and comments.
    assert client.post(f"/goals/{goal.id}/comments", data={"body": "On it"}).status_code == 302


def test_a_waiting_proposal_is_on_the_managers_to_do_list(client, login_as, org):
    """The dashboard said 'Nothing to do right now' while a proposal waited for them."""
    from tests.goals.conftest import set_goal

    login_as(org.lead)
    assert "Nothing to do right now" in client.get("/dashboard").get_data(as_text=True)
    proposal = set_goal(org.rep, owner_id=org.rep.id, kind="percent", title="Learn the CPQ")
    body = client.get("/dashboard").get_data(as_text=True)
    assert "Nothing to do right now" not in body
    assert f"Decide on {org.rep.name}&#39;s goal proposal: Learn the CPQ" in body
    assert f'href="/goals/{proposal.id}"' in body
    for i in range(3):
        set_goal(org.rep2, owner_id=org.rep2.id, kind="percent", title=f"Idea {i}")
    body = client.get("/dashboard").get_data(as_text=True)
    assert "Decide on 4 goal proposals of your people" in body
    login_as(org.other_manager)  # not theirs to decide
    assert "goal proposal" not in client.get("/dashboard").get_data(as_text=True)


def test_a_rep_without_a_manager_is_told_before_proposing_a_goal_nobody_could_approve(org):
    """They were told it went to 'your manager'; nobody could see or approve it."""
    import sqlalchemy as sa

    from reviewapp.errors import ServiceError
    from reviewapp.goals.models import Goal
    from reviewapp.goals.services import create_goal
    from tests.goals.conftest import draft

    org.rep.manager = None
    db.session.commit()
    with pytest.raises(ServiceError, match="no manager in ReviewApp yet") as caught:
        create_goal(org.rep, draft(owner_id=org.rep.id, kind="percent", title="Alone"))
    assert caught.value.field == "owner"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Goal)) == 0


def test_the_same_proposal_sent_twice_waits_once(client, login_as, org):
    """Sent twice, the proposal was created twice and the manager got two emails."""
    from reviewapp.errors import ServiceError
    from reviewapp.goals.services import create_goal
    from tests.goals.conftest import draft

    create_goal(org.rep, draft(owner_id=org.rep.id, kind="percent", title="Learn the CPQ"))
    db.session.commit()
    with pytest.raises(ServiceError, match="You proposed this goal already"):
        create_goal(org.rep, draft(owner_id=org.rep.id, kind="percent", title="Learn the CPQ"))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Goal)) == 1
