"""Review records: added when a review is finalised, rendered and signed by a job, kept for good.

Services flush and never commit, except `run_job`, which is a job of its own: it claims one
record, renders it and commits, so that any number of workers can share the database.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, undefer

from reviewapp import policy
from reviewapp.auth.models import User
from reviewapp.caching import Lru
from reviewapp.errors import ActionUnavailable, NotAllowed
from reviewapp.extensions import db
from reviewapp.policy import ReviewAction
from reviewapp.records import content as record_content
from reviewapp.records import jobs
from reviewapp.records.models import RecordStatus, ReviewRecord
from reviewapp.reviews.models import Review, ReviewState

log = logging.getLogger(__name__)
STALE_CLAIM = timedelta(minutes=10)  # a job that claimed a record this long ago has died


def now() -> datetime:
    return datetime.now(UTC)


def document_id(review_id: int, version: int) -> str:
    return f"RR-{review_id:06d}-{version}"


def organisation() -> str:
    return current_app.config.get("ORGANISATION_NAME") or "ReviewApp"


# At finalising and reopening (hooks of reviews.decisions) -----------------------------------


def _supersede(review_id: int) -> None:
    db.session.execute(sa.update(ReviewRecord).where(
        ReviewRecord.review_id == review_id, ReviewRecord.superseded.is_(False))
        .values(superseded=True, superseded_at=now()))


def add_record(review: Review) -> ReviewRecord:
    """A pending record of the review just finalised (the next version if it had one)."""
    _supersede(review.id)
    latest = db.session.scalar(sa.select(sa.func.max(ReviewRecord.version))
                               .where(ReviewRecord.review_id == review.id)) or 0
    record = ReviewRecord(review_id=review.id, version=latest + 1,
                          document_id=document_id(review.id, latest + 1),
                          finalized_at=review.finalized_at or now(),
                          status=RecordStatus.PENDING)
    # What the record prints is taken now, as finalised: rendered later (a job, a retry), it
    # would otherwise draw its chart and goals from data imported since, beside a KPI table
    # frozen at finalising. The signature is added at rendering, by whoever signs.
    record.content = record_content.build(review, document_id=record.document_id,
                                          version=record.version, organisation=organisation())
    db.session.add(record)
    jobs.render_after_commit(record)
    return record


def on_finalized(actor: User, review: Review) -> None:
    """decisions.finalize's hook: add the record; it is rendered once the finalising commits,
    off the request (so a bulk finalise of hundreds returns at once)."""
    add_record(review)


def on_reopened(actor: User, review: Review) -> None:
    """decisions.reopen's hook: the record stays, marked superseded."""
    _supersede(review.id)


# Rendering ------------------------------------------------------------------------------------


def render_into(record: ReviewRecord) -> ReviewRecord:
    """Render, sign and store the record's PDF (flushes; raises if anything fails)."""
    # WeasyPrint, matplotlib and pyHanko load on the first render, not at every app start.
    from reviewapp.records.render import render_pdf
    from reviewapp.records.signing import current_signer, sign

    review = record_content.load_review(record.review_id)
    if review is None or record.superseded or review.state != ReviewState.FINALIZED:
        raise ActionUnavailable("The review was reopened before its record was rendered.")
    signer = current_signer()
    org = organisation()
    if record.content:  # taken at finalising (records added before that are built now)
        content = {**record.content, "organisation": org,
                   "signature": {"signer": signer.name} if signer else None}
    else:
        content = record_content.build(review, document_id=record.document_id,
                                       version=record.version, organisation=org,
                                       signer=signer.name if signer else None)
    digest = record_content.content_sha256(content)
    pdf = render_pdf(content, digest, created=record.finalized_at)
    if signer is not None:
        pdf = sign(pdf, signer, organisation=org, document_id=record.document_id)
    record.pdf, record.size = pdf, len(pdf)
    record.sha256 = hashlib.sha256(pdf).hexdigest()
    record.content, record.content_sha256 = content, digest
    record.signed, record.signer = signer is not None, signer.name if signer else None
    record.rendered_at, record.status, record.error = now(), RecordStatus.RENDERED, ""
    db.session.flush()
    return record


