"""Route × role expectations for review pages (see tests/test_route_matrix.py)."""

from datetime import date, timedelta

from reviewapp.extensions import db
from reviewapp.reviews.cycles import CycleDraft, ensure_default_competencies, launch, save_cycle
from reviewapp.reviews.models import Review
from tests.test_route_matrix import LOGIN, RITA_SCOPE, Case


def _review(org) -> Review:
    """Rita's review in a launched cycle over team Alpha, made on first use (competencies only,
    so no validation run is needed); only the cases of this area pay for it."""
    if hasattr(org, "review"):
        return org.review
    today = date.today()
    draft = CycleDraft(
        name="Matrix cycle", period="2026-Q3", self_due=today + timedelta(days=5),
        manager_due=today + timedelta(days=10), calibration_due=today + timedelta(days=15),
        acknowledgement_due=today + timedelta(days=20), team_ids=[org.team.id],
        competency_ids=[c.id for c in ensure_default_competencies()])
    org.cycle = save_cycle(org.hr, None, draft)
    launch(org.hr, org.cycle)
    db.session.commit()
    org.review = db.session.scalar(db.select(Review).where(Review.rep_id == org.rep.id))
    return org.review


WRITER_ELSEWHERE = {"anon": LOGIN, "outsider": 404, "other": 404}

ROUTES = {
    "reviews.mine": [Case("GET", lambda o: (_review(o), "/reviews/mine")[1],
                          {"anon": LOGIN, "rep": 302,
                                                            "*": 200})],
    "reviews.review": [
        Case("GET", lambda o: f"/reviews/{_review(o).id}", RITA_SCOPE),
        Case("GET", lambda o: "/reviews/999999", {"anon": LOGIN, "*": 404}),
    ],
    "reviews.self_assessment": [
        Case("POST", lambda o: f"/reviews/{_review(o).id}/self",
             {**WRITER_ELSEWHERE, "rep": 302, "*": 403}, data={"action": "save"})],
    "reviews.manager_review": [
        Case("POST", lambda o: f"/reviews/{_review(o).id}/manager",
             {**WRITER_ELSEWHERE, "lead": 422, "*": 403}, data={"action": "save"})],
    "reviews.skip_self_assessment": [
        Case("POST", lambda o: f"/reviews/{_review(o).id}/skip-self",
             {**WRITER_ELSEWHERE, "lead": 302, "*": 403})],
    "reviews.kpi_override": [
        Case("POST", lambda o: f"/reviews/{_review(o).id}/kpis/999999/override",
             {**WRITER_ELSEWHERE, "lead": 404, "*": 403})],
}
