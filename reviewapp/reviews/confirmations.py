"""A question before a review transition that cannot be taken back.

Without script the button's POST answers with a confirmation page whose form posts again with
confirm=1 (and whatever else the first POST carried); with script, static/js/confirm.js asks in
a <dialog> from the button's data-confirm and posts with confirm=1 directly. Only a confirmed
POST performs the transition.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request, url_for

from reviewapp.policy import ReviewAction


@dataclass(frozen=True)
class Confirmation:
    title: str
    about: str  # "You are about to ..."
    after: str  # what can no longer be done afterwards


# Wording per one-way transition; every key is an action of policy.REVIEW_ACTIONS that moves
# the review on (tests/reviews/test_confirmations.py checks that). {rep} and {manager} are the
# review's people.
ONE_WAY: dict[ReviewAction, Confirmation] = {
    ReviewAction.SUBMIT_SELF: Confirmation(
        "Submit your self-assessment?",
        "You are about to submit your self-assessment to {manager}.",
        "After this you can no longer edit it; {manager} reads it and writes the review."),
    ReviewAction.SKIP_SELF: Confirmation(
        "Move on without the self-assessment?",
        "You are about to move on without {rep}'s self-assessment.",
        "After this {rep} can no longer submit one; the review records that it was skipped."),
    ReviewAction.SUBMIT_MANAGER: Confirmation(
        "Submit to calibration?",
        "You are about to submit your review of {rep} to calibration.",
        "After this you can no longer edit your ratings or comments; HR calibrates the review "
        "and it is then shared with {rep}."),
    ReviewAction.SHARE: Confirmation(
        "Share the review?",
        "You are about to share the review with {rep}.",
        "After this {rep} reads the whole review, and its ratings can no longer be calibrated."),
    ReviewAction.FINALIZE: Confirmation(
        "Finalise the review?",
        "You are about to finalise the review of {rep}.",
        "After this nobody can change it and its record is stored; only HR can reopen it, "
        "with a reason."),
}

_NOT_REPEATED = {"csrf_token", "confirm", "version"}


def _names(review) -> dict[str, str]:
    return {"rep": review.rep.name,
            "manager": review.manager.name if review.manager else "your manager"}


def question(action: ReviewAction, review) -> str:
    """The dialog's text for the action's button (its data-confirm)."""
    wording, names = ONE_WAY[action], _names(review)
    return f"{wording.about.format(**names)} {wording.after.format(**names)}"


def confirmed() -> bool:
    """The POST carries the confirmation (the page's or the dialog's)."""
    return request.form.get("confirm") == "1"


def ask(review, action: ReviewAction, *, saved: bool = False):
    """The confirmation page: the same POST again, with confirm=1 and the review's version as
    it is now (a draft saved on the way here has moved it on; `saved` says so on the page)."""
    wording, names = ONE_WAY[action], _names(review)
    repeated = [(k, v) for k, v in request.form.items(multi=True) if k not in _NOT_REPEATED]
    if "version" in request.form:
        repeated.append(("version", str(review.version)))
    return render_template(
        "reviews/confirm.html", review=review, title=wording.title,
        about=wording.about.format(**names), after=wording.after.format(**names),
        repeated=repeated, action_url=request.path, saved=saved,
        back_url=url_for("reviews.review", review_id=review.id))
