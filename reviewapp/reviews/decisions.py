"""After the manager's review: calibration, sharing, the rep's acknowledgement, finalising,
reopening and reassigning. Each action asks the one table in policy; each change is audited.

Services flush and never commit; the request (or CLI command) commits once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from reviewapp import policy, text_limits
from reviewapp.audit.models import AuditEvent
from reviewapp.audit.services import record
from reviewapp.auth.models import Role, User
from reviewapp.errors import ActionUnavailable, NotAllowed, ServiceError
from reviewapp.extensions import db
from reviewapp.notifications import events as email_events
from reviewapp.notifications.services import notify, settle
from reviewapp.policy import ReviewAction
from reviewapp.reviews.models import Acknowledgement, Review, ReviewState
from reviewapp.reviews.scoring import DIVERGENCE_THRESHOLD
from reviewapp.reviews.services import (
    authorize,
    flush_review,
    now,
    refresh_scores,
    scores_of,
    touch,
    transition,
)

ACKNOWLEDGE_STATEMENT = "I have read this review. Acknowledging does not mean I agree."
POTENTIAL_LABELS = {1: "Low", 2: "Medium", 3: "High"}

# Called with each review just finalised (the records area renders and stores its PDF).
on_finalized: list[Callable[[User, Review], None]] = []
# Called with each review just reopened (the records area marks its record superseded).
on_reopened: list[Callable[[User, Review], None]] = []


def _link(review: Review) -> str:
    return f"/reviews/{review.id}"


def _reason(text: str | None, what: str, field: str = "reason") -> str:
    text = text_limits.check(text, text_limits.NOTE, field, "The reason")
    if not text:
        raise ServiceError(f"Write the reason for {what}; it is kept with the review.",
                           field=field)
    return text


# Calibration ---------------------------------------------------------------------------------


def adjust_rating(actor: User, review: Review, cycle_competency_id: int,
                  calibrated: int | None, reason: str, *,
                  expected_version: int | None = None) -> None:
    """Set the calibrated rating of one competency beside the manager's (None: back to the
    manager's). A reason is required; the change is audited. A form opened before another
    change of the review (another calibrator's) loses as a conflict instead of replacing it."""
    authorize(actor, review, ReviewAction.ADJUST_RATING, expected_version=expected_version)
    rating = next((r for r in review.ratings if r.cycle_competency_id == cycle_competency_id),
                  None)
    if rating is None:
        raise ServiceError("That competency is not part of this review.")
    field = f"calibrated_{cycle_competency_id}"
    if calibrated is not None and not 1 <= int(calibrated) <= 5:
        raise ServiceError("A rating runs from 1 to 5.", field=field)
    if calibrated is not None and int(calibrated) == rating.manager_rating:
        calibrated = None  # the same as the manager's: nothing is adjusted
    reason = _reason(reason, "the adjustment", f"reason_{cycle_competency_id}") \
        if calibrated is not None else ""
    before = {"competency": rating.cycle_competency.name, "manager": rating.manager_rating,
              "calibrated": rating.calibrated_rating, "reason": rating.calibration_reason}
    rating.calibrated_rating = None if calibrated is None else int(calibrated)
    rating.calibration_reason = reason if calibrated is not None else ""
    rating.calibrated_by_id = actor.id if calibrated is not None else None
    rating.calibrated_at = now() if calibrated is not None else None
    refresh_scores(review)
    touch(actor, review)
    record(actor, "review.calibrate", "review", review.id, before=before,
           after={"competency": rating.cycle_competency.name, "manager": rating.manager_rating,
                  "calibrated": rating.calibrated_rating}, reason=reason or None)


@dataclass(frozen=True)
class SentBack:
    """Why a review is back with its manager: HR returned it from calibration or reopened it."""

    how: str  # "returned" or "reopened"
    by: str
    at: datetime
    reason: str


def sent_back(review: Review) -> SentBack | None:
    """The last return or reopening of a review now in manager review, for its manager's page;
    None when it came there the ordinary way (the self-assessment, or its deadline passing)."""
    if review.state != ReviewState.MANAGER_REVIEW:
        return None
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "review",
                                    AuditEvent.entity_id == review.id,
                                    AuditEvent.action == "review.state")
        .order_by(AuditEvent.id.desc()).limit(1))
    came_from = (event.before or {}).get("state") if event else None
    if came_from not in (ReviewState.CALIBRATION.value, ReviewState.FINALIZED.value):
        return None
    return SentBack("returned" if came_from == ReviewState.CALIBRATION.value else "reopened",
                    event.actor.name if event.actor else "HR", event.at, event.reason or "")


