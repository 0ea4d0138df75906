"""Review actions after the manager's review: calibrate, share, acknowledge, finalise, reopen,
reassign; and the review's audit trail. Thin handlers: parse, call one service, answer."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from reviewapp import policy
from reviewapp.audit.models import AuditEvent
from reviewapp.auth.models import User
from reviewapp.extensions import db
from reviewapp.policy import ReviewAction
from reviewapp.reviews import bp, confirmations, decisions
from reviewapp.reviews.views import _int_or_none, _load, _refused, _version
from reviewapp.transaction import attempt


def _done(review_id: int, message: str, category: str = "success", anchor: str = ""):
    flash(message, category)
    return redirect(url_for("reviews.review", review_id=review_id) + anchor)


def _act(review_id: int, service, *args, message: str, anchor: str = "",
         confirm: ReviewAction | None = None, **kwargs):
    """Run one decision on the review: redirect on success, the page with the refusal on 422.
    A one-way decision (`confirm`) that the actor may take asks first, unless confirmed; not
    when the form is older than the review (the question would carry the current version, so
    confirming would act on changes the actor never saw): the service answers the conflict."""
    review = _load(review_id)
    stale = kwargs.get("expected_version") not in (None, review.version)
    if (confirm is not None and not confirmations.confirmed() and not stale
            and policy.may(current_user, review, confirm)):
        return confirmations.ask(review, confirm)
    outcome = attempt(service, current_user, review, *args, **kwargs)
    if not outcome.ok:
        return _refused(review_id, outcome.error)
    return _done(review_id, message, anchor=anchor)


@bp.route("/<int:review_id>/calibrate/<int:competency_id>", methods=["POST"])
def calibrate(review_id: int, competency_id: int):
    return _act(review_id, decisions.adjust_rating, competency_id,
                _int_or_none(request.form.get(f"calibrated_{competency_id}")),
                request.form.get(f"reason_{competency_id}", ""), expected_version=_version(),
                message="The calibrated rating is saved beside the manager's."
                if request.form.get(f"calibrated_{competency_id}") else
                "The manager's rating counts again; the calibration is kept in the history.",
                anchor="#calibration")


@bp.route("/<int:review_id>/potential", methods=["POST"])
def potential(review_id: int):
    return _act(review_id, decisions.set_potential,
                _int_or_none(request.form.get("potential")), expected_version=_version(),
                message="Potential saved.")


@bp.route("/<int:review_id>/return", methods=["POST"])
def return_to_manager(review_id: int):
    return _act(review_id, decisions.return_to_manager, request.form.get("reason", ""),
                expected_version=_version(),
                message="The review went back to its manager with your reason.")


@bp.route("/<int:review_id>/share", methods=["POST"])
def share(review_id: int):
    return _act(review_id, decisions.share, confirm=ReviewAction.SHARE,
                expected_version=_version(),
                message="The review is shared: the rep can read and acknowledge it now.")


@bp.route("/<int:review_id>/acknowledge", methods=["POST"])
def acknowledge(review_id: int):
    return _act(review_id, decisions.acknowledge,
                typed_name=request.form.get("typed_name", ""),
                read_confirmed=request.form.get("read_confirmed") == "1",
                comment=request.form.get("comment", ""), expected_version=_version(),
                message="Thank you: your acknowledgement is recorded with the review.")


@bp.route("/<int:review_id>/conversation", methods=["POST"])
def conversation(review_id: int):
    return _act(review_id, decisions.request_conversation, request.form.get("note", ""),
                expected_version=_version(),
                message="Your manager has been asked for a conversation.")


@bp.route("/<int:review_id>/finalize", methods=["POST"])
def finalize(review_id: int):
    return _act(review_id, decisions.finalize, confirm=ReviewAction.FINALIZE,
                expected_version=_version(),
                message="The review is finalised and read-only. Only HR can reopen it.")


@bp.route("/<int:review_id>/reopen", methods=["POST"])
def reopen(review_id: int):
    return _act(review_id, decisions.reopen, request.form.get("reason", ""),
                expected_version=_version(),
                message="The review is reopened and back with its manager.")


@bp.route("/<int:review_id>/reassign", methods=["POST"])
def reassign(review_id: int):
    manager_id = _int_or_none(request.form.get("manager"))
    manager = db.session.get(User, manager_id) if manager_id else None
    return _act(review_id, decisions.reassign, manager, request.form.get("reason", ""),
                expected_version=_version(),
                message="The review has a new reviewer.")


@bp.route("/<int:review_id>/history")
def history(review_id: int):
    review = _load(review_id)
    if not policy.may(current_user, review, ReviewAction.SEE_HISTORY):
        abort(403)
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "review",
                                    AuditEvent.entity_id == review.id)
        .options(sa.orm.selectinload(AuditEvent.actor)).order_by(AuditEvent.id)).all()
    # A side's saves carry its texts and ratings: shown to whoever may read that side now
    # (a draft stays its author's; the event itself, who and when, is there for everyone).
    may_see = {"self": policy.can_see_self_assessment(current_user, review),
               "manager": policy.can_see_manager_side(current_user, review)}
    withheld = {e.id for e in events if not may_see.get(SIDE_OF_EVENT.get(e.action), True)}
    return render_template("reviews/history.html", review=review, events=events,
                           withheld=withheld)


# Events whose values belong to one side of the review.
SIDE_OF_EVENT = {"review.self_save": "self", "review.manager_save": "manager",
                 "review.kpi_override": "manager", "review.override_cleared": "manager",
                 "review.potential": "manager"}
