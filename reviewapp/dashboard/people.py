"""Lists of people (a manager's dashboard, the People page, HR's accounts list) one page at a
time: policy's SQL clause says who, the database searches, sorts, counts and pages."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from reviewapp import policy
from reviewapp.auth.models import Role, Team, User
from reviewapp.extensions import db
from reviewapp.pagination import Page, PageRequest, Sort, paginate

MANAGER = aliased(User)
PEOPLE_SORTS = {
    "name": Sort.by(sa.func.lower(User.name)),
    "email": Sort.by(User.email),
    "role": Sort.by(User.role),
    "team": Sort.by(sa.func.lower(Team.name)),
    "manager": Sort.by(sa.func.lower(MANAGER.name)),
}
SEARCHED = (User.name, User.email, Team.name, MANAGER.name)


def people_query(actor: User, *, others_only: bool = True) -> sa.Select:
    """The people the actor may see (not themselves, unless others_only is False), with team
    and manager joined for search and sort."""
    query = (sa.select(User).outerjoin(Team, Team.id == User.team_id)
             .outerjoin(MANAGER, MANAGER.id == User.manager_id)
             .where(policy.visible_people_clause(actor))
             .options(selectinload(User.team), selectinload(User.manager)))
    if others_only:
        query = query.where(User.id != actor.id)
    return query


def people_page(query: sa.Select, asked: PageRequest) -> Page:
    """One page of people from people_query, searched by name, email, team or manager."""
    return paginate(query, asked, PEOPLE_SORTS, search=SEARCHED, tiebreak=[User.id])


def role_counts(actor: User, *, active_only: bool = True) -> Counter:
    """People the actor may see (themselves left out) per role, over the whole scope."""
    query = (sa.select(User.role, sa.func.count()).where(
        policy.visible_people_clause(actor), User.id != actor.id).group_by(User.role))
    if active_only:
        query = query.where(User.active)
    return Counter({Role(role): n for role, n in db.session.execute(query)})


def active_members() -> dict[int, int]:
    """Team id → how many active people are in it (People lists the active ones; a team of
    200 with 3 who left read 200 here and 197 there)."""
    return dict(db.session.execute(
        sa.select(User.team_id, sa.func.count())
        .where(User.team_id.is_not(None), User.active).group_by(User.team_id)).all())
