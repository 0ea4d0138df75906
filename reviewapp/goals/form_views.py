"""Goal forms: set or propose a goal, edit it, adjust an agreed goal with a reason."""

from __future__ import annotations

from datetime import date

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from reviewapp import policy
from reviewapp.auth.models import User
from reviewapp.errors import ServiceError, show_on_form
from reviewapp.extensions import db
from reviewapp.goals import alerts, bp, choices
from reviewapp.goals.adjustments import adjust_goal
from reviewapp.goals.forms import AdjustForm, GoalForm
from reviewapp.goals.models import Goal, GoalKind, GoalScope, GoalState
from reviewapp.goals.periods import CUSTOM, choices_with_custom, goal_period, resolve_period
from reviewapp.goals.queries import load_goal
from reviewapp.goals.services import (
    GoalConflict,
    GoalDraft,
    create_goal,
    milestones_text,
    update_goal,
)
from reviewapp.metrics.models import Metric
from reviewapp.metrics.periods import current_quarter
from reviewapp.transaction import attempt


def flash_warnings(warnings) -> None:
    for warning in warnings:
        flash(warning.message, "warning")


def visible_goal_or_404(goal_id: int, *, history: bool = True) -> Goal:
    goal = load_goal(goal_id, history=history)
    policy.visible_or_404(goal is not None and policy.can_view_goal(current_user, goal))
    return goal


def _fill_choices(form, goal: Goal | None = None) -> None:
    form.team.choices = choices.team_choices(current_user)
    form.owner.choices = choices.owner_choices(current_user)
    form.parent.choices = choices.parent_choices(current_user)
    form.metric.choices = choices.metric_choices(goal.metric if goal else None)
    form.quarter.choices = choices_with_custom(extra=[goal.quarter] if goal and goal.quarter
                                               else None)


def _draft(form, scope: str) -> GoalDraft:
    return GoalDraft(
        scope=scope, title=form.title.data or "", kind=form.kind.data,
        description=form.description.data or "", team_id=form.team.data,
        owner_id=form.owner.data, quarter=None if form.quarter.data == CUSTOM
        else form.quarter.data, start_date=form.start_date.data, end_date=form.end_date.data,
        parent_id=form.parent.data, weight=form.weight.data, metric_id=form.metric.data,
        start_value=form.start_value.data, target_value=form.target_value.data,
        milestones=form.milestones.data or "")


def form_heads_up(owner_id: int | None, metric_id: int | None, quarter: str | None,
                  start: date | None, end: date | None, exclude: int | None = None, *,
                  on_a_metric: bool = True):
    """Warnings for what a form holds so far; anything not yet valid is simply skipped. The
    count of activity goals shows while the goal may still become one (a metric goal with no
    metric chosen yet); a chosen activity metric gets draft_warnings' own."""
    try:
        label, start, end = resolve_period(None if quarter == CUSTOM else quarter, start, end)
    except ServiceError:
        return []
    owner = db.session.get(User, owner_id) if owner_id else None
    metric = db.session.get(Metric, metric_id) if metric_id else None
    found = alerts.draft_warnings(owner=owner, metric=metric, start=start, end=end,
                                  start_value=None, target_value=None, exclude_goal_id=exclude,
                                  period=label or "this period", viewer=current_user)
    if owner is not None and on_a_metric and metric is None:
        limit = current_app.config.get("GOALS_ACTIVITY_WARNING", 3)
        count = alerts.activity_goal_count(owner.id, start, end, exclude)
        if count >= limit:
            found.append(alerts.GoalWarning(
                "activity", f"{owner.name} already has {count} goals on activity metrics in "
                f"{label or 'this period'}; another one is micromanagement territory."))
    return found


def _render_form(form, *, goal: Goal | None, scope: str, locked: bool = False):
    heads_up = form_heads_up(form.owner.data if scope == GoalScope.INDIVIDUAL else None,
                             form.metric.data if form.kind.data == GoalKind.METRIC else None,
                             form.quarter.data, form.start_date.data, form.end_date.data,
                             goal.id if goal else None,
                             on_a_metric=form.kind.data in (None, "", GoalKind.METRIC))
    metric_notes = alerts.metric_notes(choices.offered_metrics(), current_user)
    return render_template("goals/form.html", form=form, goal=goal, scope=scope, locked=locked,
                           heads_up=heads_up, metric_notes=metric_notes)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    policy.require(policy.can_create_goals(current_user))
    proposes = policy.proposes_goals(current_user)
    scope = GoalScope.INDIVIDUAL.value if proposes else request.args.get("scope", "individual")
    if scope not in (GoalScope.TEAM.value, GoalScope.INDIVIDUAL.value):
        scope = GoalScope.INDIVIDUAL.value
    form = GoalForm()
    _fill_choices(form)
    if request.method == "GET":
        form.quarter.data = request.args.get("quarter") or current_quarter().label
        form.team.data = request.args.get("team", type=int)
        form.owner.data = current_user.id if proposes else request.args.get("owner", type=int)
        form.parent.data = request.args.get("parent", type=int)
    if form.validate_on_submit():
        outcome = attempt(create_goal, current_user, _draft(form, scope))
        if not outcome.ok:
            show_on_form(form, outcome.error)
        else:
            goal, warnings = outcome.value
            flash("Your goal was proposed to your manager." if goal.state == GoalState.PROPOSED
                  else f"Goal “{goal.title}” was set.", "success")
            flash_warnings(warnings)
            return redirect(url_for("goals.detail", goal_id=goal.id))
    return _render_form(form, goal=None, scope=scope)


