"""Bad input is refused with a message on the right form field, and nothing is saved."""

from datetime import date

import pytest
import sqlalchemy as sa

from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.goals.checkins import add_check_in
from reviewapp.goals.models import Goal
from reviewapp.goals.services import GoalDraft, check_parent, create_goal, update_goal
from tests.goals.conftest import IN_Q3, Q3, agreed_checklist, draft, set_goal


def goal_count() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(Goal.id)))


def refused(actor, field: str, **fields) -> str:
    """Creating the goal fails on `field`; nothing is saved; return the message."""
    before = goal_count()
    with pytest.raises(ServiceError) as caught:
        create_goal(actor, draft(**fields))
    assert caught.value.field == field, caught.value.message
    assert goal_count() == before
    return caught.value.message


def test_target_equal_to_start(org, metrics):
    message = refused(org.lead, "target_value", owner_id=org.rep.id,
                      metric_id=metrics["revenue"].id, start_value=100, target_value=100)
    assert "target equals the start" in message


def test_dates_outside_the_quarter(org, metrics):
    message = refused(org.lead, "end_date", owner_id=org.rep.id, kind="percent",
                      start_date=date(2026, 8, 1), end_date=date(2026, 10, 15))
    assert "2026-10-15 is outside the period 2026-Q3" in message


def test_custom_dates_in_the_wrong_order(org):
    refused(org.lead, "end_date", owner_id=org.rep.id, kind="percent", quarter=None,
            start_date=date(2026, 9, 1), end_date=date(2026, 8, 1))


def test_milestone_due_outside_the_period(org):
    message = refused(org.lead, "milestones", owner_id=org.rep.id, kind="checklist",
                      milestones="2026-12-01 Launch")
    assert "outside the goal's period" in message


def test_a_metric_the_owner_has_no_data_for(org, metrics):
    message = refused(org.boss, "metric", owner_id=org.boss_rep.id,
                      metric_id=metrics["revenue"].id, start_value=0, target_value=10)
    assert message.startswith("Bob Direct has no Revenue data yet")


def test_a_rep_proposing_a_goal_for_someone_else(org, metrics):
    message = refused(org.rep, "owner", owner_id=org.rep2.id, kind="percent")
    assert "only for yourself" in message
    refused(org.rep, "team", scope="team", team_id=org.team.id, kind="percent")


def test_a_manager_outside_the_reporting_line(org):
    refused(org.other_manager, "owner", owner_id=org.rep.id, kind="percent")
    refused(org.other_manager, "team", scope="team", team_id=org.team.id, kind="percent")
    refused(org.lead, "owner", owner_id=org.boss_rep.id, kind="percent")


def test_a_parent_in_another_period(org):
    team_goal = set_goal(org.lead, scope="team", team_id=org.team.id, kind="percent",
                         quarter="2026-Q4", title="Q4 team goal")
    message = refused(org.lead, "parent", owner_id=org.rep.id, kind="percent",
                      parent_id=team_goal.id)
    assert "runs 2026-Q4 and this goal 2026-Q3" in message


def test_individual_goals_align_to_team_goals_of_their_own_team(org):
    rita_goal = set_goal(org.lead, owner_id=org.rep.id, kind="percent")
    assert "is an individual goal" in refused(org.lead, "parent", owner_id=org.rep2.id,
                                              kind="percent", parent_id=rita_goal.id)
    omega = set_goal(org.other_manager, scope="team", team_id=org.other_team.id,
                     kind="percent", title="Omega goal")
    # The lead cannot see Omega's goal; even someone who can may not align Rita's goal to it.
    refused(org.lead, "parent", owner_id=org.rep.id, kind="percent", parent_id=omega.id)
    with pytest.raises(ServiceError) as caught:
        check_parent(org.hr, rita_goal, omega.id)
    assert "belongs to Omega" in caught.value.message


def test_no_cycles_in_the_alignment(org):
    top = set_goal(org.boss, scope="team", team_id=org.team.id, kind="percent", title="Top")
    middle = set_goal(org.boss, scope="team", team_id=org.team.id, kind="percent",
                      title="Middle", parent_id=top.id)
    bottom = set_goal(org.boss, scope="team", team_id=org.team.id, kind="percent",
                      title="Bottom", parent_id=middle.id)
    with pytest.raises(ServiceError) as caught:
        update_goal(org.boss, top, GoalDraft(scope="team", title="Top", kind="percent",
                                             quarter="2026-Q3", parent_id=bottom.id))
    assert caught.value.field == "parent" and "loop" in caught.value.message
    db.session.rollback()
    assert db.session.get(Goal, top.id).parent_id is None
    with pytest.raises(ServiceError):
        update_goal(org.boss, top, GoalDraft(scope="team", title="Top", kind="percent",
                                             quarter="2026-Q3", parent_id=top.id))


def test_check_in_dates_inside_the_period_and_not_in_the_future(org):
    goal = set_goal(org.lead, owner_id=org.rep.id, kind="percent")
    for day, field in ((date(2026, 10, 2), "held_on"), (date(2026, 6, 30), "held_on"),
                       (date(2026, 8, 20), "held_on")):
        with pytest.raises(ServiceError) as caught:
            add_check_in(org.rep, goal, held_on=day, confidence=3, progress=10, today=IN_Q3)
        assert caught.value.field == field
    with pytest.raises(ServiceError) as caught:
        add_check_in(org.rep, goal, held_on=IN_Q3, confidence=7, progress=10, today=IN_Q3)
    assert caught.value.field == "confidence"
    with pytest.raises(ServiceError) as caught:
        add_check_in(org.rep, goal, held_on=IN_Q3, confidence=3, progress=120, today=IN_Q3)
    assert caught.value.field == "progress"
    db.session.rollback()
    check_in = add_check_in(org.rep, goal, held_on=IN_Q3, confidence=4, progress=35,
                            note="Two modules done", today=IN_Q3)
    db.session.commit()
    assert goal.manual_percent == 35 and check_in.progress == 35


