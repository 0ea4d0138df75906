"""Route × role expectations for review records (see tests/test_route_matrix.py).

Two cycles of the records area over team Alpha: in one, Rita's review is open (a draft may be
downloaded); in the other it is finalised, with its first record superseded by a reopen and a
current second one (stand-in bytes: who may have them does not depend on what they are). A rep
gets only her own record, a manager those of their people, HR all; a superseded record only HR.
"""

import hashlib
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.extensions import db
from reviewapp.records.models import RecordStatus, ReviewRecord
from reviewapp.reviews.models import Review, ReviewState
from tests.test_route_matrix import HR_ONLY_POST, LOGIN, MANAGERS_AND_HR, RITA_SCOPE, Case

PDF = b"%PDF-1.7\n% a stand-in for the matrix\n%%EOF\n"


def _cycle(org, name: str, period: str):
    today = date.today()
    cycle = save_cycle(org.hr, None, CycleDraft(
        name=name, period=period, self_due=today + timedelta(days=5),
        manager_due=today + timedelta(days=10), calibration_due=today + timedelta(days=15),
        acknowledgement_due=today + timedelta(days=20), team_ids=[org.team.id],
        competency_ids=[c.id for c in ensure_default_competencies()]))
    launch(org.hr, cycle)
    return cycle


def _record(review: Review, version: int, *, superseded: bool = False) -> ReviewRecord:
    now = datetime.now(UTC)
    return ReviewRecord(
        review_id=review.id, version=version, document_id=f"RR-{review.id:06d}-{version}",
        status=RecordStatus.RENDERED, pdf=PDF, size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(), content={}, content_sha256="0" * 64,
        finalized_at=now, rendered_at=now, superseded=superseded,
        superseded_at=now if superseded else None)


def setup(org) -> None:
    org.records_open_cycle = _cycle(org, "Records matrix, open", "2026-Q2")
    org.records_cycle = _cycle(org, "Records matrix, finalised", "2026-Q1")
    db.session.flush()
    reviews = {r.cycle_id: r for r in db.session.scalars(
        sa.select(Review).where(Review.rep_id == org.rep.id))}
    org.records_open_review = reviews[org.records_open_cycle.id]
    review = reviews[org.records_cycle.id]
    now = datetime.now(UTC)
    review.self_submitted_at = review.manager_submitted_at = review.shared_at = now
    review.finalized_at = now
    for rating in review.ratings:
        rating.manager_rating, rating.manager_note = 3, "Seen in the quarter."
    db.session.flush()
    review.state = ReviewState.FINALIZED
    org.superseded_record = _record(review, 1, superseded=True)
    org.current_record = _record(review, 2)
    db.session.add_all([org.superseded_record, org.current_record])
    db.session.commit()


def _failed(org) -> ReviewRecord:
    """The current record, as if its rendering had failed (for the retry)."""
    record = org.current_record
    db.session.execute(sa.delete(ReviewRecord).where(ReviewRecord.id == record.id))
    failed = ReviewRecord(review_id=record.review_id, version=2, document_id=record.document_id,
                          status=RecordStatus.FAILED, finalized_at=record.finalized_at,
                          error="SigningError: the key file is unreadable")
    db.session.add(failed)
    db.session.commit()
    return failed


REFUSED_ELSEWHERE = {"anon": LOGIN, "outsider": 404, "other": 404}

ROUTES = {
    "records.record": [
        Case("GET", lambda o: f"/records/{o.current_record.id}.pdf", RITA_SCOPE),
        Case("GET", lambda o: f"/records/{o.superseded_record.id}.pdf",
             {**REFUSED_ELSEWHERE, "hr": 200, "*": 403}),
        Case("GET", lambda o: "/records/999999.pdf", {"anon": LOGIN, "*": 404}),
    ],
    "records.draft": [
        Case("GET", lambda o: f"/records/reviews/{o.records_open_review.id}/draft.pdf",
             RITA_SCOPE),
        # Finalised: the page points to the record instead (a redirect with a message).
        Case("GET", lambda o: f"/records/reviews/{o.current_record.review_id}/draft.pdf",
             {"anon": LOGIN, "rep": 302, "lead": 302, "boss": 302, "hr": 302, "*": 404}),
    ],
    "records.cycle_zip": [
        Case("GET", lambda o: f"/records/cycles/{o.records_cycle.id}.zip", MANAGERS_AND_HR),
    ],
    "records.retry": [
        Case("POST", lambda o: f"/records/{_failed(o).id}/retry",
             {**REFUSED_ELSEWHERE, "hr": 302, "*": 403}),
    ],
    "records.render_cycle": [
        Case("POST", lambda o: f"/records/cycles/{o.records_cycle.id}/render", HR_ONLY_POST),
    ],
}
