"""Review pages: the rep's self-assessment, the manager's review, and read-only views."""

from datetime import date

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from reviewapp import policy
from reviewapp.auth.models import Role, User
from reviewapp.cycles.models import Cycle, CycleKpi
from reviewapp.errors import Conflict, FieldErrors
from reviewapp.extensions import db
from reviewapp.policy import Party, ReviewAction
from reviewapp.reviews import bp, confirmations
from reviewapp.reviews.context import goals_context
from reviewapp.reviews.decisions import (
    ACKNOWLEDGE_STATEMENT,
    POTENTIAL_LABELS,
    cleared_overrides,
    sent_back,
)
from reviewapp.reviews.models import CompetencyRating, KpiScore, Review, ReviewState
from reviewapp.reviews.next_steps import next_steps, next_waiting_for
from reviewapp.reviews.scoring import DIVERGENCE_THRESHOLD, format_score, partial_side
from reviewapp.reviews.services import (
    TEXT_LABELS,
    ManagerAssessment,
    SelfAssessment,
    kpi_lines,
    override_kpi,
    save_manager,
    save_self,
    scores_of,
    skip_self,
    submit_manager,
    submit_self,
)
from reviewapp.transaction import attempt, attempt_keeping_earlier

bp.add_app_template_filter(format_score, "review_score")
bp.add_app_template_global(partial_side, "partial_side")
bp.add_app_template_global(confirmations.question, "confirm_question")


@bp.before_request
@login_required
def _logged_in():
    pass


def _load(review_id: int) -> Review:
    review = db.session.scalar(
        # One row's many-to-one relations joined, the lists selected: four statements.
        sa.select(Review).where(Review.id == review_id).options(
            joinedload(Review.cycle).selectinload(Cycle.kpis).joinedload(CycleKpi.metric),
            selectinload(Review.ratings).joinedload(CompetencyRating.cycle_competency),
            selectinload(Review.kpi_scores).joinedload(KpiScore.cycle_kpi),
            joinedload(Review.rep), joinedload(Review.manager),
            joinedload(Review.updated_by)))
    policy.visible_or_404(review is not None and policy.can_view_review(current_user, review))
    return review


