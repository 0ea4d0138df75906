"""Dashboards (rep: self; manager: their people; HR: the organisation) and person pages."""

from datetime import date

import sqlalchemy as sa
from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from reviewapp import policy
from reviewapp.auth.models import Role, Team, User
from reviewapp.dashboard import bp
from reviewapp.dashboard.people import (
    PEOPLE_SORTS,
    active_members,
    people_page,
    people_query,
    role_counts,
)
from reviewapp.extensions import db
from reviewapp.goals.dashboard import manager_panel, rep_panel
from reviewapp.goals.tasks import proposal_tasks
from reviewapp.notifications.services import mark_read, unread
from reviewapp.pagination import read_request
from reviewapp.peers.tasks import peer_tasks
from reviewapp.reviews.dashboard import cycle_progress, hr_tasks, manager_tasks, rep_tasks


def _people_page():
    """A page of the active people below the viewer, searched and sorted from the URL."""
    asked = read_request(PEOPLE_SORTS, "name")
    return people_page(people_query(current_user).where(User.active), asked)


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("dashboard.index"))


@bp.route("/dashboard")
@login_required
def index():
    if policy.sees_everyone(current_user):
        counts = dict(db.session.execute(
            sa.select(User.role, sa.func.count()).where(User.active).group_by(User.role)
        ).all())
        teams = db.session.scalars(
            sa.select(Team).options(selectinload(Team.manager)).order_by(Team.name)).all()
        # Counted in the database: loading every member of every team grew with the company.
        members = active_members()
        inactive = db.session.scalar(sa.select(sa.func.count()).where(sa.not_(User.active)))
        return render_template("dashboard/hr.html", counts=counts, teams=teams, members=members,
                               inactive=inactive, roles=list(Role),
                               cycle_progress=cycle_progress(),
                               review_tasks=hr_tasks() + peer_tasks(current_user),
                               notifications=unread(current_user), today=date.today())
    if policy.can_view_people_list(current_user):  # a manager: the people below them
        return render_template("dashboard/manager.html", page=_people_page(),
                               role_counts=role_counts(current_user), roles=list(Role),
                               goal_panel=manager_panel(current_user),
                               review_tasks=manager_tasks(current_user)
                               + proposal_tasks(current_user), today=date.today(),
                               notifications=unread(current_user))
    return render_template("dashboard/rep.html", person=current_user,
                           goal_lines=rep_panel(current_user), today=date.today(),
                           review_tasks=rep_tasks(current_user),
                           notifications=unread(current_user))


@bp.route("/people")
@login_required
def people():
    policy.require(policy.can_view_people_list(current_user))
    if policy.can_manage_users(current_user):  # HR's People list is the one with the accounts
        # With what was asked (search, sort, page): a bookmark of /people keeps working.
        return redirect(url_for("admin.users", **request.args.to_dict(flat=True)))
    return render_template("people/list.html", page=_people_page(),
                           role_counts=role_counts(current_user), roles=list(Role))


@bp.route("/people/<int:user_id>")
@login_required
def person(user_id: int):
    user = db.session.get(User, user_id)
    policy.visible_or_404(user is not None and policy.can_view_user(current_user, user))
    return render_template("people/person.html", person=user, reviews=_reviews_of(user))


def _reviews_of(user: User) -> list:
    """The person's reviews the viewer may open, newest cycle first (a person page links them)."""
    from reviewapp.cycles.models import Cycle
    from reviewapp.reviews.models import Review
    reviews = db.session.scalars(
        sa.select(Review).join(Cycle).where(Review.rep_id == user.id)
        .options(selectinload(Review.cycle))
        .order_by(Cycle.period_start.desc(), Review.id.desc()))
    return [r for r in reviews if policy.can_view_review(current_user, r)]


@bp.route("/notifications/read", methods=["POST"])
@login_required
def notifications_read():
    first, last = request.form.get("first", type=int), request.form.get("last", type=int)
    mark_read(current_user, shown=(first, last) if first and last else None)
    return redirect(url_for("dashboard.index"))