def cleared_overrides(review: Review) -> list[AuditEvent]:
    """KPI overrides that new data cleared and nobody has set again, for the manager's page."""
    if review.state not in (ReviewState.SELF_REVIEW, ReviewState.MANAGER_REVIEW):
        return []
    open_kpis = {s.cycle_kpi.name for s in review.kpi_scores if s.override_score is None}
    latest: dict[str, AuditEvent] = {}
    for event in db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.entity_type == "review", AuditEvent.entity_id == review.id,
                AuditEvent.action.in_(["review.override_cleared", "review.kpi_override"]))
            .order_by(AuditEvent.id)):
        latest[(event.after or {}).get("kpi", "")] = event
    return [e for kpi, e in latest.items()
            if e.action == "review.override_cleared" and kpi in open_kpis]


def _clear_calibration(actor: User, review: Review) -> None:
    """Back with its manager, a review counts the manager's ratings again: a calibrated rating
    left in place would outweigh what the manager now rates without their seeing it. What HR
    had set stays in the audit trail, and the next calibration starts from the rework. Called
    before the state change that flushes (return) or the touch after it (reopen)."""
    cleared = {r.cycle_competency.name: {"manager": r.manager_rating,
                                         "calibrated": r.calibrated_rating,
                                         "reason": r.calibration_reason}
               for r in review.ratings if r.calibrated_rating is not None}
    if not cleared:
        return
    for rating in review.ratings:
        rating.calibrated_rating = rating.calibrated_by_id = rating.calibrated_at = None
        rating.calibration_reason = ""
    refresh_scores(review)  # the caller's touch (or transition) flushes it with the rest
    record(actor, "review.calibration_cleared", "review", review.id, before=cleared,
           reason="back with the manager for rework")


def set_potential(actor: User, review: Review, potential: int | None, *,
                  expected_version: int | None = None) -> None:
    """The manager's (or HR's, in calibration) view of potential: 1 low, 2 medium, 3 high."""
    authorize(actor, review, ReviewAction.SET_POTENTIAL, expected_version=expected_version)
    if potential is not None and potential not in POTENTIAL_LABELS:
        raise ServiceError("Choose low, medium or high potential.", field="potential")
    before = review.potential
    review.potential = potential
    touch(actor, review)
    record(actor, "review.potential", "review", review.id, before={"potential": before},
           after={"potential": potential})


def return_to_manager(actor: User, review: Review, reason: str, *,
                      expected_version: int | None = None) -> None:
    """HR sends a review in calibration back to its manager for rework, with a reason."""
    authorize(actor, review, ReviewAction.RETURN_TO_MANAGER, expected_version=expected_version)
    reason = _reason(reason, "returning the review")
    _clear_calibration(actor, review)
    transition(actor, review, ReviewAction.RETURN_TO_MANAGER, reason=reason)
    notify(review.manager_id, f"HR returned the review of {review.rep.name} to you: {reason}",
           _link(review))
    email_events.review_returned(actor, review, reason)


# Sharing and the rep's answer ----------------------------------------------------------------


def share(actor: User, review: Review, *, expected_version: int | None = None) -> None:
    """The rep may now read the whole review and acknowledge it (as the sharer last saw it:
    a page older than the review, say calibrated since, loses with a conflict)."""
    authorize(actor, review, ReviewAction.SHARE, expected_version=expected_version)
    unreconciled = _unreconciled(review)
    if unreconciled:
        raise ActionUnavailable(unreconciled)
    review.shared_at = now()
    transition(actor, review, ReviewAction.SHARE)
    notify(review.rep_id, f"Your {review.cycle.review_label} has been shared with you. "
           "Read it and acknowledge it.", _link(review))
    email_events.review_shared(actor, review)


# What keyboards and phones type for the apostrophe and the hyphen of a name.
_NAME_MARKS = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'",
                             "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-"})


