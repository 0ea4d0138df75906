"""Route × role expectations for the cycle pages (see tests/test_route_matrix.py).

Reps (and the outsider, a rep) get 403 everywhere; managers see the cycles list and launched
cycles (a draft is 404 for them); everything else is HR's.

The records are made lazily by the URL functions rather than in setup(org): setup hooks run for
every route of the matrix, and most of them never need a cycle.
"""

from datetime import date, timedelta

import sqlalchemy as sa

from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.extensions import db
from reviewapp.metrics.catalogue import add_metric
from reviewapp.metrics.models import Metric
from tests.test_route_matrix import LOGIN, Case

HR_PAGE = {"anon": LOGIN, "*": 403, "hr": 200}
HR_POST = {"anon": LOGIN, "*": 403, "hr": 302}
MANAGERS_AND_HR = {"anon": LOGIN, "rep": 403, "outsider": 403, "*": 200}
HR_SEES_DRAFTS = {"anon": LOGIN, "rep": 403, "outsider": 403, "hr": 200, "*": 404}
NOT_FOUND = {"anon": LOGIN, "rep": 403, "outsider": 403, "*": 404}
HR_NOT_FOUND = {"anon": LOGIN, "*": 403, "hr": 404}


def _new_cycle(org, name: str, period: str = "2025-Q2"):
    # (the review and records routes launch 2026 quarters, and a quarter is reviewed once)
    soon = date.today() + timedelta(days=5)
    metric = db.session.scalar(sa.select(Metric).where(Metric.key == "matrix_meetings"))
    if metric is None:
        metric = add_metric(None, key="matrix_meetings", name="Meetings", kind="activity",
                            direction="higher", rollup="sum")
    draft = CycleDraft(
        name=name, period=period, self_due=soon, manager_due=soon + timedelta(days=5),
        calibration_due=soon + timedelta(days=10), acknowledgement_due=soon + timedelta(days=15),
        team_ids=[org.team.id], competency_ids=[c.id for c in ensure_default_competencies()],
        kpis=[(metric.id, 10.0, 1.0)])
    return save_cycle(org.hr, None, draft)


def _draft_id(org) -> int:
    """A draft over team Alpha whose KPI is only a candidate (launch will be refused)."""
    if not hasattr(org, "cycle_draft"):
        org.cycle_draft = _new_cycle(org, "Matrix draft")
        db.session.commit()
    return org.cycle_draft.id


def _launched_id(org) -> int:
    if not hasattr(org, "cycle_launched"):
        cycle = _new_cycle(org, "Matrix launched")
        cycle.kpis = []  # only validated KPIs may be launched
        db.session.flush()
        launch(org.hr, cycle)
        db.session.commit()
        org.cycle_launched = cycle
    return org.cycle_launched.id


def _kpi_id(org) -> int:
    _draft_id(org)
    return org.cycle_draft.kpis[0].id


def _competency_id(org) -> int:
    competency = ensure_default_competencies()[0]
    db.session.commit()
    return competency.id


ROUTES = {
    "cycles.index": [Case("GET", lambda o: "/cycles/", MANAGERS_AND_HR)],
    "cycles.weight_bounds_save": [
        Case("POST", lambda o: "/cycles/weight-bounds", HR_POST,
             data={"weight_min": "0.3", "weight_max": "0.7"})],
    "cycles.competencies": [Case("GET", lambda o: "/cycles/competencies", HR_PAGE)],
    "cycles.competency_new": [Case("GET", lambda o: "/cycles/competencies/new", HR_PAGE)],
    "cycles.competency_defaults": [
        Case("POST", lambda o: "/cycles/competencies/defaults", HR_POST)],
    "cycles.competency_edit": [
        Case("GET", lambda o: f"/cycles/competencies/{_competency_id(o)}/edit", HR_PAGE),
        Case("GET", lambda o: "/cycles/competencies/999999/edit", HR_NOT_FOUND)],
    "cycles.competency_active": [
        Case("POST", lambda o: f"/cycles/competencies/{_competency_id(o)}/active", HR_POST,
             data={"active": "0"})],
    "cycles.cycle_new": [Case("GET", lambda o: "/cycles/new", HR_PAGE)],
    "cycles.cycle_edit": [
        Case("GET", lambda o: f"/cycles/{_draft_id(o)}/edit", HR_PAGE),
        Case("GET", lambda o: f"/cycles/{_launched_id(o)}/edit", HR_POST),  # frozen: redirect
        Case("GET", lambda o: "/cycles/999999/edit", HR_NOT_FOUND)],
    "cycles.cycle": [
        Case("GET", lambda o: f"/cycles/{_draft_id(o)}", HR_SEES_DRAFTS),
        Case("GET", lambda o: f"/cycles/{_launched_id(o)}", MANAGERS_AND_HR),
        Case("GET", lambda o: "/cycles/999999", NOT_FOUND)],
    "cycles.launch_cycle": [
        Case("POST", lambda o: f"/cycles/{_draft_id(o)}/launch", HR_POST),
        Case("POST", lambda o: "/cycles/999999/launch", HR_NOT_FOUND)],
    "cycles.calibration": [
        Case("GET", lambda o: f"/cycles/{_launched_id(o)}/calibration", MANAGERS_AND_HR),
        Case("GET", lambda o: f"/cycles/{_launched_id(o)}/calibration?changed=1",
             MANAGERS_AND_HR),
        # A filter value that is not one of the page's choices is named, not applied.
        Case("GET", lambda o: f"/cycles/{_launched_id(o)}/calibration?team=abc",
             {**MANAGERS_AND_HR, "*": 400}),
        Case("GET", lambda o: f"/cycles/{_draft_id(o)}/calibration", NOT_FOUND),
        Case("GET", lambda o: "/cycles/999999/calibration", NOT_FOUND)],
    "cycles.share_all": [Case("POST", lambda o: f"/cycles/{_launched_id(o)}/share-all", HR_POST,
             data={"confirm": "1"})],
    "cycles.finalize_all": [
        Case("POST", lambda o: f"/cycles/{_launched_id(o)}/finalize-all", HR_POST,
             data={"confirm": "1"})],
    "cycles.close": [
        # Refused while reviews are open: a redirect to the cycle page with the list.
        Case("POST", lambda o: f"/cycles/{_launched_id(o)}/close", HR_POST,
             data={"confirm": "1"})],
    "cycles.rep_targets": [
        Case("GET", lambda o: f"/cycles/{_draft_id(o)}/targets?kpi={_kpi_id(o)}", HR_PAGE),
        Case("POST", lambda o: f"/cycles/{_draft_id(o)}/targets?kpi={_kpi_id(o)}", HR_POST,
             data={f"target_{0}": ""}),
        Case("GET", lambda o: f"/cycles/{_draft_id(o)}/targets?kpi=999999", HR_NOT_FOUND)],
}
