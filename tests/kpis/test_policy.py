"""Who sees which validation runs and notes (the KPI section of reviewapp.policy)."""

from reviewapp import policy
from reviewapp.kpis import queries
from reviewapp.kpis.models import RunScope
from tests.kpis.data import ensure_metrics
from tests.kpis.factories import create_run


def test_run_visibility(org):
    m = ensure_metrics()
    org_run = create_run(m["revenue"], m["meetings"])
    lead_run = create_run(m["revenue"], m["meetings"], scope=RunScope.MANAGER,
                          created_by=org.lead, manager=org.lead)
    cli_team_run = create_run(m["revenue"], m["meetings"], scope=RunScope.TEAM, team=org.team)
    cli_other_team_run = create_run(m["revenue"], m["meetings"], scope=RunScope.TEAM,
                                    team=org.other_team)
    see = {name: {actor: policy.can_view_validation_run(user, run)
                  for actor, user in [("rep", org.rep), ("lead", org.lead), ("boss", org.boss),
                                      ("other", org.other_manager), ("hr", org.hr)]}
           for name, run in [("org", org_run), ("lead", lead_run), ("cli_team", cli_team_run),
                             ("cli_other", cli_other_team_run)]}
    assert see["org"] == {"rep": False, "lead": True, "boss": True, "other": True, "hr": True}
    assert see["lead"] == {"rep": False, "lead": True, "boss": False, "other": False, "hr": True}
    assert see["cli_team"] == {"rep": False, "lead": True, "boss": False, "other": False,
                               "hr": True}
    assert see["cli_other"] == {"rep": False, "lead": False, "boss": False, "other": True,
                                "hr": True}
    # The runs list asks the database the same question.
    runs = {"org": org_run, "lead": lead_run, "cli_team": cli_team_run,
            "cli_other": cli_other_team_run}
    for actor, user in [("lead", org.lead), ("boss", org.boss), ("other", org.other_manager),
                        ("hr", org.hr)]:
        listed = {r.id for r in queries.visible_runs(user)}
        assert listed == {run.id for name, run in runs.items() if see[name][actor]}, actor


def test_who_may_run_what(org):
    assert policy.can_run_org_validation(org.hr)
    assert not policy.can_run_org_validation(org.lead)
    assert policy.can_run_team_validation(org.lead, org.team)
    assert policy.can_run_team_validation(org.boss, org.team)  # led by a manager below
    assert not policy.can_run_team_validation(org.other_manager, org.team)
    assert not policy.can_run_team_validation(org.rep, org.team)
    assert policy.can_write_behaviour_note(org.lead, org.rep)
    assert not policy.can_write_behaviour_note(org.other_manager, org.rep)
    assert not policy.can_write_behaviour_note(org.rep, org.rep)