def _unreconciled(review: Review) -> str | None:
    """Why the review may not be shared yet: its two sides now differ by the threshold or more
    (calibration moved one) and no reconciliation note explains it; None when it may."""
    scores = scores_of(review)
    if not scores.divergent or review.reconciliation_note.strip():
        return None
    return (f"{scores.both_sides} of {review.rep.name}'s review now differ by "
            f"{DIVERGENCE_THRESHOLD:g} or more, and no reconciliation note explains why. Return "
            "it to its manager to write one before it is shared.")


def _same_name(typed: str, name: str) -> bool:
    def fold(text: str) -> str:
        text = unicodedata.normalize("NFC", text).translate(_NAME_MARKS)
        return re.sub(r"\s+", " ", text).strip().casefold()
    return fold(typed) == fold(name)


def acknowledge(actor: User, review: Review, *, typed_name: str, read_confirmed: bool,
                comment: str = "", expected_version: int | None = None) -> Acknowledgement:
    """The rep says they have read the review (not that they agree), typing their full name.
    Opened before HR finalised it: a conflict, so that the page keeps the rep's comment."""
    authorize(actor, review, ReviewAction.ACKNOWLEDGE, expected_version=expected_version)
    typed = re.sub(r"\s+", " ", typed_name or "").strip()
    if not typed:
        raise ServiceError("Type your full name to acknowledge.", field="typed_name")
    if not _same_name(typed, actor.name):
        raise ServiceError(f"Type your full name as it appears on the review ({actor.name}).",
                           field="typed_name")
    if not read_confirmed:
        raise ServiceError(f"Tick “{ACKNOWLEDGE_STATEMENT}”", field="read_confirmed")
    comment = text_limits.check(comment, text_limits.REVIEW_TEXT, "comment", "Your comment")
    ack = Acknowledgement(review=review, user_id=actor.id, typed_name=typed,
                          comment=comment, acknowledged_at=now())
    db.session.add(ack)
    transition(actor, review, ReviewAction.ACKNOWLEDGE)
    record(actor, "review.acknowledge", "review", review.id,
           after={"typed_name": typed, "comment": ack.comment})
    notify(review.manager_id, f"{review.rep.name} acknowledged the {review.cycle.review_label}"
           + (" with a comment." if ack.comment else "."), _link(review))
    return ack


def request_conversation(actor: User, review: Review, note: str = "", *,
                         expected_version: int | None = None) -> None:
    """The rep asks the manager for a conversation instead of acknowledging (stays shared)."""
    authorize(actor, review, ReviewAction.REQUEST_CONVERSATION,
              expected_version=expected_version)
    if review.conversation_requested_at is not None:
        raise ActionUnavailable("You have already asked for a conversation; your manager "
                                "has been told.")
    note = text_limits.check(note, text_limits.NOTE, "note", "Your note")
    review.conversation_requested_at = now()
    review.conversation_note = note
    touch(actor, review)
    record(actor, "review.conversation", "review", review.id,
           after={"note": review.conversation_note})
    notify(review.manager_id, f"{review.rep.name} asked for a conversation about the "
           f"{review.cycle.review_label}.", _link(review))
    email_events.conversation_requested(actor, review)


# Finalising, reopening, reassigning ----------------------------------------------------------


def finalize(actor: User, review: Review, *, today: date | None = None,
             expected_version: int | None = None) -> None:
    """Lock the review for good (HR): acknowledged, or shared and past the acknowledgement
    deadline (the record then says "not acknowledged"). HR finalises what they saw: a page
    opened before the rep acknowledged or asked for a conversation loses as a conflict."""
    to = authorize(actor, review, ReviewAction.FINALIZE, expected_version=expected_version,
                   today=today)
    refresh_scores(review)
    # Flush the last score change while the review is still open: once its row says
    # finalized, the database refuses any change to its ratings and KPI scores. The state
    # change below moves the version on, once for the one decision.
    flush_review(review, actor)
    review.finalized_at, review.finalized_by_id = now(), actor.id
    unacknowledged = review.state == ReviewState.SHARED
    transition(actor, review, ReviewAction.FINALIZE, today=today,
               reason="Finalised without acknowledgement after the deadline"
               if unacknowledged else None)
    assert review.state == to == ReviewState.FINALIZED
    settle(review.rep_id, _link(review))  # nothing about it is left for the rep to do
    for hook in on_finalized:
        hook(actor, review)


