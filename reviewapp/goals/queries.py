"""Which goals a person may see, loaded with what their pages need, and the goal tree.

Who sees which goal is policy's to say (visible_goals_clause, the SQL twin of can_view_goal).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from reviewapp import policy
from reviewapp.auth.models import Team, User
from reviewapp.extensions import db
from reviewapp.goals import progress as maths
from reviewapp.goals.models import Goal, GoalScope, GoalState
from reviewapp.goals.periods import quarter_bounds
from reviewapp.goals.tracking import Progress
from reviewapp.pagination import Page, PageRequest, Sort, paginate

LOAD = (
    selectinload(Goal.metric), selectinload(Goal.milestones), selectinload(Goal.owner),
    selectinload(Goal.team), selectinload(Goal.parent),
)


def goals_query(actor: User, *, quarter: str | None = None, team_id: int | None = None,
                states: Sequence[GoalState] | None = None, owner_id: int | None = None,
                active_on: date | None = None, parent_id: int | None = None) -> sa.Select:
    """The goals the actor may see (policy's SQL clause), filtered, as a SELECT to refine."""
    query = sa.select(Goal).where(policy.visible_goals_clause(actor))
    if quarter:
        start, end = quarter_bounds(quarter)
        query = query.where(Goal.start_date <= end, Goal.end_date >= start)
    if active_on is not None:
        query = query.where(Goal.start_date <= active_on, Goal.end_date >= active_on)
    if team_id:
        members = sa.select(User.id).where(User.team_id == team_id)
        query = query.where(sa.or_(Goal.team_id == team_id, Goal.owner_id.in_(members)))
    if states:
        query = query.where(Goal.state.in_(list(states)))
    if owner_id:
        query = query.where(Goal.owner_id == owner_id)
    if parent_id:
        query = query.where(Goal.parent_id == parent_id)
    return query


def visible_goals(actor: User, **filters) -> list[Goal]:
    """The goals the actor may see, filtered (see goals_query), with metric, milestones, owner
    and team loaded."""
    query = goals_query(actor, **filters).options(*LOAD).order_by(
        Goal.scope.desc(), Goal.start_date.desc(), Goal.title)
    return list(db.session.scalars(query))


def load_goal(goal_id: int) -> Goal | None:
    """One goal with everything its page shows."""
    return db.session.scalar(
        sa.select(Goal).where(Goal.id == goal_id).options(
            *LOAD, selectinload(Goal.check_ins), selectinload(Goal.comments),
            selectinload(Goal.adjustments)))


def active_child_counts(goal_ids: Sequence[int]) -> Counter:
    """How many agreed goals align to each goal (whoever may see them)."""
    if not goal_ids:
        return Counter()
    rows = db.session.execute(
        sa.select(Goal.parent_id, sa.func.count(Goal.id))
        .where(Goal.parent_id.in_(list(goal_ids)), Goal.state == GoalState.ACTIVE)
        .group_by(Goal.parent_id))
    return Counter(dict(rows.all()))


@dataclass
class TreeNode:
    goal: Goal
    progress: Progress
    children: list[TreeNode] = field(default_factory=list)
    rolled_up: float | None = None  # the visible agreed children, by weight
    counted: int = 0  # children in the roll-up
    hidden: int = 0  # agreed children the viewer cannot see

    @property
    def rolled_up_bar(self) -> float:
        return maths.bar_percent(self.rolled_up)

    @property
    def rolled_up_percent(self) -> float | None:
        return None if self.rolled_up is None else self.rolled_up * 100.0


def build_tree(goals: Sequence[Goal], progress: dict[int, Progress]) -> list[TreeNode]:
    """Goals as a forest: each goal under its parent when the parent is in the list.

    A goal's roll-up is the weighted mean of its agreed children's progress (their own
    measure, or their roll-up when they have no measure yet).
    """
    nodes = {g.id: TreeNode(g, progress[g.id]) for g in goals}
    roots = []
    for goal in goals:
        parent = nodes.get(goal.parent_id) if goal.parent_id else None
        (parent.children if parent else roots).append(nodes[goal.id])
    counts = active_child_counts([g.id for g in goals])

    def settle(node: TreeNode) -> float | None:
        parts = []
        for child in node.children:
            child_value = settle(child)
            if child.goal.is_active:
                own = child.progress.fraction
                parts.append((own if own is not None else child_value, child.goal.weight))
        node.counted = sum(1 for c in node.children if c.goal.is_active)
        node.hidden = max(0, counts.get(node.goal.id, 0) - node.counted)
        node.rolled_up = maths.weighted_rollup(parts)
        node.children.sort(key=lambda n: (n.goal.scope != GoalScope.TEAM, n.goal.owner_name,
                                          n.goal.title))
        return node.rolled_up

    for root in roots:
        settle(root)
    roots.sort(key=lambda n: (n.goal.scope != GoalScope.TEAM, n.goal.owner_name, n.goal.title))
    return roots


# The goal tree, one page of top-level goals at a time -----------------------------------------

OWNER, OWNER_TEAM = aliased(User), aliased(Team)
TREE_SORTS = {
    # Team goals first, then by whose the goal is (the team's or the person's name).
    "owner": Sort.by(sa.case((Goal.scope == GoalScope.TEAM, 0), else_=1),
                     sa.func.lower(sa.func.coalesce(OWNER_TEAM.name, OWNER.name))),
    "title": Sort.by(sa.func.lower(Goal.title)),
}
GOAL_SORTS = {
    # The list's own order: team goals first, the latest period first (?sort=-default).
    "default": Sort.by(Goal.scope, Goal.start_date),
    "title": Sort.by(sa.func.lower(Goal.title)),
    "owner": TREE_SORTS["owner"],
    "period": Sort.by(Goal.start_date, Goal.end_date),
}
MAX_TREE_DEPTH = 6  # levels read below a top-level goal (the tree indents no deeper)


def tree_page(actor: User, asked: PageRequest, **filters) -> tuple[Page, list[Goal]]:
    """A page of the tree's top-level goals (no parent among the goals shown), searched and
    sorted in SQL, and every goal below them, one statement per level."""
    shown = goals_query(actor, **filters)
    ids = shown.with_only_columns(Goal.id).correlate(None).scalar_subquery()
    roots = (shown.where(sa.or_(Goal.parent_id.is_(None), Goal.parent_id.not_in(ids)))
             .outerjoin(OWNER, OWNER.id == Goal.owner_id)
             .outerjoin(OWNER_TEAM, OWNER_TEAM.id == Goal.team_id)
             .options(*LOAD))
    page = paginate(roots, asked, TREE_SORTS, tiebreak=[sa.func.lower(Goal.title), Goal.id],
                    search=[Goal.title, OWNER.name, OWNER_TEAM.name])
    goals, level = list(page.items), [g.id for g in page.items]
    for _ in range(MAX_TREE_DEPTH):
        if not level:
            break
        below = list(db.session.scalars(shown.where(Goal.parent_id.in_(level)).options(*LOAD)))
        goals += below
        level = [g.id for g in below]
    return page, goals



def goal_counts(actor: User, **filters) -> Counter:
    """Goals the actor may see, filtered, per (scope, state): one GROUP BY over the whole
    scope, for the counts above a page."""
    query = (goals_query(actor, **filters).with_only_columns(Goal.scope, Goal.state,
                                                             sa.func.count())
             .group_by(Goal.scope, Goal.state))
    return Counter({(GoalScope(scope), GoalState(state)): n
                    for scope, state, n in db.session.execute(query)})


def goal_page(actor: User, asked: PageRequest, **filters) -> Page:
    """A page of the goals list: the goals the actor may see, filtered, searched by title,
    team or person and sorted in SQL."""
    query = (goals_query(actor, **filters)
             .outerjoin(OWNER, OWNER.id == Goal.owner_id)
             .outerjoin(OWNER_TEAM, OWNER_TEAM.id == Goal.team_id).options(*LOAD))
    return paginate(query, asked, GOAL_SORTS, search=[Goal.title, OWNER.name, OWNER_TEAM.name],
                    tiebreak=[sa.func.lower(Goal.title), Goal.id])


def awaiting_decision(actor: User, limit: int) -> tuple[list[Goal], int]:
    """Proposals the actor decides on: the oldest `limit` of them, and how many there are."""
    query = goals_query(actor, states=[GoalState.PROPOSED]).where(
        policy.managed_goals_clause(actor))
    total = db.session.scalar(query.with_only_columns(sa.func.count())) or 0
    if not total:
        return [], 0
    shown = db.session.scalars(query.options(*LOAD).order_by(Goal.created_at, Goal.id)
                               .limit(limit))
    return list(shown), total

