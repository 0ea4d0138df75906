"""HR pages: users, teams, bulk import."""

from collections import Counter

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from reviewapp import policy
from reviewapp.admin import bp
from reviewapp.admin.forms import TeamForm, UserForm, UserImportForm
from reviewapp.admin.services import (
    create_user,
    import_users_csv,
    save_team,
    set_active,
    sign_out_everywhere,
    update_user,
)
from reviewapp.auth.models import Role, Team, User
from reviewapp.auth.services import make_set_password_token
from reviewapp.dashboard.people import PEOPLE_SORTS, active_members, people_page, people_query
from reviewapp.errors import Conflict, show_on_form
from reviewapp.extensions import db
from reviewapp.pagination import read_request
from reviewapp.transaction import attempt, refuse


@bp.before_request
@login_required
def _hr_only():
    policy.require(policy.can_manage_users(current_user))


def _manager_choices(exclude: User | None = None) -> list[tuple[int, str]]:
    managers = db.session.scalars(
        sa.select(User).where(User.role != Role.REP, User.active).order_by(User.name)
    )
    return [(0, "— none —")] + [
        (u.id, f"{u.name} ({u.email})") for u in managers if exclude is None or u.id != exclude.id
    ]


def _team_choices() -> list[tuple[int, str]]:
    teams = db.session.scalars(sa.select(Team).order_by(Team.name))
    return [(0, "— none —")] + [(t.id, t.name) for t in teams]


def _set_link(user: User) -> str:
    return url_for("auth.set_password_from_link", token=make_set_password_token(user),
                   _external=True)


@bp.route("/users")
def users():
    role = request.args.get("role", "")
    team_id = request.args.get("team", type=int)
    status = request.args.get("status", "active")
    query = people_query(current_user, others_only=False)
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    if team_id:
        query = query.where(User.team_id == team_id)
    if status == "active":
        query = query.where(User.active)
    elif status == "inactive":
        query = query.where(sa.not_(User.active))
    page = people_page(query, read_request(PEOPLE_SORTS, "name"))
    # The counts above the list: everyone, by role and by status (GROUP BY, not the page).
    counts = Counter({(Role(r), bool(a)): n for r, a, n in db.session.execute(
        sa.select(User.role, User.active, sa.func.count()).group_by(User.role, User.active))})
    teams = db.session.scalars(sa.select(Team).order_by(Team.name)).all()
    return render_template("admin/users.html", page=page, teams=teams, q=page.q, role=role,
                           team_id=team_id, status=status, roles=list(Role), counts=counts)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserForm()
    form.manager.choices = _manager_choices()
    form.team.choices = _team_choices()
    if form.validate_on_submit():
        outcome = attempt(
            create_user, current_user, email=form.email.data, name=form.name.data,
            role=form.role.data,
            manager=db.session.get(User, form.manager.data) if form.manager.data else None,
            team=db.session.get(Team, form.team.data) if form.team.data else None)
        if outcome.ok:
            user = outcome.value
            flash(f"{user.name} was added.", "success")
            return render_template("admin/user_created.html", user=user, link=_set_link(user))
        show_on_form(form, outcome.error)
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=None if request.method == "POST" else user)
    form.manager.choices = _manager_choices(exclude=user)
    form.team.choices = _team_choices()
    if request.method == "GET":
        form.role.data = user.role.value
        form.manager.data = user.manager_id or 0
        form.team.data = user.team_id or 0
    if form.validate_on_submit():
        outcome = attempt(
            update_user, current_user, user, email=form.email.data, name=form.name.data,
            role=form.role.data,
            manager=db.session.get(User, form.manager.data) if form.manager.data else None,
            team=db.session.get(Team, form.team.data) if form.team.data else None,
            active=form.active.data, expected_version=request.form.get("version", type=int))
        if outcome.ok:
            flash(f"{user.name} was updated.", "success")
            return redirect(url_for("admin.users"))
        user = db.get_or_404(User, user_id)
        show_on_form(form, outcome.error)
        if isinstance(outcome.error, Conflict):
            return render_template("admin/user_form.html", form=form, user=user), 409
    return render_template("admin/user_form.html", form=form, user=user)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def user_active(user_id: int):
    user = db.get_or_404(User, user_id)
    active = request.form.get("active") == "1"
    outcome = attempt(set_active, current_user, user, active)
    if outcome.ok:
        flash(f"{user.name} is now {'active' if active else 'deactivated'}.", "success")
    else:
        flash(outcome.error.message, "error")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/sign-out", methods=["POST"])
def user_sign_out(user_id: int):
    user = db.get_or_404(User, user_id)
    sign_out_everywhere(current_user, user)
    if user.id == current_user.id:
        return redirect(url_for("auth.login"))
    flash(f"{user.name} is signed out on every device; their next visit asks for a password.",
          "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/users/<int:user_id>/set-password-link", methods=["POST"])
def user_link(user_id: int):
    user = db.get_or_404(User, user_id)
    return render_template("admin/user_created.html", user=user, link=_set_link(user),
                           regenerated=True)


@bp.route("/users/import", methods=["GET", "POST"])
def users_import():
    form = UserImportForm()
    result = None
    if form.validate_on_submit():
        result = import_users_csv(current_user, form.file.data.read())
        if result.errors:
            refuse()
        else:
            links = [(u, _set_link(u)) for u in result.created]
            flash(f"{len(links)} {'person was' if len(links) == 1 else 'people were'} added.",
                  "success")
            return render_template("admin/users_imported.html", links=links)
    return render_template("admin/users_import.html", form=form, result=result)


@bp.route("/teams", methods=["GET", "POST"])
def teams():
    form = TeamForm()
    form.manager.choices = _manager_choices()
    if form.validate_on_submit():
        outcome = attempt(save_team, current_user, None, name=form.name.data,
                          manager=db.session.get(User, form.manager.data) if form.manager.data
                          else None)
        if outcome.ok:
            flash(f"Team {form.name.data} was created.", "success")
            return redirect(url_for("admin.teams"))
        show_on_form(form, outcome.error)
    all_teams = db.session.scalars(
        sa.select(Team).options(selectinload(Team.manager)).order_by(Team.name)).all()
    return render_template("admin/teams.html", form=form, teams=all_teams,
                           members=active_members())


@bp.route("/teams/<int:team_id>/edit", methods=["GET", "POST"])
def team_edit(team_id: int):
    team = db.get_or_404(Team, team_id)
    form = TeamForm(obj=None if request.method == "POST" else team)
    form.manager.choices = _manager_choices()
    if request.method == "GET":
        form.manager.data = team.manager_id or 0
    if form.validate_on_submit():
        outcome = attempt(save_team, current_user, team, name=form.name.data,
                          manager=db.session.get(User, form.manager.data) if form.manager.data
                          else None)
        if outcome.ok:
            flash(f"Team {team.name} was updated.", "success")
            return redirect(url_for("admin.teams"))
        team = db.get_or_404(Team, team_id)
        show_on_form(form, outcome.error)
    return render_template("admin/team_form.html", form=form, team=team)
