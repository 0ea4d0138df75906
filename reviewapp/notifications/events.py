"""The events that need someone, one function each: the services call them with the change,
and each writes the email (and, where the service does not already, the in-app notification)
in the same transaction.

What an email may say is what its recipient may see: each one is about the recipient's own
review or goal, or about a review or goal they may open (checked with policy); a rep is never
told anything about another rep.
"""

from __future__ import annotations

import sqlalchemy as sa

from reviewapp import policy
from reviewapp.auth.models import Role, User
from reviewapp.extensions import db
from reviewapp.notifications.models import MailKind, Notification
from reviewapp.notifications.outbox import Email, enqueue, page_path, page_url
from reviewapp.notifications.services import notify


def _review_link(review) -> str:
    return page_url("reviews.review", review_id=review.id)


def _for_review(user: User | None, review, kind: MailKind, email: Email, actor,
                **kwargs) -> None:
    """Email someone about a review, only if they may open it."""
    if user is None or not policy.can_view_review(user, review):
        return
    enqueue(user, kind, email, actor=actor, cycle_id=review.cycle_id, **kwargs)


# Reviews -------------------------------------------------------------------------------------


def self_assessment_open(actor: User, cycle, reviews) -> None:
    """A cycle was launched: each rep's self-assessment is open."""
    for review in reviews:
        rep = review.rep
        email = Email(
            subject=f"Your self-assessment for {cycle.name} is open",
            what=f"The {cycle.review_label} cycle has started. Rate yourself on each "
                 "competency with written evidence, and submit it to your manager.",
            link=_review_link(review), action="Write your self-assessment",
            facts=[("Review", f"{rep.name}, {cycle.name}")], due=cycle.self_due)
        notify(rep.id, f"Your self-assessment for {cycle.name} is open: due "
               f"{email.due_text}.", f"/reviews/{review.id}")
        _for_review(rep, review, MailKind.SELF_ASSESSMENT_OPEN, email, actor)


def self_submitted(actor: User, review) -> None:
    """The rep submitted the self-assessment: the review waits for the manager."""
    cycle, rep = review.cycle, review.rep
    email = Email(
        subject=f"{rep.name} submitted the self-assessment: your review is next",
        what=f"{rep.name} submitted the self-assessment for {cycle.name}. Read it beside "
             "your form and write your review.",
        link=_review_link(review), action="Write the review",
        facts=[("Review", f"{rep.name}, {cycle.name}")], due=cycle.manager_due)
    notify(review.manager_id, f"{rep.name} submitted the self-assessment for {cycle.name}: "
           "your review is next.", f"/reviews/{review.id}")
    _for_review(review.manager, review, MailKind.SELF_SUBMITTED, email, actor)


def review_returned(actor: User, review, reason: str, *, reopened: bool = False) -> None:
    """HR returned a review from calibration, or reopened a finalised one, to the manager."""
    cycle, rep = review.cycle, review.rep
    how = "reopened" if reopened else "returned"
    email = Email(
        subject=f"HR {how} the review of {rep.name} to you",
        what=f"HR {how} the {cycle.review_label} of {rep.name} to you for rework.",
        link=_review_link(review), action="Open the review",
        facts=[("Review", f"{rep.name}, {cycle.name}")], due=cycle.manager_due,
        note=reason)
    _for_review(review.manager, review, MailKind.REVIEW_RETURNED, email, actor)


def review_reassigned(actor: User, review) -> None:
    """HR gave an open review to another manager."""
    cycle, rep = review.cycle, review.rep
    deadline = review.deadline
    email = Email(
        subject=f"The review of {rep.name} is now yours",
        what=f"HR reassigned the {cycle.review_label} of {rep.name} to you.",
        link=_review_link(review), action="Open the review",
        facts=[("Review", f"{rep.name}, {cycle.name}"), ("State", review.state.label)],
        due=deadline.due if deadline else None)
    _for_review(review.manager, review, MailKind.REVIEW_REASSIGNED, email, actor)


def calibration_open(actor: User, review) -> None:
    """A review of the cycle reached calibration: HR and its manager are told once per cycle."""
    cycle = review.cycle
    email = Email(
        subject=f"Calibration of {cycle.name} is open",
        what=f"Reviews of {cycle.name} are arriving in calibration: compare ratings across "
             "teams before anyone's review is shared.",
        link=page_url("cycles.calibration", cycle_id=cycle.id), action="Open calibration",
        facts=[("Cycle", cycle.name)], due=cycle.calibration_due)
    path = page_path("cycles.calibration", cycle_id=cycle.id)
    text = f"Calibration of {cycle.name} is open: due {email.due_text}."
    hr = db.session.scalars(sa.select(User).where(User.role == Role.HR_ADMIN, User.active))
    for person in [*hr, review.manager]:
        if person is None:
            continue
        if not db.session.scalar(sa.select(Notification.id).where(
                Notification.user_id == person.id, Notification.link == path,
                Notification.message == text)):
            notify(person.id, text, path)
        enqueue(person, MailKind.CALIBRATION_OPEN, email, cycle_id=cycle.id,
                dedupe_key=f"calibration_open:{cycle.id}:{person.id}")