def test_form_shows_the_message_on_the_field_and_saves_nothing(client, login_as, org, metrics):
    login_as(org.lead)
    response = client.post("/goals/new?scope=individual", data={
        "owner": org.rep.id, "title": "Grow revenue", "quarter": "2026-Q3", "kind": "metric",
        "metric": metrics["revenue"].id, "start_value": "100", "target_value": "100",
        "weight": "1"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="target_value-error"' in body and "target equals the start" in body
    assert goal_count() == 0


def test_rep_form_refuses_another_owner(client, login_as, org):
    login_as(org.rep)
    response = client.post("/goals/new", data={
        "owner": org.rep2.id, "title": "Sneaky", "quarter": "2026-Q3", "kind": "percent"})
    body = response.get_data(as_text=True)
    assert 'id="owner-error"' in body and "only for yourself" in body
    assert goal_count() == 0


def test_a_check_in_recorded_late_for_an_earlier_day_does_not_move_the_goal(org):
    goal = set_goal(org.lead, owner_id=org.rep.id, kind="percent")
    add_check_in(org.rep, goal, held_on=date(2026, 8, 10), confidence=3, progress=30,
                 today=IN_Q3)
    add_check_in(org.rep, goal, held_on=date(2026, 8, 14), confidence=3, progress=10,
                 today=IN_Q3)
    add_check_in(org.rep, goal, held_on=date(2026, 7, 20), confidence=3, progress=90,
                 today=IN_Q3)  # the July meeting, written up late
    db.session.commit()
    assert db.session.get(Goal, goal.id).manual_percent == 10.0  # the latest by date


def test_a_weight_is_at_most_100(org):
    with pytest.raises(ServiceError) as caught:
        create_goal(org.lead, draft(owner_id=org.rep.id, kind="percent", weight=1e12))
    assert caught.value.field == "weight" and "at most 100" in caught.value.message
    db.session.rollback()


def test_editing_an_agreed_checklist_keeps_its_milestones(org):
    goal = agreed_checklist(org, "Onboarding",
                            "Shadow two calls\nFirst demo\n2026-09-01 First proposal")
    update_goal(org.lead, goal, draft(owner_id=org.rep.id, kind="checklist",
                                      title="Onboarding, renamed",
                                      milestones="Totally new milestone"))
    db.session.commit()
    goal = db.session.get(Goal, goal.id)
    assert goal.title == "Onboarding, renamed"
    assert [(m.title, m.done) for m in goal.milestones] == [
        ("Shadow two calls", True), ("First demo", False), ("First proposal", False)]


@pytest.mark.parametrize("fields", [{"quarter": "1900-Q1"},
                                    {"quarter": None, "start_date": date(1900, 1, 1),
                                     "end_date": date(1900, 3, 31)},
                                    {"quarter": "2099-Q4"}])
def test_a_period_far_from_today_is_refused_as_a_typo(org, fields):
    with pytest.raises(ServiceError, match="looks like a typo: a goal's period lies within 5"):
        create_goal(org.lead, draft(owner_id=org.rep.id, **fields))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Goal)) == 0


def test_the_edit_form_of_an_agreed_checklist_shows_its_milestones_read_only(client, login_as,
                                                                             org):
    """The form used to offer a milestones box whose changes were silently dropped."""
    goal = agreed_checklist(org, "Onboarding", "Shadow two calls\n2026-09-01 First proposal")
    login_as(org.lead)
    page = client.get(f"/goals/{goal.id}/edit").get_data(as_text=True)
    assert 'name="milestones"' not in page
    assert "Done: Shadow two calls" in page
    assert "To do: First proposal" in page and "due 1 Sep 2026" in page
    assert "keeps its milestones as agreed" in page


@pytest.mark.parametrize("fields", [
    lambda org: {"owner": org.outsider.id},  # another manager's rep
    lambda org: {"owner": org.other_manager.id},  # another manager
    lambda org: {"owner": org.hr.id},
    lambda org: {"scope": "team", "team": org.other_team.id},
])
def test_a_refusal_never_names_someone_outside_the_managers_people(client, login_as, org,
                                                                    fields):
    """Posting other ids to the goal form listed everyone's names one by one ('Olga
    Outsider is not in your people')."""
    chosen = fields(org)
    login_as(org.lead)
    data = {"scope": "individual", "title": "Probe", "kind": "percent", "quarter": Q3,
            "weight": "1", **chosen}
    page = client.post("/goals/new" + ("?scope=team" if "team" in chosen else ""),
                       data=data).get_data(as_text=True)
    assert 'value="Probe"' in page  # the form again, with what was typed
    for person in (org.outsider, org.other_manager, org.hr):
        assert person.name not in page
    assert org.other_team.name not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Goal)) == 0


def test_the_same_check_in_sent_twice_is_saved_once(client, login_as, org):
    """A double POST (a second tab, a resubmitted page: what the page's script cannot stop)
    recorded the check-in twice."""
    goal = set_goal(org.lead, owner_id=org.rep.id, kind="percent", title="Certify")
    login_as(org.rep)
    form = {"held_on": IN_Q3.isoformat(), "confidence": "4", "progress": "40",
            "note": "Module two done."}
    assert client.post(f"/goals/{goal.id}/check-ins", data=form).status_code == 302
    again = client.post(f"/goals/{goal.id}/check-ins", data=form)
    assert again.status_code == 422 and "is saved already" in again.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.get(Goal, goal.id).check_ins) == 1
