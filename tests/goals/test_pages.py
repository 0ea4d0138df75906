"""The goal pages in the browser's place: list, tree, a goal, forms, dashboards."""

from datetime import date

import pytest

from reviewapp import policy
from reviewapp.extensions import db
from reviewapp.goals.models import Goal, GoalState
from reviewapp.goals.queries import visible_goals
from reviewapp.metrics.periods import current_quarter
from tests.goals.conftest import make_metric, observe, set_goal

NOW = current_quarter().label


@pytest.fixture
def running(org):
    """Goals in the current quarter: a team goal with two aligned goals; one far behind."""
    revenue = make_metric("revenue", name="Revenue")
    quarter = current_quarter()
    observe(org.rep, revenue, quarter.start.strftime("%Y-%m"), 10)
    observe(org.rep2, revenue, quarter.start.strftime("%Y-%m"), 10)
    team_goal = set_goal(org.lead, scope="team", team_id=org.team.id, kind="percent",
                         title="Alpha opens the north region", quarter=NOW)
    rita = set_goal(org.lead, owner_id=org.rep.id, metric_id=revenue.id, start_value=0,
                    target_value=1000, title="Rita: first north customers",
                    parent_id=team_goal.id, quarter=NOW)
    ravi = set_goal(org.lead, owner_id=org.rep2.id, kind="checklist", title="Ravi: map north",
                    milestones="List accounts\nCall ten", parent_id=team_goal.id, quarter=NOW)
    return {"team": team_goal, "rita": rita, "ravi": ravi, "revenue": revenue}


def test_list_shows_what_each_person_may_see(client, login_as, org, running):
    login_as(org.rep)
    body = client.get("/goals/").get_data(as_text=True)
    assert "Alpha opens the north region" in body and "Rita: first north customers" in body
    assert "Ravi: map north" not in body
    login_as(org.lead)
    body = client.get("/goals/").get_data(as_text=True)
    assert "Ravi: map north" in body and "New team goal" in body
    login_as(org.other_manager)
    body = client.get("/goals/").get_data(as_text=True)
    assert "Alpha opens" not in body