def _int_or_none(value: str | None) -> int | None:
    """A whole number from a form field; None when it is empty. Anything else that is not a
    whole number ('abc', '3.5') is 0, which every rating, score and version check refuses with
    its own message, where None would have read as "cleared"."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        return 0


def _ratings_from_form(prefix: str, review: Review) -> dict[int, tuple[int | None, str]]:
    return {
        r.cycle_competency_id: (
            _int_or_none(request.form.get(f"{prefix}_rating_{r.cycle_competency_id}")),
            request.form.get(f"{prefix}_note_{r.cycle_competency_id}", ""))
        for r in review.ratings
    }


def _goals(review: Review) -> list:
    """The goals beside the review: as its record took them once it is finalised (progress
    moves on with later data; the finalised review does not), else as they stand."""
    if review.state == ReviewState.FINALIZED:
        from reviewapp.records.services import frozen_goals

        frozen = frozen_goals(review.id)
        if frozen is not None:
            return frozen
    return goals_context(review)


def _render(review: Review, *, errors: dict | None = None, values: dict | None = None,
            conflict: str | None = None, unsaved: list | None = None, status: int = 200):
    lines = kpi_lines(review)
    actions = policy.allowed_review_actions(current_user, review)
    parties = policy.review_parties(current_user, review)
    steps = next_steps(review)
    acts_next = any(step.party in parties for step in steps)
    return render_template(
        "reviews/review.html", review=review, cycle=review.cycle, kpi_lines=lines,
        next_steps=steps, show_next_steps=Party.HR in parties or not acts_next,
        next_waiting=(next_waiting_for(current_user, review)
                      if Party.REVIEWER in parties and not acts_next else None),
        scores=scores_of(review, lines), actions=actions, Action=ReviewAction,
        show_self=ReviewAction.SEE_SELF_ASSESSMENT in actions,
        show_manager=ReviewAction.SEE_MANAGER_SIDE in actions,
        can_write_self=ReviewAction.SAVE_SELF in actions,
        can_write_manager=ReviewAction.SAVE_MANAGER in actions,
        deadline=review.deadline, today=date.today(), threshold=DIVERGENCE_THRESHOLD,
        goals=_goals(review), errors=errors or {}, values=values or {},
        conflict=conflict, unsaved=unsaved or [], potential_labels=POTENTIAL_LABELS,
        acknowledge_statement=ACKNOWLEDGE_STATEMENT,
        sent_back=sent_back(review) if ReviewAction.SEE_MANAGER_SIDE in actions else None,
        cleared_overrides=(cleared_overrides(review)
                           if ReviewAction.SEE_MANAGER_SIDE in actions else []),
        managers=_active_managers() if ReviewAction.REASSIGN in actions else []), status


def _active_managers() -> list[User]:
    """Active managers, for reassigning a reviewer."""
    return list(db.session.scalars(sa.select(User).where(
        User.role == Role.MANAGER, User.active).order_by(User.name)))


@bp.route("/mine")
def mine():
    # The one waiting for the rep first (a self-assessment to write, a shared review to
    # acknowledge), then the latest: a catch-up cycle for an earlier quarter is no reason to
    # land on last quarter's finalised record.
    waiting = sa.case((Review.state == ReviewState.SELF_REVIEW, 0),
                      (Review.state == ReviewState.SHARED, 1), else_=2)
    review = db.session.scalar(
        sa.select(Review).join(Cycle).where(Review.rep_id == current_user.id)
        .order_by(waiting, Cycle.period_start.desc(), Review.id.desc()).limit(1))
    if review is None:
        return render_template("reviews/none.html")
    return redirect(url_for("reviews.review", review_id=review.id))


# A refused KPI override comes back to the review page (not to its POST address) with what the
# manager chose and the message on the field: kept in the session for the one page that follows.
OVERRIDE_DRAFT = "kpi_override_draft"


@bp.route("/<int:review_id>")
def review(review_id: int):
    found = _load(review_id)
    draft = session.pop(OVERRIDE_DRAFT, None)
    if draft and draft.get("review_id") == review_id:
        return _render(found, values=draft["values"], errors=draft["errors"])
    return _render(found)


# The form each posting page belongs to. After a conflict the form comes back with the user's
# input in it; when the review has moved on and the form is no longer theirs to fill (submitted,
# finalised meanwhile), what they typed is listed beside the conflict instead of being lost.
FORM_OF = {
    "reviews.self_assessment": ReviewAction.SAVE_SELF,
    "reviews.manager_review": ReviewAction.SAVE_MANAGER,
    "reviews.kpi_override": ReviewAction.OVERRIDE_KPI,
    "reviews.calibrate": ReviewAction.ADJUST_RATING,
    "reviews.acknowledge": ReviewAction.ACKNOWLEDGE,
    "reviews.conversation": ReviewAction.REQUEST_CONVERSATION,
}
COMPETENCY_TEXTS = {"self_note_": "evidence", "manager_note_": "note",
                    "reason_": "reason for the calibrated rating"}


def _unsaved(review: Review) -> list[tuple[str, str]]:
    """(label, text) of what the refused POST carried, when its form is not on the page now."""
    action = FORM_OF.get(request.endpoint)
    if action is None:
        return []
    form_shown = policy.may(current_user, review, action) and not (
        action == ReviewAction.REQUEST_CONVERSATION and review.conversation_requested_at)
    if form_shown:
        return []
    names = {r.cycle_competency_id: r.cycle_competency.name for r in review.ratings}
    kept = []
    for field, value in request.form.items():
        if not value.strip():
            continue
        if field in TEXT_LABELS:
            kept.append((TEXT_LABELS[field], value))
            continue
        for prefix, what in COMPETENCY_TEXTS.items():
            rest = field.removeprefix(prefix)
            if rest != field and rest.isdigit() and int(rest) in names:
                kept.append((f"{names[int(rest)]}: {what}", value))
    return kept


def _refused(review_id: int, error, *, field_suffix: str = "", saved: bool = False,
             extra_values: dict | None = None):
    """Re-render the review with the user's input and the refusal: 409 for a conflict. After a
    kept save the form carries the new version, so the next save does not conflict with itself."""
    review = _load(review_id)
    if isinstance(error, Conflict):
        return _render(review, values=request.form, conflict=error.message,
                       unsaved=_unsaved(review), status=409)
    values = {**request.form.to_dict(), **({"version": review.version} if saved else {}),
              **(extra_values or {})}
    return _render(review, values=values, errors=_field_errors(error, field_suffix),
                   status=422)


def _field_errors(error, field_suffix: str = "") -> dict[str, str]:
    """A refusal as {field id on the page: message} ("form" when it names no field)."""
    found = error.errors if isinstance(error, FieldErrors) else {error.field: error.message}
    return {f"{field}{field_suffix}" if field else "form": message
            for field, message in found.items()}


def _save_then_submit(review: Review, save, submit, *, action: ReviewAction,
                      submitted_message: str, saved_message: str):
    """Save what the user typed (never lose it), then submit when asked and confirmed.

    A conflict with a newer version or a refused save changes nothing and re-renders the form
    with the user's text; a refused submission keeps the saved text and says what is missing.
    An unconfirmed submission keeps the saved draft and asks first (confirmations.py).
    """
    review_id = review.id
    saved = attempt(save)
    if not saved.ok:
        return _refused(review_id, saved.error)
    if request.form.get("action") == "submit":
        if not confirmations.confirmed():
            return confirmations.ask(_load(review_id), action, saved=True)
        sent = attempt_keeping_earlier(submit)
        if not sent.ok:
            return _refused(review_id, sent.error, saved=True)
        flash(submitted_message, "success")
    else:
        flash(saved_message, "success")
    return redirect(url_for("reviews.review", review_id=review_id))


def _version() -> int | None:
    return _int_or_none(request.form.get("version"))


def _edit_version() -> int:
    """The version of the review an edit form (self-assessment, manager review, a KPI
    override) was opened at. Those forms always carry one; a post without it (a script, a
    hand-made request) is taken as opened at no version, so it loses to what is saved (409)
    instead of skipping the check and writing over a newer save."""
    return _version() or 0


@bp.route("/<int:review_id>/self", methods=["POST"])
def self_assessment(review_id: int):
    found = _load(review_id)
    data = SelfAssessment(
        achievements=request.form.get("achievements", ""),
        goals_reflection=request.form.get("goals_reflection", ""),
        development_wishes=request.form.get("development_wishes", ""),
        ratings=_ratings_from_form("self", found))
    return _save_then_submit(
        found,
        lambda: save_self(current_user, found, data, expected_version=_edit_version()),
        lambda: submit_self(current_user, found), action=ReviewAction.SUBMIT_SELF,
        submitted_message="Your self-assessment is submitted. Your manager can read it now.",
        saved_message="Draft saved. Only you can see it until you submit.")


@bp.route("/<int:review_id>/manager", methods=["POST"])
def manager_review(review_id: int):
    found = _load(review_id)
    data = ManagerAssessment(
        strengths=request.form.get("strengths", ""),
        development_areas=request.form.get("development_areas", ""),
        overall_comment=request.form.get("overall_comment", ""),
        reconciliation_note=request.form.get("reconciliation_note", ""),
        ratings=_ratings_from_form("manager", found))
    return _save_then_submit(
        found,
        lambda: save_manager(current_user, found, data, expected_version=_edit_version()),
        lambda: submit_manager(current_user, found), action=ReviewAction.SUBMIT_MANAGER,
        submitted_message=f"The review of {found.rep.name} went to calibration.",
        saved_message="Saved.")


@bp.route("/<int:review_id>/skip-self", methods=["POST"])
def skip_self_assessment(review_id: int):
    found = _load(review_id)
    if not confirmations.confirmed() and policy.may(current_user, found, ReviewAction.SKIP_SELF):
        return confirmations.ask(found, ReviewAction.SKIP_SELF)
    outcome = attempt(skip_self, current_user, found)
    if not outcome.ok:
        return _refused(review_id, outcome.error)
    flash("You moved on without the self-assessment; this is recorded on the review.",
          "warning")
    return redirect(url_for("reviews.review", review_id=review_id))


@bp.route("/<int:review_id>/kpis/<int:score_id>/override", methods=["POST"])
def kpi_override(review_id: int, score_id: int):
    found = _load(review_id)
    policy.require(policy.may_attempt(current_user, found, ReviewAction.OVERRIDE_KPI))
    if not any(s.id == score_id for s in found.kpi_scores):
        abort(404)
    outcome = attempt(override_kpi, current_user, found, score_id,
                      _int_or_none(request.form.get("override_score")),
                      request.form.get("justification", ""), expected_version=_edit_version())
    if not outcome.ok and (isinstance(outcome.error, Conflict) or not outcome.error.field):
        return _refused(review_id, outcome.error)  # a conflict, or not possible in this state
    if not outcome.ok:  # bad input: nothing stored (attempt rolled back), the choice kept
        session[OVERRIDE_DRAFT] = {
            "review_id": review_id,
            "values": {"override_for": score_id,
                       "override_score": request.form.get("override_score", ""),
                       "justification": request.form.get("justification", "")},
            "errors": _field_errors(outcome.error, f"_{score_id}")}
        return redirect(url_for("reviews.review", review_id=review_id))
    cleared = request.form.get("override_score", "") == ""
    flash("The computed KPI score counts again; the override is kept in the review's history."
          if cleared else
          "The KPI score was overridden; the justification is kept with the review.", "success")
    return redirect(url_for("reviews.review", review_id=review_id) + "#kpis")