def _conflict(form, goal, error: GoalConflict, render):
    """Someone saved the goal after this form was opened: the form again, with what the user
    entered, the goal's current version (saving again is a decision made knowing that), and
    409."""
    flash(error.message, "error")
    # The field renders what was posted while raw_data holds it: drop it for the new version.
    form.version.data, form.version.raw_data = goal.version, None
    return render(), 409


@bp.route("/<int:goal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(goal_id: int):
    goal = visible_goal_or_404(goal_id)
    policy.require(policy.can_edit_goal(current_user, goal))
    locked = goal.state == GoalState.ACTIVE
    form = GoalForm(obj=None if request.method == "POST" else goal)
    _fill_choices(form, goal)
    if request.method == "GET":
        form.kind.data = goal.kind.value
        form.quarter.data = goal.quarter or CUSTOM
        form.team.data, form.owner.data = goal.team_id, goal.owner_id
        form.parent.data, form.metric.data = goal.parent_id, goal.metric_id
        form.milestones.data = milestones_text(goal)
        form.version.data = goal.version
    else:
        form.team.data, form.owner.data = goal.team_id, goal.owner_id
        if locked:
            form.kind.data, form.metric.data = goal.kind.value, goal.metric_id
    if form.validate_on_submit():
        outcome = attempt(update_goal, current_user, goal, _draft(form, goal.scope.value),
                          expected_version=form.version.data)
        if not outcome.ok:
            goal = load_goal(goal_id)
            if isinstance(outcome.error, GoalConflict):
                return _conflict(form, goal, outcome.error, lambda: _render_form(
                    form, goal=goal, scope=goal.scope.value, locked=locked))
            show_on_form(form, outcome.error)
        else:
            warnings = outcome.value
            flash("The goal was saved." if goal.state != GoalState.PROPOSED
                  or current_user.id != goal.owner_id
                  else "The goal was saved and proposed to your manager again.", "success")
            flash_warnings(warnings)
            return redirect(url_for("goals.detail", goal_id=goal.id))
    return _render_form(form, goal=goal, scope=goal.scope.value, locked=locked)


@bp.route("/<int:goal_id>/adjust", methods=["GET", "POST"])
@login_required
def adjust(goal_id: int):
    goal = visible_goal_or_404(goal_id)
    policy.require(policy.can_manage_goal(current_user, goal))
    if goal.state != GoalState.ACTIVE:
        flash("A proposal is changed by editing it; adjusting is for agreed goals.", "info")
        return redirect(url_for("goals.edit", goal_id=goal.id))
    form = AdjustForm(obj=None if request.method == "POST" else goal)
    form.metric.choices = choices.metric_choices(goal.metric)
    form.quarter.choices = choices_with_custom(extra=[goal.quarter] if goal.quarter else None)
    if request.method == "GET":
        form.metric.data, form.quarter.data = goal.metric_id, goal.quarter or CUSTOM
        form.reason.data = ""
        form.version.data = goal.version
    if form.validate_on_submit():
        outcome = attempt(
            adjust_goal, current_user, goal, reason=form.reason.data or "",
            quarter=None if form.quarter.data == CUSTOM else form.quarter.data,
            start_date=form.start_date.data, end_date=form.end_date.data,
            metric_id=form.metric.data, start_value=form.start_value.data,
            target_value=form.target_value.data, expected_version=form.version.data)
        if not outcome.ok:
            goal = load_goal(goal_id)
            if isinstance(outcome.error, GoalConflict):
                notes = alerts.metric_notes(choices.offered_metrics(), current_user)
                return _conflict(form, goal, outcome.error, lambda: render_template(
                    "goals/adjust.html", form=form, goal=goal, metric_notes=notes,
                    period=goal_period(goal)))
            show_on_form(form, outcome.error)
        else:
            _, warnings = outcome.value
            flash("The goal was adjusted; its history keeps the old values.", "success")
            flash_warnings(warnings)
            return redirect(url_for("goals.detail", goal_id=goal.id))
    notes = alerts.metric_notes(choices.offered_metrics(), current_user)
    return render_template("goals/adjust.html", form=form, goal=goal, metric_notes=notes,
                           period=goal_period(goal))

