"""Route × role expectations for review pages (see tests/test_route_matrix.py)."""

from datetime import UTC, date, datetime, timedelta

from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.extensions import db
from reviewapp.metrics.catalogue import add_metric
from reviewapp.metrics.models import KpiStatus, Observation
from reviewapp.reviews.models import Review, ReviewState
from tests.test_route_matrix import LOGIN, RITA_SCOPE, Case

# The edit forms carry the version of the review they were opened at (a post without one
# loses to any save): _opened puts the review's version in the form as it makes the URL.
SELF_FORM: dict = {"action": "save"}
MANAGER_FORM: dict = {"action": "save"}


def _opened(org, form: dict, path: str) -> str:
    review = _review(org)
    form["version"] = str(review.version)
    return f"/reviews/{review.id}/{path}"


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


def _rita_in(org, state: ReviewState) -> Review:
    """Rita's review moved on to a later state directly (with what the constraints need)."""
    review = _review(org)
    now = datetime.now(UTC)
    review.self_submitted_at = review.manager_submitted_at = now
    if state.rank >= ReviewState.SHARED.rank:
        review.shared_at = now
    if state == ReviewState.FINALIZED:
        review.finalized_at = now
    for rating in review.ratings:
        rating.manager_rating, rating.manager_note = 3, "Seen in the quarter."
    # Its KPI side (5) and ratings (3) diverge: submitting asks for the note, so it has one.
    review.reconciliation_note = "Two deals came in early; the ratings hold."
    db.session.flush()
    review.state = state
    db.session.commit()
    return review


def _in(state: ReviewState, suffix: str = ""):
    return lambda o: f"/reviews/{_rita_in(o, state).id}{suffix}"


def _calibrate_url(org) -> str:
    review = _rita_in(org, ReviewState.CALIBRATION)
    return f"/reviews/{review.id}/calibrate/{review.ratings[0].cycle_competency_id}"


WRITER_ELSEWHERE = {"anon": LOGIN, "outsider": 404, "other": 404}
HR_ACTS = {**WRITER_ELSEWHERE, "hr": 302, "*": 403}
REP_ACTS = {**WRITER_ELSEWHERE, "rep": 302, "*": 403}

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
        Case("POST", lambda o: _opened(o, SELF_FORM, "self"),
             {**WRITER_ELSEWHERE, "rep": 302, "*": 403}, data=SELF_FORM)],
    "reviews.manager_review": [
        Case("POST", lambda o: _opened(o, MANAGER_FORM, "manager"),
             {**WRITER_ELSEWHERE, "lead": 422, "*": 403}, data=MANAGER_FORM)],
    "reviews.skip_self_assessment": [
        Case("POST", lambda o: f"/reviews/{_review(o).id}/skip-self",
             # Before the self-assessment deadline the reviewer is refused with a message
             # (422); success is a redirect, so the two can be told apart.
             {**WRITER_ELSEWHERE, "lead": 422, "*": 403}, data={"confirm": "1"})],
    "reviews.calibrate": [
        # No rating posted: HR keeps the manager's rating (allowed, a no-op); others may not.
        Case("POST", _calibrate_url, HR_ACTS)],
    "reviews.potential": [
        Case("POST", _in(ReviewState.CALIBRATION, "/potential"),
             {**WRITER_ELSEWHERE, "hr": 302, "lead": 302, "*": 403}, data={"potential": "2"})],
    "reviews.return_to_manager": [
        Case("POST", _in(ReviewState.CALIBRATION, "/return"), HR_ACTS,
             data={"reason": "Ratings need evidence."})],
    "reviews.share": [
        # The reviewer may share only when the cycle lets managers share: refused with 422.
        Case("POST", _in(ReviewState.CALIBRATION, "/share"), {**HR_ACTS, "lead": 422},
             data={"confirm": "1"})],
    "reviews.acknowledge": [
        # Without a typed name the rep is refused with a message (422); the rest may not.
        Case("POST", _in(ReviewState.SHARED, "/acknowledge"),
             {**WRITER_ELSEWHERE, "rep": 422, "*": 403})],
    "reviews.conversation": [
        Case("POST", _in(ReviewState.SHARED, "/conversation"), REP_ACTS,
             data={"note": "About the KPI target."})],
    "reviews.finalize": [Case("POST", _in(ReviewState.ACKNOWLEDGED, "/finalize"), HR_ACTS,
                              data={"confirm": "1"})],
    "reviews.reopen": [
        Case("POST", _in(ReviewState.FINALIZED, "/reopen"), HR_ACTS,
             data={"reason": "The wrong target was used."})],
    "reviews.reassign": [
        Case("POST", _in(ReviewState.MANAGER_REVIEW, "/reassign"),
             {**WRITER_ELSEWHERE, "hr": 422, "*": 403})],
    "reviews.history": [
        Case("GET", _in(ReviewState.SELF_REVIEW, "/history"),
             {**WRITER_ELSEWHERE, "hr": 200, "lead": 200, "*": 403})],
    "reviews.kpi_override": [
        Case("POST", lambda o: f"/reviews/{_review(o).id}/kpis/999999/override",
             {**WRITER_ELSEWHERE, "lead": 404, "*": 403})],
}
