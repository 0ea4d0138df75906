"""Route × role expectations for the goals area (see tests/test_route_matrix.py).

Actors: anon; rep (Rita, in team Alpha, reports to lead); outsider (a rep of team Omega);
lead (manages Alpha and Rita); boss (lead's manager); other (Omega's manager); hr.
"""

from datetime import date

from reviewapp.extensions import db
from reviewapp.goals.models import GoalTemplate
from reviewapp.goals.services import GoalDraft, create_goal
from reviewapp.metrics.periods import current_quarter
from tests.test_route_matrix import LOGIN, RITA_SCOPE, Case, everyone


def _goal(actor, **fields):
    values = {"scope": "individual", "kind": "percent", "title": "A goal",
              "quarter": current_quarter().label}
    values.update(fields)
    goal, _ = create_goal(actor, GoalDraft(**values))
    return goal


def setup(org) -> None:
    org.team_goal = _goal(org.lead, scope="team", team_id=org.team.id, kind="checklist",
                          title="Alpha goal", milestones="First step")
    org.rita_goal = _goal(org.lead, owner_id=org.rep.id, title="Rita's goal",
                          parent_id=org.team_goal.id)
    org.ravi_goal = _goal(org.lead, owner_id=org.rep2.id, title="Ravi's goal")
    org.proposal = _goal(org.rep, owner_id=org.rep.id, title="Rita's proposal")
    org.template = GoalTemplate(title="Template", kind="percent", milestones=[],
                                created_by_id=org.lead.id)
    db.session.add(org.template)
    db.session.commit()
    org.milestone_id = org.team_goal.milestones[0].id


ALL = everyone(200, anon=LOGIN)
# A goal of Rita's: herself, her managers, HR; the rest may not know it exists.
RITA_MANAGERS_ACT = {"anon": LOGIN, "rep": 403, "hr": 403, "lead": 302, "boss": 302,
                     "*": 404}
RITA_FOLLOWS = {"anon": LOGIN, "rep": 302, "lead": 302, "boss": 302, "hr": 403, "*": 404}
MANAGERS_PAGE = {"anon": LOGIN, "rep": 403, "hr": 403, "lead": 200, "boss": 200, "*": 404}
TEAM_SCOPE = RITA_SCOPE  # Alpha's goal: its members, lead, boss and HR
LEAD_ONLY = {"anon": LOGIN, "lead": 302, "*": 404}


def _today() -> str:
    return date.today().isoformat()


ROUTES = {
    "goals.index": [Case("GET", lambda o: "/goals/", ALL)],
    "goals.tree": [Case("GET", lambda o: "/goals/tree", ALL),
                   Case("GET", lambda o: "/goals/tree?period=all", ALL)],
    "goals.new": [
        Case("GET", lambda o: "/goals/new", everyone(200, anon=LOGIN, hr=403)),
        Case("GET", lambda o: "/goals/new?scope=team", everyone(200, anon=LOGIN, hr=403)),
    ],
    "goals.detail": [
        Case("GET", lambda o: f"/goals/{o.rita_goal.id}", RITA_SCOPE),
        Case("GET", lambda o: f"/goals/{o.team_goal.id}", TEAM_SCOPE),
        # Another rep's goal: Rita gets 404, as does everyone outside Ravi's line.
        Case("GET", lambda o: f"/goals/{o.ravi_goal.id}",
             {"anon": LOGIN, "lead": 200, "boss": 200, "hr": 200, "*": 404}),
        Case("GET", lambda o: "/goals/999999", everyone(404, anon=LOGIN)),
    ],
    "goals.edit": [
        Case("GET", lambda o: f"/goals/{o.rita_goal.id}/edit", MANAGERS_PAGE),
        Case("GET", lambda o: f"/goals/{o.proposal.id}/edit", {**MANAGERS_PAGE, "rep": 200}),
        Case("GET", lambda o: f"/goals/{o.ravi_goal.id}/edit", {**MANAGERS_PAGE, "rep": 404}),
    ],
    "goals.adjust": [Case("GET", lambda o: f"/goals/{o.rita_goal.id}/adjust", MANAGERS_PAGE)],
    "goals.check_in": [
        Case("POST", lambda o: f"/goals/{o.rita_goal.id}/check-ins", RITA_FOLLOWS,
             data={"held_on": _today(), "confidence": "4", "progress": "20"}),
        Case("POST", lambda o: f"/goals/{o.ravi_goal.id}/check-ins",
             {**RITA_FOLLOWS, "rep": 404},
             data={"held_on": _today(), "confidence": "4", "progress": "20"}),
    ],
    "goals.set_status": [
        Case("POST", lambda o: f"/goals/{o.rita_goal.id}/status", RITA_FOLLOWS,
             data={"status": "at_risk", "note": "A big deal slipped"}),
    ],
    "goals.milestone": [
        # A team goal is followed by its managers; a member sees it but does not tick it.
        Case("POST", lambda o: f"/goals/{o.team_goal.id}/milestones/{o.milestone_id}",
             RITA_MANAGERS_ACT, data={"done": "1"}),
    ],
    "goals.comment": [
        Case("POST", lambda o: f"/goals/{o.rita_goal.id}/comments",
             {**RITA_FOLLOWS, "hr": 302}, data={"body": "Nice progress"}),
    ],
    "goals.approve": [
        Case("POST", lambda o: f"/goals/{o.proposal.id}/approve", RITA_MANAGERS_ACT)],
    "goals.return_to_owner": [
        Case("POST", lambda o: f"/goals/{o.proposal.id}/return", RITA_MANAGERS_ACT,
             data={"comment": "Make it measurable"})],
    "goals.delete": [
        Case("POST", lambda o: f"/goals/{o.rita_goal.id}/delete", RITA_MANAGERS_ACT),
        # The rep may withdraw her own proposal.
        Case("POST", lambda o: f"/goals/{o.proposal.id}/delete", RITA_FOLLOWS),
    ],
    "goals.save_as_template": [
        Case("POST", lambda o: f"/goals/{o.rita_goal.id}/save-as-template",
             RITA_MANAGERS_ACT)],
    "goals.templates": [
        Case("GET", lambda o: "/goals/templates",
             {"anon": LOGIN, "rep": 403, "outsider": 403, "hr": 403, "*": 200})],
    "goals.template_assign": [
        Case("GET", lambda o: f"/goals/templates/{o.template.id}/assign",
             {"anon": LOGIN, "lead": 200, "*": 404})],
    "goals.template_delete": [
        Case("POST", lambda o: f"/goals/templates/{o.template.id}/delete", LEAD_ONLY)],
}