def _claim(record_id: int) -> bool:
    """Take the record for this job (pending, or claimed by a job that died); commits."""
    moment = now()
    claimed = db.session.execute(sa.update(ReviewRecord).where(
        ReviewRecord.id == record_id,
        sa.or_(ReviewRecord.status == RecordStatus.PENDING,
               sa.and_(ReviewRecord.status == RecordStatus.RENDERING,
                       ReviewRecord.claimed_at < moment - STALE_CLAIM)))
        .values(status=RecordStatus.RENDERING, claimed_at=moment,
                attempts=ReviewRecord.attempts + 1)).rowcount
    db.session.commit()
    return claimed == 1


def _reason(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:1000]


def run_job(record_id: int) -> str:
    """One job: claim the record, render, sign and store it, commit. Returns its status."""
    if not _claim(record_id):
        status = db.session.scalar(sa.select(ReviewRecord.status)
                                   .where(ReviewRecord.id == record_id))
        return status.value if status else "missing"
    record = db.session.get(ReviewRecord, record_id)
    try:
        render_into(record)
        db.session.commit()
        return RecordStatus.RENDERED.value
    except Exception as exc:  # a job must record why it failed, whatever failed
        db.session.rollback()
        log.exception("Rendering review record %s failed", record_id)
        db.session.execute(sa.update(ReviewRecord).where(ReviewRecord.id == record_id)
                           .values(status=RecordStatus.FAILED, error=_reason(exc)))
        db.session.commit()
        return RecordStatus.FAILED.value


# Retrying and filling in ----------------------------------------------------------------------


def _renderable(record: ReviewRecord) -> bool:
    if record.status in (RecordStatus.PENDING, RecordStatus.FAILED):
        return True
    return (record.status == RecordStatus.RENDERING and record.claimed_at is not None
            and _aware(record.claimed_at) < now() - STALE_CLAIM)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def retry(actor: User, record: ReviewRecord) -> ReviewRecord:
    """HR: render a failed (or stuck) record again."""
    if not policy.can_manage_records(actor):
        raise NotAllowed("Only HR retries the rendering of records.")
    if record.superseded:
        raise ActionUnavailable("This record was superseded when its review was reopened.")
    if not _renderable(record):
        raise ActionUnavailable(f"This record is {record.status.label.lower()}; there is "
                                "nothing to retry.")
    record.status, record.error, record.claimed_at = RecordStatus.PENDING, "", None
    db.session.flush()
    jobs.render_after_commit(record)
    return record


def fill_in(cycle, *, actor: User | None = None) -> list[ReviewRecord]:
    """Every finalised review of the cycle gets its current record rendered: a pending record
    for those without one, and failed or stuck ones go again. Returns the records queued."""
    if actor is not None and not policy.can_manage_records(actor):
        raise NotAllowed("Only HR renders records.")
    reviews = db.session.scalars(sa.select(Review).where(
        Review.cycle_id == cycle.id, Review.state == ReviewState.FINALIZED)).all()
    current = {r.review_id: r for r in db.session.scalars(
        sa.select(ReviewRecord).join(Review).where(Review.cycle_id == cycle.id,
                                                   ReviewRecord.superseded.is_(False)))}
    queued = []
    for review in reviews:
        record = current.get(review.id)
        if record is None:
            queued.append(add_record(review))
        elif _renderable(record):
            record.status, record.error, record.claimed_at = RecordStatus.PENDING, "", None
            jobs.render_after_commit(record)
            queued.append(record)
    db.session.flush()
    return queued


# Reading ----------------------------------------------------------------------------------------


def current_record(review_id: int) -> ReviewRecord | None:
    """The review's record as it stands (not superseded), if there is one."""
    return db.session.scalar(sa.select(ReviewRecord).where(
        ReviewRecord.review_id == review_id, ReviewRecord.superseded.is_(False))
        .order_by(ReviewRecord.version.desc()).limit(1))


@dataclass(frozen=True)
class FrozenGoal:
    """A goal as the record took it at finalising (what the review page shows from then on)."""

    title: str
    progress_label: str
    status_label: str


