"""The access policy: scope of managers, reps and HR."""

from datetime import date

import pytest
import sqlalchemy as sa
from flask_login import AnonymousUserMixin

from reviewapp import policy
from reviewapp.auth.models import Role
from reviewapp.auth.scope import subordinate_ids
from reviewapp.extensions import db
from reviewapp.goals.models import Goal, GoalKind, GoalScope, GoalState
from reviewapp.kpis.models import RunScope, ValidationRun
from tests.factories import create_team, create_user
from tests.kpis.data import ensure_metrics
from tests.kpis.factories import create_run


def test_manager_scope_is_transitive(org):
    assert subordinate_ids(org.boss.id) == {org.lead.id, org.rep.id, org.rep2.id,
                                            org.boss_rep.id}
    assert subordinate_ids(org.lead.id) == {org.rep.id, org.rep2.id}
    assert subordinate_ids(org.rep.id) == frozenset()


def test_can_view_user(org):
    assert policy.can_view_user(org.rep, org.rep)
    assert not policy.can_view_user(org.rep, org.rep2)
    assert policy.can_view_user(org.lead, org.rep)
    assert policy.can_view_user(org.boss, org.rep)
    assert not policy.can_view_user(org.lead, org.boss_rep)
    assert not policy.can_view_user(org.other_manager, org.rep)
    assert policy.can_view_user(org.hr, org.outsider)


def test_manager_sees_exactly_their_people(client, org, login_as):
    login_as(org.lead)
    body = client.get("/dashboard").get_data(as_text=True)
    assert "Rita Rep" in body and "Ravi Rep" in body
    assert "Bob Direct" not in body and "Olga Outsider" not in body
    login_as(org.boss)
    body = client.get("/people").get_data(as_text=True)
    for name in ["Rita Rep", "Ravi Rep", "Bob Direct", "Leo Lead"]:
        assert name in body
    assert "Olga Outsider" not in body


def test_rep_dashboard_shows_self_only(client, org, login_as):
    login_as(org.rep)
    body = client.get("/dashboard").get_data(as_text=True)
    assert "Rita Rep" in body and "Ravi Rep" not in body
    assert client.get(f"/people/{org.rep2.id}").status_code == 404
    assert "Users" not in client.get("/dashboard").get_data(as_text=True).split("<main")[0]


def test_error_pages_leak_nothing(client, org, login_as):
    login_as(org.rep)
    body = client.get("/admin/users").get_data(as_text=True)
    assert "Not allowed" in body and "Traceback" not in body


def test_500_page_leaks_nothing(tmp_path):
    from reviewapp import create_app

    app = create_app({"TESTING": False, "SECRET_KEY": "k",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})

    @app.route("/_boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/_boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body and "secret internals" not in body


# The SQL twins of can_view_*: a list page filters in the database, a detail page asks the
# python function; both must give the same answer for every actor and every record.


@pytest.fixture
def everyone(org):
    """The test org plus the awkward cases: a rep without a team, a team without a manager,
    a team led by the boss; and the anonymous visitor."""
    org.loner = create_user(Role.REP, name="Lou Loner", manager=org.boss)
    org.unled_team = create_team("Unled")
    org.boss_team = create_team("Bravo", manager=org.boss)
    users = [org.hr, org.boss, org.lead, org.other_manager, org.rep, org.rep2, org.boss_rep,
             org.outsider, org.loner]
    return org, [*users, AnonymousUserMixin()], users


def _goal(**fields) -> Goal:
    return Goal(title="A goal", kind=GoalKind.PERCENT, state=GoalState.ACTIVE,
                start_date=date(2026, 7, 1), end_date=date(2026, 9, 30), **fields)


def _named(actor) -> str:
    return getattr(actor, "name", "anonymous")


def test_visible_goals_clause_agrees_with_can_view_goal(everyone):
    org, actors, users = everyone
    teams = [org.team, org.other_team, org.unled_team, org.boss_team]
    goals = [_goal(scope=GoalScope.INDIVIDUAL, owner=u) for u in users]
    goals += [_goal(scope=GoalScope.TEAM, team=t) for t in teams]
    # An individual goal that also names a team: the owner decides who sees it, not the team.
    goals.append(_goal(scope=GoalScope.INDIVIDUAL, owner=org.outsider, team=org.team))
    db.session.add_all(goals)
    db.session.commit()
    seen = {}
    for actor in actors:
        listed = set(db.session.scalars(
            sa.select(Goal.id).where(policy.visible_goals_clause(actor))))
        allowed = {g.id for g in goals if policy.can_view_goal(actor, g)}
        assert listed == allowed, _named(actor)
        seen[_named(actor)] = len(allowed)
    assert seen["Hilda HR"] == len(goals) and seen["anonymous"] == 0
    assert seen["Rita Rep"] == 2 and seen["Lou Loner"] == 1  # own goal (+ her team's)


def test_visible_runs_clause_agrees_with_can_view_validation_run(everyone):
    org, actors, users = everyone
    m = ensure_metrics()
    runs = [create_run(m["revenue"], m["meetings"])]
    runs += [create_run(m["revenue"], m["meetings"], scope=RunScope.MANAGER, created_by=u,
                        manager=u, counts=False) for u in (org.lead, org.boss, org.hr)]
    runs += [create_run(m["revenue"], m["meetings"], scope=RunScope.TEAM, team=t,
                        counts=False)
             for t in (org.team, org.other_team, org.unled_team, org.boss_team)]
    runs.append(create_run(m["revenue"], m["meetings"], scope=RunScope.TEAM, team=org.team,
                           created_by=org.boss, counts=False))
    seen = {}
    for actor in actors:
        listed = set(db.session.scalars(
            sa.select(ValidationRun.id).where(policy.visible_runs_clause(actor))))
        allowed = {r.id for r in runs if policy.can_view_validation_run(actor, r)}
        assert listed == allowed, _named(actor)
        seen[_named(actor)] = len(allowed)
    assert seen["Hilda HR"] == len(runs) and seen["Rita Rep"] == 0 and seen["anonymous"] == 0
    assert seen["Leo Lead"] == 3  # the org run, his own, the command-line run on Alpha
