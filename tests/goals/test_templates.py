"""Templates: save a goal as one; assign it to reps or a whole team, all or nothing."""

import pytest
import sqlalchemy as sa

from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.goals.goal_templates import AssignmentError, assign_template, save_template
from reviewapp.goals.models import Goal, GoalState, GoalTemplate
from tests.goals.conftest import Q3, observe, set_goal


def goals_from(template) -> list[Goal]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(Goal).where(Goal.template_id == template.id)))


@pytest.fixture
def template(org, metrics):
    goal = set_goal(org.lead, owner_id=org.rep.id, metric_id=metrics["revenue"].id,
                    start_value=0, target_value=300, title="Revenue from renewals")
    saved = save_template(org.lead, goal)
    db.session.commit()
    return saved


def assign(actor, template, **kwargs):
    values = {"rep_ids": [], "team_id": None, "quarter": Q3, "start_date": None,
              "end_date": None}
    values.update(kwargs)
    return assign_template(actor, template, **values)


def test_save_as_template_keeps_the_measure_not_the_owner(template, metrics):
    assert template.title == "Revenue from renewals"
    assert template.metric_id == metrics["revenue"].id
    assert (template.start_value, template.target_value) == (0, 300)


def test_assign_to_selected_reps(org, template):
    plan = assign(org.lead, template, rep_ids=[org.rep.id, org.rep2.id], target_value=250)
    db.session.commit()
    created = goals_from(template)
    assert plan.ok and len(plan.rows) == 2 and len(created) == 2
    assert {g.owner_id for g in created} == {org.rep.id, org.rep2.id}
    assert all(g.state == GoalState.ACTIVE and g.target_value == 250 for g in created)
    # Rita already had the goal the template was saved from: a warning, not a block.
    warned = {r.rep_name: [w.kind for w in r.warnings] for r in plan.rows}
    assert warned == {"Rita Rep": ["duplicate"], "Ravi Rep": []}


def test_all_or_nothing_when_one_rep_cannot_get_it(org, template):
    # The boss assigns to the whole of Alpha; Bob Direct has no revenue data.
    with pytest.raises(AssignmentError) as caught:
        assign(org.boss, template, team_id=org.team.id)
    plan = caught.value.plan
    assert [r.rep_name for r in plan.rows if r.errors] == ["Bob Direct"]
    assert "no Revenue data" in plan.rows[0].errors[0]
    assert len(goals_from(template)) == 0


def test_with_data_for_everyone_the_whole_team_gets_it(org, metrics, template):
    observe(org.boss_rep, metrics["revenue"], "2026-07", 50)
    assign(org.boss, template, team_id=org.team.id)
    db.session.commit()
    assert len(goals_from(template)) == 3


def test_reps_outside_the_managers_people_are_refused(org, template):
    with pytest.raises(ServiceError) as caught:
        assign(org.lead, template, rep_ids=[org.outsider.id])
    assert caught.value.field == "reps"
    with pytest.raises(ServiceError) as caught:
        assign(org.lead, template, team_id=org.other_team.id)
    assert caught.value.field == "team"
    with pytest.raises(ServiceError) as caught:
        assign(org.lead, template)
    assert caught.value.field == "reps"


def test_preview_saves_nothing_and_confirm_saves_all(client, login_as, org, template):
    login_as(org.lead)
    url = f"/goals/templates/{template.id}/assign"
    assert client.get(url).status_code == 200
    data = {"reps": [org.rep.id, org.rep2.id], "quarter": Q3, "start_value": "0",
            "target_value": "300"}
    body = client.post(url, data={**data, "action": "preview"}).get_data(as_text=True)
    assert 'data-testid="assignment-preview"' in body and "Assign to 2 reps" in body
    assert len(goals_from(template)) == 0
    response = client.post(url, data={**data, "action": "confirm"})
    assert response.status_code == 302
    assert len(goals_from(template)) == 2


def test_failed_confirm_through_the_page_saves_nothing(client, login_as, org, template):
    login_as(org.boss)
    url = f"/goals/templates/{template.id}/assign"
    # The template belongs to the lead: the boss does not see it.
    assert client.get(url).status_code == 404
    mine = GoalTemplate(title="Mine", kind=template.kind, metric_id=template.metric_id,
                        start_value=0, target_value=300, milestones=[],
                        created_by_id=org.boss.id)
    db.session.add(mine)
    db.session.commit()
    url = f"/goals/templates/{mine.id}/assign"
    response = client.post(url, data={"team": org.team.id, "quarter": Q3, "action": "confirm"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "nothing was assigned" in body
    assert "Bob Direct" in body
    assert len(goals_from(mine)) == 0


def test_assigning_a_template_again_to_the_same_reps_and_period_is_refused(org, template):
    """Sent twice (a double click, a resubmitted page), every rep got the goal twice: 200
    agreed goals for 100 reps. A rep who has a goal from this template in the period is told
    so, and nothing is assigned."""
    assign(org.lead, template, rep_ids=[org.rep2.id])
    db.session.commit()
    with pytest.raises(AssignmentError) as caught:
        assign(org.lead, template, rep_ids=[org.rep2.id])
    (row,) = caught.value.plan.rows
    assert "already has this template's goal" in row.errors[0]
    assert [g.owner_id for g in goals_from(template)] == [org.rep2.id]