def frozen_goals(review_id: int) -> list[FrozenGoal] | None:
    """The goals of the review's current record, as finalised; None without one."""
    content = db.session.scalar(
        sa.select(ReviewRecord.content).where(ReviewRecord.review_id == review_id,
                                              ReviewRecord.superseded.is_(False))
        .order_by(ReviewRecord.version.desc()).limit(1))
    if not content or "goals" not in content:
        return None
    return [FrozenGoal(g["title"], g["progress"], g["status"]) for g in content["goals"]]


def records_of(review_id: int) -> list[ReviewRecord]:
    """Every record of a review, newest first."""
    return list(db.session.scalars(sa.select(ReviewRecord).where(
        ReviewRecord.review_id == review_id).order_by(ReviewRecord.version.desc())))


def load_for_download(record_id: int) -> ReviewRecord | None:
    return db.session.scalar(sa.select(ReviewRecord).where(ReviewRecord.id == record_id)
                             .options(undefer(ReviewRecord.pdf),
                                      joinedload(ReviewRecord.review).joinedload(Review.rep),
                                      joinedload(ReviewRecord.review).joinedload(Review.cycle)))


@dataclass
class CycleProgress:
    """How far the records of a cycle's finalised reviews are."""

    finalized: int = 0
    rendered: int = 0
    signed: int = 0
    waiting: int = 0
    failed: list = field(default_factory=list)  # (record, rep name)

    @property
    def missing(self) -> int:
        return self.finalized - self.rendered - self.waiting - len(self.failed)


def cycle_progress(cycle) -> CycleProgress:
    """Counts for the cycle page, in two statements."""
    progress = CycleProgress(finalized=db.session.scalar(sa.select(sa.func.count()).where(
        Review.cycle_id == cycle.id, Review.state == ReviewState.FINALIZED)) or 0)
    rows = db.session.execute(
        sa.select(ReviewRecord, User.name).join(Review, Review.id == ReviewRecord.review_id)
        .join(User, User.id == Review.rep_id)
        .where(Review.cycle_id == cycle.id, Review.state == ReviewState.FINALIZED,
               ReviewRecord.superseded.is_(False)).order_by(User.name)).all()
    for record, rep_name in rows:
        if record.status == RecordStatus.RENDERED:
            progress.rendered += 1
            progress.signed += record.signed
        elif record.status == RecordStatus.FAILED:
            progress.failed.append((record, rep_name))
        else:
            progress.waiting += 1
    return progress


# Drafts ---------------------------------------------------------------------------------------


def draft_visibility(actor: User, review: Review) -> record_content.Visibility:
    """What a draft shows its reader: what the review page shows them."""
    manager = policy.can_see_manager_side(actor, review)
    return record_content.Visibility(
        self_side=policy.can_see_self_assessment(actor, review), manager_side=manager,
        history=manager or policy.may(actor, review, ReviewAction.SEE_HISTORY))


DRAFTS_KEPT = 64  # drafts kept per process, by content: about 50 KB each


# Rendered drafts by what they show: the content's SHA-256 (the viewer's own view of the review,
# its version, the organisation) and the page setup. A draft downloaded again while nothing it
# shows has changed is sent as rendered the first time, instead of taking a worker for half a
# second of layout; any save makes new content, so a new draft.
_drafts: Lru[bytes] = Lru(DRAFTS_KEPT)


def draft_pdf(actor: User, review: Review) -> bytes:
    """A watermarked draft of an open review, rendered when what it shows last changed;
    never stored or signed."""
    policy.authorize_review_action(actor, review, ReviewAction.DOWNLOAD_DRAFT)
    content = record_content.build(review, document_id=f"DRAFT-{review.id:06d}", version=0,
                                   organisation=organisation(),
                                   seen=draft_visibility(actor, review), draft=True)
    from reviewapp.records import render

    digest = record_content.content_sha256(content)
    config = current_app.config
    key = (digest, config.get("RECORDS_PAGE_SIZE", "A4"), config.get("RECORDS_PDF_VARIANT"))
    pdf = _drafts.get(key)
    if pdf is None:
        pdf = render.render_pdf(content, digest)
        _drafts.put(key, pdf)
    return pdf
