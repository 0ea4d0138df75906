"""Goal pages: the list, the tree, one goal; and the actions on it (check-in, status,
milestones, comments, approve or return, delete)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from reviewapp import policy
from reviewapp.auth.models import Team, User
from reviewapp.errors import show_on_form
from reviewapp.extensions import db
from reviewapp.goals import alerts, bp, checkins, choices, form_views, tracking
from reviewapp.goals import progress as maths
from reviewapp.goals.chart import progress_chart
from reviewapp.goals.forms import CheckInForm, CommentForm, ReturnForm, StatusForm
from reviewapp.goals.models import Goal, GoalScope, GoalState
from reviewapp.goals.periods import goal_period, quarter_choices
from reviewapp.goals.queries import (
    GOAL_SORTS,
    TREE_SORTS,
    awaiting_decision,
    build_tree,
    goal_counts,
    goal_page,
    tree_page,
    visible_goals,
)
from reviewapp.goals.services import approve_goal, delete_goal, return_goal
from reviewapp.metrics.models import Metric
from reviewapp.metrics.periods import Grain, PeriodError, current_quarter, parse_period
from reviewapp.pagination import read_request
from reviewapp.transaction import attempt

STATES = {s.value: s for s in GoalState}
AWAITING_SHOWN = 20  # proposals listed above the goals; the count says how many wait
CHECK_INS_SHOWN = 10  # the latest check-ins on a goal's page; ?check_ins=all lists every one


def check_in_every() -> int:
    return int(current_app.config.get("GOALS_CHECK_IN_DAYS", 14))


def _filters() -> tuple[str | None, int | None]:
    """The period (a quarter label, or None for all) and team asked for in the URL."""
    raw = request.args.get("period") or current_quarter().label
    quarter = None if raw == "all" else raw
    if quarter is not None:
        try:
            valid = parse_period(quarter).grain == Grain.QUARTER
        except PeriodError:
            valid = False
        quarter = quarter if valid else current_quarter().label
    return quarter, request.args.get("team", type=int)


def _filter_context(quarter: str | None, team_id: int | None) -> dict:
    if policy.sees_everyone(current_user):
        teams = list(db.session.scalars(sa.select(Team).order_by(Team.name)))
    else:
        teams = choices.led_teams(current_user)
    return {"period": quarter or "all", "team_id": team_id, "teams": teams,
            "quarters": quarter_choices(extra=[quarter] if quarter else None)}


@bp.route("/")
@login_required
def index():
    policy.require(policy.can_view_goals(current_user))
    quarter, team_id = _filters()
    state = STATES.get(request.args.get("state", ""))
    owner = None  # ?owner=: one person's goals (their page links here)
    if request.args.get("owner"):
        owner = db.session.get(User, request.args.get("owner", type=int) or 0)
        policy.visible_or_404(owner is not None and policy.can_view_user(current_user, owner))
    parent = None  # ?parent=: the goals aligned to one goal (the tree's folded rows link here)
    if request.args.get("parent"):
        parent = db.session.get(Goal, request.args.get("parent", type=int) or 0)
        policy.visible_or_404(parent is not None and policy.can_view_goal(current_user, parent))
    page = goal_page(current_user, read_request(GOAL_SORTS, "-default"), quarter=quarter,
                     team_id=team_id, states=[state] if state else None,
                     owner_id=owner.id if owner else None,
                     parent_id=parent.id if parent else None)
    progress = tracking.compute_progress(page.items)  # this page's goals only
    awaiting, awaiting_total = awaiting_decision(current_user, AWAITING_SHOWN)
    return render_template("goals/index.html", goals=page.items, page=page, progress=progress,
                           awaiting=awaiting, awaiting_total=awaiting_total,
                           state=state.value if state else "", owner=owner, parent=parent,
                           states=list(GoalState), **_filter_context(quarter, team_id))


@bp.route("/tree")
@login_required
def tree():
    policy.require(policy.can_view_goals(current_user))
    quarter, team_id = _filters()
    # One page of top-level goals with everything below them; the page is read in SQL.
    filters = {"quarter": quarter, "team_id": team_id,
               "states": [GoalState.ACTIVE, GoalState.PROPOSED]}
    page, goals = tree_page(current_user, read_request(TREE_SORTS, "owner"), **filters)
    counts = goal_counts(current_user, **filters)
    progress = tracking.compute_progress(goals)
    roots = build_tree(goals, progress)
    order = {g.id: i for i, g in enumerate(page.items)}  # the roots in the page's SQL order
    roots.sort(key=lambda n: order[n.goal.id])
    return render_template("goals/tree.html", roots=roots, page=page, counts=counts,
                           scopes=list(GoalScope),
                           team_roots=[r for r in roots if r.goal.scope == GoalScope.TEAM],
                           loose=[r for r in roots if r.goal.scope != GoalScope.TEAM],
                           **_filter_context(quarter, team_id))


def _render_detail(goal, *, check_in_form=None, status_form=None, comment_form=None,
                   return_form=None, status=200):
    today = date.today()
    children = visible_goals(current_user, parent_id=goal.id)
    progress = tracking.compute_progress([goal, *children], today)
    mine = progress[goal.id]
    roots = build_tree([goal, *children], progress)
    node = next(r for r in roots if r.goal.id == goal.id)
    last = goal.check_ins[-1].held_on if goal.check_ins else None
    latest_first = goal.check_ins[::-1]
    if request.args.get("check_ins") != "all":
        latest_first = latest_first[:CHECK_INS_SHOWN]
    check_in_form = check_in_form or CheckInForm(formdata=None, held_on=min(today, goal.end_date))
    status_form = status_form or StatusForm(
        formdata=None, status=goal.status_override.value if goal.status_override else "",
        note=goal.status_note or "")
    return render_template(
        "goals/goal.html", goal=goal, progress=mine, node=node, period=goal_period(goal),
        check_ins=latest_first, earlier_check_ins=len(goal.check_ins) - len(latest_first),
        chart=progress_chart(goal, mine.fraction, today, tracking.is_cumulative(goal)),
        cumulative=tracking.is_cumulative(goal),
        warnings=alerts.goal_warnings(goal, period=goal_period(goal), viewer=current_user),
        next_due=maths.next_check_in(goal.start_date, goal.end_date, last, check_in_every(),
                                     today) if goal.is_active else None,
        today=today, check_in_form=check_in_form, status_form=status_form,
        comment_form=comment_form or CommentForm(formdata=None),
        return_form=return_form or ReturnForm(formdata=None),
        metric_names=_metric_names(goal)), status


def _metric_names(goal) -> dict[int, str]:
    """Names of the metrics an adjustment history mentions."""
    ids = {a.before.get("metric_id") for a in goal.adjustments} | {
        a.after.get("metric_id") for a in goal.adjustments}
    ids.discard(None)
    if not ids:
        return {}
    # A Result has keys(), so dict(result) reads it as a mapping and fails: take its rows.
    rows = db.session.execute(sa.select(Metric.id, Metric.name).where(Metric.id.in_(ids)))
    return dict(rows.all())


@bp.route("/<int:goal_id>")
@login_required
def detail(goal_id: int):
    return _render_detail(form_views.visible_goal_or_404(goal_id))


def _goal_for_action(goal_id: int, permission):
    goal = form_views.visible_goal_or_404(goal_id, history=False)
    policy.require(permission(current_user, goal))
    return goal


def _done(goal_id: int, message: str):
    flash(message, "success")
    return redirect(url_for("goals.detail", goal_id=goal_id))


@bp.route("/<int:goal_id>/check-ins", methods=["POST"])
@login_required
def check_in(goal_id: int):
    goal = _goal_for_action(goal_id, policy.can_check_in)
    form = CheckInForm()
    if form.validate_on_submit():
        outcome = attempt(checkins.add_check_in, current_user, goal, held_on=form.held_on.data,
                          confidence=form.confidence.data, note=form.note.data or "",
                          progress=form.progress.data)
        if outcome.ok:
            return _done(goal_id, "Check-in saved.")
        show_on_form(form, outcome.error)
    return _render_detail(form_views.visible_goal_or_404(goal_id), check_in_form=form,
                          status=422)


@bp.route("/<int:goal_id>/status", methods=["POST"])
@login_required
def set_status(goal_id: int):
    goal = _goal_for_action(goal_id, policy.can_check_in)
    form = StatusForm()
    if form.validate_on_submit():
        outcome = attempt(checkins.set_status, current_user, goal, form.status.data or None,
                          form.note.data)
        if outcome.ok:
            return _done(goal_id, "Status saved." if form.status.data
                         else "The status follows the suggestion again.")
        show_on_form(form, outcome.error)
    return _render_detail(form_views.visible_goal_or_404(goal_id), status_form=form,
                          status=422)


@bp.route("/<int:goal_id>/milestones/<int:milestone_id>", methods=["POST"])
@login_required
def milestone(goal_id: int, milestone_id: int):
    goal = _goal_for_action(goal_id, policy.can_check_in)
    outcome = attempt(checkins.toggle_milestone, current_user, goal, milestone_id,
                      request.form.get("done") == "1")
    if not outcome.ok:
        flash(outcome.error.message, "error")
        return redirect(url_for("goals.detail", goal_id=goal_id))
    item = outcome.value
    return _done(goal_id, f"“{item.title}” is {'done' if item.done else 'open again'}.")


@bp.route("/<int:goal_id>/comments", methods=["POST"])
@login_required
def comment(goal_id: int):
    goal = _goal_for_action(goal_id, policy.can_comment_on_goal)
    form = CommentForm()
    if form.validate_on_submit():
        outcome = attempt(checkins.add_comment, current_user, goal, form.body.data)
        if outcome.ok:
            return _done(goal_id, "Comment added.")
        show_on_form(form, outcome.error)
    return _render_detail(form_views.visible_goal_or_404(goal_id), comment_form=form,
                          status=422)


@bp.route("/<int:goal_id>/approve", methods=["POST"])
@login_required
def approve(goal_id: int):
    goal = _goal_for_action(goal_id, policy.can_manage_goal)
    outcome = attempt(approve_goal, current_user, goal, request.form.get("comment", ""),
                      expected_version=request.form.get("version", type=int))
    if not outcome.ok:
        flash(outcome.error.message, "error")
        return redirect(url_for("goals.detail", goal_id=goal_id))
    return _done(goal_id, "The goal is agreed.")


@bp.route("/<int:goal_id>/return", methods=["POST"])
@login_required
def return_to_owner(goal_id: int):
    goal = _goal_for_action(goal_id, policy.can_manage_goal)
    form = ReturnForm()
    if form.validate_on_submit():
        outcome = attempt(return_goal, current_user, goal, form.comment.data,
                          expected_version=request.form.get("version", type=int))
        if outcome.ok:
            return _done(goal_id, f"The goal went back to {goal.owner_name} with your comment.")
        show_on_form(form, outcome.error)
    return _render_detail(form_views.visible_goal_or_404(goal_id), return_form=form,
                          status=422)


@bp.route("/<int:goal_id>/delete", methods=["POST"])
@login_required
def delete(goal_id: int):
    goal = _goal_for_action(goal_id, policy.can_delete_goal)
    title = goal.title
    delete_goal(current_user, goal)
    flash(f"Goal “{title}” was deleted.", "success")
    return redirect(url_for("goals.index"))
