"""Route × role expectations for review pages (see tests/test_route_matrix.py)."""

from datetime import date, timedelta

from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.extensions import db
from reviewapp.metrics.catalogue import add_metric
from reviewapp.metrics.models import KpiStatus, Observation
from reviewapp.reviews.models import Review, ReviewState
from tests.test_route_matrix import LOGIN, RITA_SCOPE, Case


def _review(org) -> Review:
    """Rita's review in a launched cycle over team Alpha, made on first use; only the cases of
    this area pay for it. Its one KPI is marked validated by hand (no run needed); data for it
    arrive after launch, as from an import, so the stored actuals lag behind."""
    if hasattr(org, "review"):
        return org.review
    metric = add_metric(None, key="matrix_review_kpi", name="Matrix KPI", kind="activity",
                        direction="higher", rollup="sum")
    metric.kpi_status = KpiStatus.KPI
    today = date.today()
    draft = CycleDraft(
        name="Matrix cycle", period="2026-Q3", self_due=today + timedelta(days=5),
        manager_due=today + timedelta(days=10), calibration_due=today + timedelta(days=15),
        acknowledgement_due=today + timedelta(days=20), team_ids=[org.team.id],
        competency_ids=[c.id for c in ensure_default_competencies()],
        kpis=[(metric.id, 10.0, 1.0)])
    org.cycle = save_cycle(org.hr, None, draft)
    launch(org.hr, org.cycle)
    db.session.add_all([Observation(rep_id=rep.id, metric_id=metric.id, grain="quarter",
                                    period_start=date(2026, 7, 1), value=12.0)
                        for rep in (org.rep, org.rep2)])
    db.session.commit()
    org.review = db.session.scalar(db.select(Review).where(Review.rep_id == org.rep.id))
    return org.review


def _ravi_in_manager_review(org) -> Review:
    """Ravi's review in the same cycle, moved on to manager review (self-assessment skipped)."""
    _review(org)
    review = db.session.scalar(db.select(Review).where(Review.rep_id == org.rep2.id))
    review.self_skipped, review.state = True, ReviewState.MANAGER_REVIEW
    db.session.commit()
    return review


WRITER_ELSEWHERE = {"anon": LOGIN, "outsider": 404, "other": 404}

ROUTES = {
    "reviews.mine": [Case("GET", lambda o: (_review(o), "/reviews/mine")[1],
                          {"anon": LOGIN, "rep": 302,
                                                            "*": 200})],
    "reviews.review": [
        Case("GET", lambda o: f"/reviews/{_review(o).id}", RITA_SCOPE),
        Case("GET", lambda o: "/reviews/999999", {"anon": LOGIN, "*": 404}),
        # In manager review, the reviewing manager's page shows actuals that follow the data.
        Case("GET", lambda o: f"/reviews/{_ravi_in_manager_review(o).id}",
             {"anon": LOGIN, "lead": 200, "boss": 200, "hr": 200, "*": 404}),
    ],
    "reviews.self_assessment": [
        Case("POST", lambda o: f"/reviews/{_review(o).id}/self",
             {**WRITER_ELSEWHERE, "rep": 302, "*": 403}, data={"action": "save"})],
    "reviews.manager_review": [
        Case("POST", lambda o: f"/reviews/{_review(o).id}/manager",
             {**WRITER_ELSEWHERE, "lead": 422, "*": 403}, data={"action": "save"})],
    "reviews.skip_self_assessment": [
        Case("POST", lambda o: f"/reviews/{_review(o).id}/skip-self",
             # Before the self-assessment deadline the reviewer is refused with a message
             # (422); success is a redirect, so the two can be told apart.
             {**WRITER_ELSEWHERE, "lead": 422, "*": 403})],
    "reviews.kpi_override": [
        Case("POST", lambda o: f"/reviews/{_review(o).id}/kpis/999999/override",
             {**WRITER_ELSEWHERE, "lead": 404, "*": 403})],
}