def finalize_cycle(actor: User, cycle, *, today: date | None = None) -> list[Review]:
    """Finalise every acknowledged review of the cycle (HR); returns those finalised."""
    reviews = list(db.session.scalars(sa.select(Review).where(
        Review.cycle_id == cycle.id, Review.state == ReviewState.ACKNOWLEDGED)
        .order_by(Review.id)))
    if not policy.can_manage_cycles(actor):
        raise NotAllowed("Only HR finalises reviews.")
    for review in reviews:
        finalize(actor, review, today=today)
    return reviews


def reopen(actor: User, review: Review, reason: str, *,
           expected_version: int | None = None) -> None:
    """Only HR, with a written reason: back to manager review; the old acknowledgement and
    record are kept, marked superseded."""
    authorize(actor, review, ReviewAction.REOPEN, expected_version=expected_version)
    reason = _reason(reason, "reopening")
    # The state event records the prior state and the reason; leaving `finalized` comes
    # first, since the lock refuses any other change while the review is finalised.
    transition(actor, review, ReviewAction.REOPEN, reason=reason)
    review.finalized_at = review.finalized_by_id = None
    review.shared_at = review.conversation_requested_at = None
    for ack in review.acknowledgements:
        ack.superseded = True
    _clear_calibration(actor, review)
    touch(actor, review)
    for hook in on_reopened:
        hook(actor, review)
    notify(review.manager_id, f"HR reopened the review of {review.rep.name}: {reason}",
           _link(review))
    email_events.review_returned(actor, review, reason, reopened=True)


def _not_a_peer(review: Review, manager: User) -> None:
    """A reviewer is never one of the review's peers: the peer summary they read would hold
    their own answer, and with it taken out the others' could be told apart."""
    from reviewapp.peers.models import HOLDING, PeerRequest

    asked = db.session.scalar(sa.select(PeerRequest.state).where(
        PeerRequest.review_id == review.id, PeerRequest.peer_id == manager.id,
        PeerRequest.state.in_(HOLDING)))
    if asked is not None:
        raise ServiceError(f"{manager.name} is one of this review's peers ({asked.label}); a "
                           "reviewer cannot be, since the peer summary would hold their own "
                           "answer. Choose another manager.", field="manager")


def reassign(actor: User, review: Review, manager: User | None, reason: str, *,
             expected_version: int | None = None) -> None:
    """HR gives an open review to another manager (a reporting line changed mid-cycle)."""
    authorize(actor, review, ReviewAction.REASSIGN, expected_version=expected_version)
    if manager is None or not manager.active or manager.role != Role.MANAGER:
        raise ServiceError("Choose an active manager.", field="manager")
    if manager.id == review.rep_id:
        raise ServiceError("A rep cannot review themselves.", field="manager")
    if manager.id == review.manager_id:
        raise ServiceError(f"{manager.name} is already the reviewer.", field="manager")
    _not_a_peer(review, manager)
    reason = _reason(reason, "the reassignment")
    before = review.manager.name if review.manager else None
    previous = review.manager_id
    review.manager = manager  # the relationship too: a record built next names the new one
    touch(actor, review)
    record(actor, "review.reassign", "review", review.id, before={"manager": before},
           after={"manager": manager.name}, reason=reason)
    notify(manager.id, f"The review of {review.rep.name} ({review.cycle.name}) is now yours "
           "to write.", _link(review))
    email_events.review_reassigned(actor, review)
    notify(previous, f"The review of {review.rep.name} was reassigned to {manager.name}.")


@dataclass(frozen=True)
class Shared:
    """What sharing a whole cycle did: the reviews shared, and those held back for a
    reconciliation note (their reps' names)."""

    shared: list[Review]
    held: list[str]


def share_cycle(actor: User, cycle) -> Shared:
    """Share every review of the cycle that is in calibration (HR), except those that need a
    reconciliation note first."""
    if not policy.can_manage_cycles(actor):
        raise NotAllowed("Only HR shares a whole cycle.")
    reviews = list(db.session.scalars(sa.select(Review).where(
        Review.cycle_id == cycle.id, Review.state == ReviewState.CALIBRATION)
        .order_by(Review.id)))
    shared, held = [], []
    for review in reviews:
        if _unreconciled(review):
            held.append(review.rep.name)
            continue
        share(actor, review)
        shared.append(review)
    return Shared(shared, held)