def review_shared(actor: User, review) -> None:
    """The review is shared with the rep, who is asked to read and acknowledge it."""
    cycle, rep = review.cycle, review.rep
    email = Email(
        subject=f"Your {cycle.review_label} is ready: please read and acknowledge it",
        what=f"Your {cycle.review_label} has been shared with you. Read it, then acknowledge "
             "it (acknowledging means you have read it, not that you agree) or ask your "
             "manager for a conversation.",
        link=_review_link(review), action="Read your review",
        facts=[("Review", f"{rep.name}, {cycle.name}")], due=cycle.acknowledgement_due)
    _for_review(rep, review, MailKind.REVIEW_SHARED, email, actor)


def conversation_requested(actor: User, review) -> None:
    """The rep asked the manager for a conversation about the shared review."""
    cycle, rep = review.cycle, review.rep
    email = Email(
        subject=f"{rep.name} asks for a conversation about the {cycle.review_label}",
        what=f"{rep.name} read the {cycle.review_label} and asks you for a conversation "
             "before acknowledging it.",
        link=_review_link(review), action="Open the review",
        facts=[("Review", f"{rep.name}, {cycle.name}")], due=cycle.acknowledgement_due,
        note=review.conversation_note)
    _for_review(review.manager, review, MailKind.CONVERSATION_REQUESTED, email, actor)


# Goals ---------------------------------------------------------------------------------------


def goal_proposal_waiting(actor: User, goal) -> None:
    """A rep proposed a goal (or sent a returned one back): it waits for their manager."""
    owner = goal.owner
    manager = owner.manager if owner else None
    if manager is None or not policy.can_manage_goal(manager, goal):
        return
    email = Email(
        subject=f"{owner.name} proposes a goal: {goal.title}",
        what=f"{owner.name} proposes the goal “{goal.title}” and waits for you to approve "
             "it or return it with a comment.",
        link=page_url("goals.detail", goal_id=goal.id), action="Open the goal",
        facts=[("Goal", goal.title), ("For", owner.name)], due=None)
    notify(manager.id, f"{owner.name} proposes a goal: {goal.title}", f"/goals/{goal.id}")
    enqueue(manager, MailKind.GOAL_PROPOSAL_WAITING, email, actor=actor)


def goal_returned(actor: User, goal, comment: str) -> None:
    """The manager returned the rep's proposal with a comment."""
    owner = goal.owner
    if owner is None or not policy.can_view_goal(owner, goal):
        return
    email = Email(
        subject=f"Your goal proposal was returned: {goal.title}",
        what=f"Your manager returned your proposed goal “{goal.title}”. Change it as the "
             "comment says; it then goes back for approval.",
        link=page_url("goals.detail", goal_id=goal.id), action="Edit the goal",
        facts=[("Goal", goal.title)], note=comment)
    notify(owner.id, f"Your goal proposal was returned: {goal.title}", f"/goals/{goal.id}")
    enqueue(owner, MailKind.GOAL_RETURNED, email, actor=actor)


# Peer feedback -------------------------------------------------------------------------------


def peer_feedback_requested(actor: User, review, request) -> None:
    """A colleague is asked for feedback on a rep's work: the email and the notification link
    to the feedback form (the peer may not open the review itself). The rep's name is the one
    thing about another rep a rep is told, because answering needs it."""
    peer, rep, cycle = request.peer, review.rep, review.cycle
    # Nominated by the rep (and approved by the manager), or added by the manager themselves.
    who = f"{rep.name} would value" if request.nominated_by_id == rep.id else \
        f"{actor.name}, who writes {rep.name}'s review, asks for"
    email = Email(
        subject=f"Feedback on {rep.name}'s work ({cycle.name})",
        what=f"{who} your feedback on {rep.name}'s work in the {cycle.review_label}. Rate "
             "the competencies you have seen, each with one concrete example, or decline "
             "with a reason. Your answer is anonymous: it is shown only together with other "
             "colleagues' answers, and never with your name.",
        link=page_url("peers.request_page", request_id=request.id),
        action="Give your feedback", facts=[("Colleague", rep.name), ("Cycle", cycle.name)],
        due=cycle.peer_due)
    notify(peer.id, f"{who} your feedback for the {cycle.review_label}"
           + (f", by {email.due_text}" if cycle.peer_due else "")
           + ". Your answer is anonymous.", f"/peers/requests/{request.id}")
    enqueue(peer, MailKind.PEER_FEEDBACK_REQUESTED, email, actor=actor, cycle_id=cycle.id)
