"""KPI routes in the route × role matrix (tests/test_route_matrix.py).

Actors: anon, rep (Rita, under lead), outsider (another branch), lead, boss (lead's manager),
other (manager of another branch), hr. Records are made in setup(org).
"""

from reviewapp.extensions import db
from reviewapp.kpis.models import BehaviourNote, ProposalStatus, RunScope
from tests.kpis.data import ensure_metrics
from tests.kpis.factories import create_run
from tests.test_route_matrix import LOGIN, Case, everyone

LAB = {"anon": LOGIN, "rep": 403, "outsider": 403, "*": 200}
HR_ONLY = {"anon": LOGIN, "*": 403, "hr": 200}
HR_ONLY_POST = {"anon": LOGIN, "*": 403, "hr": 302}
# Lead's exploratory run: lead and HR; other managers (boss included) must not know it exists.
LEAD_RUN = {"anon": LOGIN, "rep": 403, "outsider": 403, "lead": 200, "boss": 404,
            "other": 404, "hr": 200}
MISSING = {"anon": LOGIN, "rep": 403, "outsider": 403, "*": 404}
# A note on Rita: managers above her and HR; the other branch's manager does not see her.
NOTE_ON_RITA = {"anon": LOGIN, "rep": 403, "outsider": 403, "lead": 200, "boss": 200,
                "other": 404, "hr": 200}


def setup(org) -> None:
    metrics = ensure_metrics()
    org.kpi_metric = metrics["meetings"]
    org.kpi_run = create_run(metrics["revenue"], metrics["meetings"], teachable=[org.rep],
                             coaching=[org.rep2], status_before="candidate", status_after="kpi")
    org.kpi_lead_run = create_run(metrics["revenue"], metrics["meetings"],
                                  scope=RunScope.MANAGER, created_by=org.lead, manager=org.lead,
                                  teachable=[org.rep])
    note = BehaviourNote(author_id=org.lead.id, rep_id=org.rep.id, run_id=org.kpi_run.id,
                         text="Books a discovery meeting before any proposal.",
                         proposed_key="discovery_meetings", proposed_name="Discovery meetings",
                         proposal_status=ProposalStatus.PENDING)
    db.session.add(note)
    db.session.commit()
    org.kpi_note = note


ROUTES = {
    "kpis.index": [Case("GET", lambda o: "/kpis/", everyone(200, anon=LOGIN))],
    "kpis.lab": [
        Case("GET", lambda o: "/kpis/lab", LAB),
        # An empty form is re-shown with its errors: nothing runs.
        Case("POST", lambda o: "/kpis/lab", LAB, data={"scope": "org"}),
    ],
    "kpis.runs": [Case("GET", lambda o: "/kpis/runs", LAB)],
    "kpis.run": [
        Case("GET", lambda o: f"/kpis/runs/{o.kpi_run.id}", LAB),
        Case("GET", lambda o: f"/kpis/runs/{o.kpi_lead_run.id}", LEAD_RUN),
        Case("GET", lambda o: "/kpis/runs/999999", MISSING),
    ],
    "kpis.history": [
        Case("GET", lambda o: f"/kpis/metrics/{o.kpi_metric.id}", LAB),
        Case("GET", lambda o: "/kpis/metrics/999999", MISSING),
    ],
    "kpis.metric_status": [
        Case("POST", lambda o: f"/kpis/metrics/{o.kpi_metric.id}/status", HR_ONLY_POST,
             data={"action": "retire", "reason": "Replaced by discovery meetings."}),
    ],
    "kpis.settings": [
        Case("GET", lambda o: "/kpis/settings", HR_ONLY),
        Case("POST", lambda o: "/kpis/settings", HR_ONLY_POST, data={"outcome": "new_business"}),
    ],
    "kpis.validation_policy": [
        Case("GET", lambda o: "/kpis/policy", HR_ONLY),
        Case("POST", lambda o: "/kpis/policy", HR_ONLY_POST,
             data={"grain": "quarter", "lag": "1", "window": "8", "period_effects": "y",
                   "alpha": "0.05", "margin": "0.1", "reason": "Revenue lags activity."}),
    ],
    "kpis.notes": [Case("GET", lambda o: "/kpis/notes", LAB)],
    "kpis.note_new": [
        Case("GET", lambda o: f"/kpis/runs/{o.kpi_run.id}/reps/{o.rep.id}/note", NOTE_ON_RITA),
        # Ravi is not a teachable moment of that run: 404 for everyone who may use the lab.
        Case("GET", lambda o: f"/kpis/runs/{o.kpi_run.id}/reps/{o.rep2.id}/note", MISSING),
    ],
    "kpis.note_accept": [
        Case("GET", lambda o: f"/kpis/notes/{o.kpi_note.id}/accept", HR_ONLY),
        Case("POST", lambda o: f"/kpis/notes/{o.kpi_note.id}/accept", HR_ONLY_POST,
             data={"key": "discovery_meetings", "name": "Discovery meetings",
                   "direction": "higher", "rollup": "sum"}),
    ],
    "kpis.note_decline": [
        Case("POST", lambda o: f"/kpis/notes/{o.kpi_note.id}/decline", HR_ONLY_POST,
             data={"reason": "Not countable in the CRM."}),
    ],
}
