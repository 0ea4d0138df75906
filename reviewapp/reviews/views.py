"""Review pages: the rep's self-assessment, the manager's review, and read-only views."""

from datetime import date

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from reviewapp import policy
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.reviews import bp
from reviewapp.reviews.context import deadline_for, goals_context
from reviewapp.reviews.cycle_models import Cycle, CycleKpi
from reviewapp.reviews.models import CompetencyRating, KpiScore, Review, ReviewState
from reviewapp.reviews.services import (
    ManagerAssessment,
    ReviewConflict,
    SelfAssessment,
    override_kpi,
    refresh_scores,
    save_manager,
    save_self,
    scores_of,
    skip_self,
    submit_manager,
    submit_self,
)


@bp.before_request
@login_required
def _logged_in():
    pass


def _load(review_id: int) -> Review:
    review = db.session.scalar(
        sa.select(Review).where(Review.id == review_id).options(
            selectinload(Review.cycle).selectinload(Cycle.kpis).selectinload(CycleKpi.metric),
            selectinload(Review.ratings).selectinload(CompetencyRating.cycle_competency),
            selectinload(Review.kpi_scores).selectinload(KpiScore.cycle_kpi),
            selectinload(Review.rep), selectinload(Review.manager),
            selectinload(Review.updated_by)))
    policy.visible_or_404(review is not None and policy.can_view_review(current_user, review))
    return review


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _ratings_from_form(prefix: str, review: Review) -> dict[int, tuple[int | None, str]]:
    return {
        r.cycle_competency_id: (
            _int_or_none(request.form.get(f"{prefix}_rating_{r.cycle_competency_id}")),
            request.form.get(f"{prefix}_note_{r.cycle_competency_id}", ""))
        for r in review.ratings
    }


def _render(review: Review, *, errors: dict | None = None, values: dict | None = None,
            conflict: str | None = None, status: int = 200):
    show_self = policy.can_see_self_assessment(current_user, review)
    show_manager = policy.can_see_manager_side(current_user, review)
    return render_template(
        "reviews/review.html", review=review, cycle=review.cycle, scores=scores_of(review),
        show_self=show_self, show_manager=show_manager,
        can_write_self=policy.can_write_self_assessment(current_user, review),
        can_write_manager=policy.can_write_manager_review(current_user, review),
        can_skip=(policy.can_write_manager_side(current_user, review)
                  and review.state == ReviewState.SELF_REVIEW),
        deadline=deadline_for(review), today=date.today(),
        goals=goals_context(review), errors=errors or {}, values=values or {},
        conflict=conflict), status


@bp.route("/mine")
def mine():
    review = db.session.scalar(
        sa.select(Review).join(Cycle).where(Review.rep_id == current_user.id)
        .order_by(Cycle.period_start.desc(), Review.id.desc()).limit(1))
    if review is None:
        return render_template("reviews/none.html")
    return redirect(url_for("reviews.review", review_id=review.id))


@bp.route("/<int:review_id>")
def review(review_id: int):
    found = _load(review_id)
    if policy.can_write_manager_review(current_user, found):
        refresh_scores(found)  # actuals follow the data until the manager submits
        db.session.commit()
    return _render(found)


def _save_then_submit(review: Review, save, submit, *, submitted: ReviewState,
                      submitted_message: str, saved_message: str):
    """Save what the user typed (never lose it), then submit when asked.

    A conflict with a newer version or a refused save changes nothing and re-renders the form
    with the user's text; a refused submission keeps the saved text and says what is missing.
    """
    review_id = review.id
    try:
        save()
    except ReviewConflict as exc:
        db.session.rollback()
        return _render(_load(review_id), values=request.form, conflict=exc.message, status=409)
    except ServiceError as exc:
        db.session.rollback()
        return _render(_load(review_id), values=request.form,
                       errors={exc.field or "form": exc.message}, status=422)
    db.session.commit()
    if request.form.get("action") == "submit":
        try:
            submit()
        except ServiceError as exc:
            db.session.rollback()
            return _render(_load(review_id), values=request.form,
                           errors={exc.field or "form": exc.message}, status=422)
        db.session.commit()
        if review.state == submitted:
            flash(submitted_message, "success")
            return redirect(url_for("reviews.review", review_id=review_id))
    flash(saved_message, "success")
    return redirect(url_for("reviews.review", review_id=review_id))


@bp.route("/<int:review_id>/self", methods=["POST"])
def self_assessment(review_id: int):
    found = _load(review_id)
    policy.require(policy.can_act_as_reviewee(current_user, found))
    data = SelfAssessment(
        achievements=request.form.get("achievements", ""),
        goals_reflection=request.form.get("goals_reflection", ""),
        development_wishes=request.form.get("development_wishes", ""),
        ratings=_ratings_from_form("self", found))
    return _save_then_submit(
        found,
        lambda: save_self(current_user, found, data,
                          expected_version=_int_or_none(request.form.get("version"))),
        lambda: submit_self(current_user, found),
        submitted=ReviewState.MANAGER_REVIEW,
        submitted_message="Your self-assessment is submitted. Your manager can read it now.",
        saved_message="Draft saved. Only you can see it until you submit.")


@bp.route("/<int:review_id>/manager", methods=["POST"])
def manager_review(review_id: int):
    found = _load(review_id)
    policy.require(policy.can_write_manager_side(current_user, found))
    data = ManagerAssessment(
        strengths=request.form.get("strengths", ""),
        development_areas=request.form.get("development_areas", ""),
        overall_comment=request.form.get("overall_comment", ""),
        reconciliation_note=request.form.get("reconciliation_note", ""),
        ratings=_ratings_from_form("manager", found))
    return _save_then_submit(
        found,
        lambda: save_manager(current_user, found, data,
                             expected_version=_int_or_none(request.form.get("version"))),
        lambda: submit_manager(current_user, found),
        submitted=ReviewState.CALIBRATION,
        submitted_message=f"The review of {found.rep.name} went to calibration.",
        saved_message="Saved.")


@bp.route("/<int:review_id>/skip-self", methods=["POST"])
def skip_self_assessment(review_id: int):
    found = _load(review_id)
    policy.require(policy.can_write_manager_side(current_user, found))
    try:
        skip_self(current_user, found)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash("You moved on without the self-assessment; this is recorded on the review.",
              "warning")
    return redirect(url_for("reviews.review", review_id=review_id))


@bp.route("/<int:review_id>/kpis/<int:score_id>/override", methods=["POST"])
def kpi_override(review_id: int, score_id: int):
    found = _load(review_id)
    policy.require(policy.can_write_manager_side(current_user, found))
    if not any(s.id == score_id for s in found.kpi_scores):
        abort(404)
    try:
        override_kpi(current_user, found, score_id,
                     _int_or_none(request.form.get("override_score")),
                     request.form.get("justification", ""))
    except ServiceError as exc:
        db.session.rollback()
        return _render(_load(review_id), values=request.form,
                       errors={f"{exc.field}_{score_id}": exc.message}, status=422)
    db.session.commit()
    flash("The KPI score was overridden; the justification is kept with the review.", "success")
    return redirect(url_for("reviews.review", review_id=review_id) + "#kpis")
