"""Goal templates: save a goal as one, assign one to many reps at once (preview, then confirm)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from reviewapp import policy
from reviewapp.errors import show_on_form
from reviewapp.extensions import db
from reviewapp.goals import alerts, bp, choices
from reviewapp.goals.form_views import visible_goal_or_404
from reviewapp.goals.forms import AssignForm
from reviewapp.goals.goal_templates import (
    AssignmentError,
    assign_template,
    delete_template,
    save_template,
)
from reviewapp.goals.models import GoalTemplate
from reviewapp.goals.periods import CUSTOM, choices_with_custom
from reviewapp.metrics.periods import current_quarter
from reviewapp.transaction import attempt, refuse


def _template_or_404(template_id: int) -> GoalTemplate:
    template = db.session.get(GoalTemplate, template_id)
    policy.visible_or_404(template is not None
                          and policy.can_use_goal_template(current_user, template))
    return template


@bp.route("/templates")
@login_required
def templates():
    policy.require(policy.can_use_goal_templates(current_user))
    rows = db.session.scalars(
        sa.select(GoalTemplate).options(selectinload(GoalTemplate.metric))
        .where(GoalTemplate.created_by_id == current_user.id).order_by(GoalTemplate.title))
    return render_template("goals/templates.html", templates=list(rows))


@bp.route("/<int:goal_id>/save-as-template", methods=["POST"])
@login_required
def save_as_template(goal_id: int):
    goal = visible_goal_or_404(goal_id)
    policy.require(policy.can_use_goal_templates(current_user))
    template = save_template(current_user, goal)
    flash(f"Saved “{template.title}” as a template; assign it to reps from here.", "success")
    return redirect(url_for("goals.template_assign", template_id=template.id))


@bp.route("/templates/<int:template_id>/delete", methods=["POST"])
@login_required
def template_delete(template_id: int):
    template = _template_or_404(template_id)
    title = template.title
    delete_template(current_user, template)
    flash(f"Template “{title}” was deleted; goals made from it stay.", "success")
    return redirect(url_for("goals.templates"))


@bp.route("/templates/<int:template_id>/assign", methods=["GET", "POST"])
@login_required
def template_assign(template_id: int):
    template = _template_or_404(template_id)
    form = AssignForm()
    form.reps.choices = choices.owner_choices(current_user)
    form.team.choices = choices.NONE + choices.team_choices(current_user)
    form.parent.choices = choices.parent_choices(current_user)
    form.quarter.choices = choices_with_custom()
    if request.method == "GET":
        form.quarter.data = current_quarter().label
        form.start_value.data, form.target_value.data = (template.start_value,
                                                         template.target_value)
    plan = None
    if form.validate_on_submit():
        confirm = request.form.get("action") == "confirm"
        outcome = attempt(
            assign_template, current_user, template, rep_ids=form.reps.data or [],
            team_id=form.team.data,
            quarter=None if form.quarter.data == CUSTOM else form.quarter.data,
            start_date=form.start_date.data, end_date=form.end_date.data,
            parent_id=form.parent.data, start_value=form.start_value.data,
            target_value=form.target_value.data)
        if isinstance(outcome.error, AssignmentError):
            plan = outcome.error.plan
            if confirm:
                flash(outcome.error.message, "error")
        elif not outcome.ok:
            show_on_form(form, outcome.error)
        elif confirm:
            plan = outcome.value
            flash(f"“{template.title}” was assigned to {len(plan.rows)} reps for "
                  f"{plan.period}.", "success")
            return redirect(url_for("goals.index"))
        else:
            plan = outcome.value
            refuse()  # a preview is the same run as the assignment, not kept
        template = _template_or_404(template_id)
    notes = [w for w in [alerts.kpi_warning(template.metric, current_user)] if w is not None]
    return render_template("goals/assign.html", form=form, template=template, plan=plan,
                           notes=notes)