def test_tree_nests_aligned_goals_and_rolls_them_up(client, login_as, org, running):
    login_as(org.lead)
    response = client.get(f"/goals/tree?period={NOW}&team={org.team.id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.index("Alpha opens the north region") < body.index("Rita: first north")
    assert "2 aligned" in body
    login_as(org.rep)
    body = client.get("/goals/tree").get_data(as_text=True)
    assert "Rita: first north" in body and "Ravi: map north" not in body
    assert "1 aligned · 1 not shown to you" in body


def test_goal_page(client, login_as, org, running):
    login_as(org.rep)
    response = client.get(f"/goals/{running['rita'].id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Rita: first north customers" in body and 'data-testid="progress-chart"' in body
    assert "1%" in body  # 10 of 1,000
    assert "New check-in" in body and "Adjust target" not in body
    assert "never scored" in body


def test_forms_render(client, login_as, org, running):
    login_as(org.lead)
    for url in ["/goals/new?scope=team", "/goals/new?scope=individual",
                f"/goals/{running['rita'].id}/edit", f"/goals/{running['rita'].id}/adjust"]:
        assert client.get(url).status_code == 200, url
    login_as(org.rep)
    body = client.get("/goals/new").get_data(as_text=True)
    assert "Propose a goal" in body


def test_rep_dashboard_lists_goals_and_next_check_in(client, login_as, org, running):
    login_as(org.rep)
    body = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="my-goals"' in body and "Rita: first north customers" in body
    assert "Next check-in" in body


def test_manager_dashboard_lists_goals_at_risk(client, login_as, org, running):
    today = date.today()
    quarter = current_quarter()
    behind = (today - quarter.start).days > 20  # early in a quarter nothing is behind yet
    login_as(org.lead)
    body = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="goals-at-risk"' in body
    if behind:
        assert "Rita: first north customers" in body  # 1% of the way late in the quarter


def test_visible_goals_matches_the_policy(org, running):
    outsider_goal = set_goal(org.other_manager, owner_id=org.outsider.id, kind="percent",
                             title="Olga's", quarter=NOW)
    boss_goal = set_goal(org.boss, owner_id=org.boss_rep.id, kind="percent", title="Bob's",
                         quarter=NOW)
    every = db.session.scalars(db.select(Goal)).all()
    assert len(every) == 5 and outsider_goal and boss_goal
    for actor in (org.hr, org.boss, org.lead, org.other_manager, org.rep, org.rep2,
                  org.boss_rep, org.outsider):
        listed = {g.id for g in visible_goals(actor)}
        allowed = {g.id for g in every if policy.can_view_goal(actor, g)}
        assert listed == allowed, actor


def test_goal_page_lists_the_latest_check_ins_and_all_of_them_on_request(client, login_as,
                                                                         org, running):
    from datetime import timedelta

    from reviewapp.goals.checkins import add_check_in
    from reviewapp.goals.views import CHECK_INS_SHOWN

    goal, start = running["team"], current_quarter().start
    total = CHECK_INS_SHOWN + 2
    for i in range(total):
        add_check_in(org.lead, goal, held_on=min(start + timedelta(days=i), date.today()),
                     confidence=3, progress=i, note=f"Week note {i:02d}")
    db.session.commit()
    login_as(org.lead)
    body = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert body.count("Week note") == CHECK_INS_SHOWN
    assert f"Week note {total - 1:02d}" in body and "Week note 00" not in body
    assert "2 earlier check-ins" in body and "check_ins=all" in body
    body = client.get(f"/goals/{goal.id}?check_ins=all").get_data(as_text=True)
    assert body.count("Week note") == total and 'data-testid="earlier-check-ins"' not in body
    # A check-in posted on the page lands on top of the list.
    response = client.post(f"/goals/{goal.id}/check-ins", data={
        "held_on": date.today().isoformat(), "confidence": "4",
        "progress": "50", "note": "Posted from the page"})
    assert response.status_code == 302
    body = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert body.index("Posted from the page") < body.index(f"Week note {total - 1:02d}")
    assert "3 earlier check-ins" in body


def test_progress_below_the_start_says_so_rather_than_a_negative_percentage(
        client, login_as, org, metrics):
    # Rita's revenue so far is 200; a goal from 500 to 600 is "-300%" of the way.
    goal = set_goal(org.lead, owner_id=org.rep.id, metric_id=metrics["revenue"].id,
                    start_value=500.0, target_value=600.0)
    goal.state = GoalState.ACTIVE
    db.session.commit()
    login_as(org.lead)
    body = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert '<p class="goal-big">below start</p>' in body
    assert "-300%" not in body


def test_an_overdue_check_in_says_so_in_words_not_only_in_red(client, login_as, org):
    """WCAG 1.4.1: the date alone in red told nothing to someone who does not see red."""
    from datetime import timedelta

    today = date.today()
    goal = set_goal(org.lead, owner_id=org.rep.id, kind="percent", title="Late check-ins",
                    quarter=None, start_date=today - timedelta(days=40),
                    end_date=today + timedelta(days=5))
    login_as(org.rep)
    for url in ("/dashboard", f"/goals/{goal.id}"):
        body = client.get(url).get_data(as_text=True)
        assert "(overdue)</" in body, url


def test_a_deactivated_reps_goals_leave_the_goals_at_risk(client, login_as, org, running):
    from datetime import timedelta

    from reviewapp.goals.dashboard import manager_panel

    today = date.today()
    late = set_goal(org.lead, owner_id=org.rep2.id, kind="percent", title="Ravi: far behind",
                    quarter=None, start_date=today - timedelta(days=60),
                    end_date=today + timedelta(days=2))
    titles = lambda: {line.goal.title for line in manager_panel(org.lead)["at_risk"]}  # noqa: E731
    assert late.title in titles()
    org.rep2.active = False
    db.session.commit()
    assert late.title not in titles()
    login_as(org.lead)
    assert "Ravi: far behind" not in client.get("/dashboard").get_data(as_text=True)


def test_a_refused_form_on_the_goal_page_is_summed_up_where_the_page_opens(client, login_as,
                                                                           org, running):
    """A refused check-in reloaded the page at the top with its error 1,200 px further down."""
    login_as(org.rep)
    goal = running["rita"]
    response = client.post(f"/goals/{goal.id}/check-ins", data={
        "held_on": "1999-01-01", "confidence": "3", "note": "x" * 501})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    summary = body.index('data-testid="error-summary"')
    assert summary < body.index('data-testid="progress"')
    assert 'href="#note"' in body[summary:summary + 2000]
    status = client.post(f"/goals/{goal.id}/status", data={"status": "done",
                                                            "note": "y" * 1001})
    assert 'href="#status_note"' in status.get_data(as_text=True)
    assert status.get_data(as_text=True).count('id="note"') == 1  # ids are unique


def test_a_rep_is_not_shown_a_roll_up_made_of_their_own_goals_only(client, login_as, org,
                                                                   running):
    """Rita saw 'Rolled up by weight: 100 %' (her goal alone) where her manager saw the team's
    figure over every aligned goal."""
    team = running["team"]
    login_as(org.lead)
    manager_page = client.get(f"/goals/{team.id}").get_data(as_text=True)
    assert "Rolled up by weight" in manager_page
    login_as(org.rep)
    for url in (f"/goals/{team.id}", "/goals/tree?period=all"):
        body = client.get(url).get_data(as_text=True)
        assert "Rolled up by weight" not in body, url
        assert "not shown to you, so no roll-up here" in body or \
            "so it shows to those who see them all" in body, url
