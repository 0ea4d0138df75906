"""Downloads of review records and drafts, the cycle ZIP, and HR's retries. Thin handlers."""

from __future__ import annotations

import base64
import hashlib
import tempfile

from flask import (
    Response,
    abort,
    flash,
    redirect,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required

from reviewapp import policy
from reviewapp.auth.views import safe_next
from reviewapp.cycles.models import Cycle
from reviewapp.errors import NotAllowed
from reviewapp.extensions import db
from reviewapp.policy import ReviewAction
from reviewapp.records import bp, export, services
from reviewapp.records.content import load_review
from reviewapp.records.models import ReviewRecord
from reviewapp.transaction import attempt

NO_STORE = "private, no-store"
SPOOL = 16 * 1024 * 1024


@bp.before_request
@login_required
def _logged_in():
    pass


def _pdf(data: bytes, name: str) -> Response:
    """The bytes as they are, as a download that no cache keeps."""
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": export.attachment_header(name),
        "Cache-Control": NO_STORE, "X-Content-Type-Options": "nosniff",
        "Repr-Digest": f"sha-256=:{digest}:"})


def _to_review(review_id: int, message: str, category: str = "info"):
    flash(message, category)
    return redirect(url_for("reviews.review", review_id=review_id))


@bp.route("/<int:record_id>.pdf")
def record(record_id: int):
    found = services.load_for_download(record_id)
    policy.visible_or_404(found is not None
                          and policy.can_view_review(current_user, found.review))
    policy.require(policy.can_download_record(current_user, found))
    if not found.rendered:
        return _to_review(found.review_id, "The record of this review is not rendered yet: "
                          f"{found.status.label.lower()}.", "warning")
    return _pdf(found.pdf, export.record_file_name(found))


@bp.route("/reviews/<int:review_id>/draft.pdf")
def draft(review_id: int):
    review = load_review(review_id)
    policy.visible_or_404(review is not None and policy.can_view_review(current_user, review))
    refusal = policy.review_action_refusal(current_user, review, ReviewAction.DOWNLOAD_DRAFT)
    if isinstance(refusal, NotAllowed):
        abort(403)
    if refusal is not None:
        return _to_review(review_id, "This review is finalised: download its record instead "
                          "of a draft.")
    return _pdf(services.draft_pdf(current_user, review),
                export.file_name(review.cycle.period_label, review.rep.name, draft=True))


@bp.route("/cycles/<int:cycle_id>.zip")
def cycle_zip(cycle_id: int):
    policy.require(policy.can_download_cycle_records(current_user))
    cycle = db.get_or_404(Cycle, cycle_id)
    policy.visible_or_404(cycle.launched)
    team_id = request.args.get("team", type=int)
    policy.visible_or_404(team_id is None or export.team_in_view(cycle, current_user, team_id))
    entries = export.cycle_entries(cycle, current_user, team_id)
    suffix = f"_team-{team_id}" if team_id else ""
    # Written while the request has its database session, a batch of PDFs at a time, to a file
    # that spills to disk past SPOOL bytes; then streamed from there.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL)
    for chunk in export.stream_zip(entries):
        spool.write(chunk)
    spool.seek(0)
    response = send_file(spool, mimetype="application/zip", as_attachment=True,
                         download_name=f"{export.period_part(cycle.period_label)}_review-records"
                                       f"{suffix}.zip", conditional=False, etag=False)
    response.headers["Cache-Control"] = NO_STORE
    return response


@bp.route("/<int:record_id>/retry", methods=["POST"])
def retry(record_id: int):
    found = db.get_or_404(ReviewRecord, record_id)
    policy.visible_or_404(policy.can_view_review(current_user, found.review))
    policy.require(policy.can_manage_records(current_user))
    outcome = attempt(services.retry, current_user, found)
    if not outcome.ok:
        flash(outcome.error.message, "error")
    else:
        flash("The record is queued for rendering again.", "success")
    return redirect(safe_next(request.form.get("next"))
                    or url_for("reviews.review", review_id=found.review_id))


@bp.route("/cycles/<int:cycle_id>/render", methods=["POST"])
def render_cycle(cycle_id: int):
    policy.require(policy.can_manage_records(current_user))
    cycle = db.get_or_404(Cycle, cycle_id)
    outcome = attempt(services.fill_in, cycle, actor=current_user)
    if outcome.ok:
        n = len(outcome.value)
        flash(f"{n} record{'s' if n != 1 else ''} queued for rendering." if n else
              "Every finalised review already has its record.", "success")
    else:
        flash(outcome.error.message, "error")
    return redirect(url_for("cycles.cycle", cycle_id=cycle_id) + "#records")
