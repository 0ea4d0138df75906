"""Which goals a person may see, loaded with what their pages need, and the goal tree.

Who sees which goal is policy's to say (visible_goals_clause, the SQL twin of can_view_goal).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload, selectinload

from reviewapp import policy
from reviewapp.auth.models import Team, User
from reviewapp.extensions import db
from reviewapp.goals import progress as maths
from reviewapp.goals.models import (
    NEEDS_ATTENTION,
    Goal,
    GoalKind,
    GoalScope,
    GoalState,
    GoalStatus,
    Milestone,
    owner_label,
)
from reviewapp.goals.periods import quarter_bounds
from reviewapp.goals.tracking import Progress
from reviewapp.metrics.models import KpiStatus, Metric, Rollup
from reviewapp.model_types import among
from reviewapp.pagination import Page, PageRequest, Sort, paginate

VISIBLE_ORDER = (Goal.scope.desc(), Goal.start_date.desc(), Goal.title)  # team goals first
LOAD = (  # what a goal refers to joined into its row (one statement), its milestones selected
    joinedload(Goal.metric), selectinload(Goal.milestones), joinedload(Goal.owner),
    joinedload(Goal.team), joinedload(Goal.parent),
)


def goals_query(actor: User, *, quarter: str | None = None, team_id: int | None = None,
                states: Sequence[GoalState] | None = None, owner_id: int | None = None,
                active_on: date | None = None, parent_id: int | None = None,
                owners_active: bool = False) -> sa.Select:
    """The goals the actor may see (policy's SQL clause), filtered, as a SELECT to refine;
    `owners_active`: team goals and the goals of people whose account is active."""
    query = sa.select(Goal).where(policy.visible_goals_clause(actor))
    if owners_active:
        query = query.where(sa.or_(Goal.owner_id.is_(None), Goal.owner_id.in_(
            sa.select(User.id).where(User.active))))
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
    query = goals_query(actor, **filters).options(*LOAD).order_by(*VISIBLE_ORDER)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class _Milestone:
    done: bool


@dataclass(frozen=True)
class _Metric:
    name: str
    rollup: Rollup
    unit: str | None = None
    kpi_status: KpiStatus | None = None


@dataclass(frozen=True)
class GoalFacts:
    """What progress and the tree read of a goal, read as plain columns: for pages that count
    or roll up many goals (how many at risk, a team goal's 200 aligned goals) without building
    an ORM object for each, and for the rows a tree or a panel prints below its top goals."""

    id: int
    kind: GoalKind
    scope: GoalScope
    state: GoalState
    title: str
    owner_name: str
    parent_id: int | None
    weight: float
    team_id: int | None
    owner_id: int | None
    start_date: date
    end_date: date
    metric_id: int | None
    metric: _Metric | None
    start_value: float | None
    target_value: float | None
    manual_percent: float | None
    status_override: GoalStatus | None
    milestones: tuple[_Milestone, ...]

    @property
    def is_active(self) -> bool:
        return self.state == GoalState.ACTIVE


def facts_of(query: sa.Select) -> list[GoalFacts]:
    """The goals of a goals_query, in its order, as GoalFacts: two statements."""
    facts_owner, facts_team = aliased(User), aliased(Team)
    query = (query.outerjoin(Metric, Metric.id == Goal.metric_id)
             .outerjoin(facts_owner, facts_owner.id == Goal.owner_id)
             .outerjoin(facts_team, facts_team.id == Goal.team_id)
             .with_only_columns(Goal.id, Goal.kind, Goal.scope, Goal.state, Goal.title,
                                facts_owner.name.label("owner"), facts_team.name.label("team"),
                                Goal.parent_id, Goal.weight, Goal.team_id, Goal.owner_id,
                                Goal.start_date, Goal.end_date, Goal.metric_id, Metric.name,
                                Metric.rollup, Metric.unit, Metric.kpi_status,
                                Goal.start_value, Goal.target_value, Goal.manual_percent,
                                Goal.status_override))
    rows = db.session.execute(query).all()
    done: dict[int, list[_Milestone]] = {}
    checklist = [r.id for r in rows if r.kind == GoalKind.CHECKLIST]
    if checklist:
        for goal_id, is_done in db.session.execute(
                sa.select(Milestone.goal_id, Milestone.done)
                .where(Milestone.goal_id.in_(checklist))):
            done.setdefault(goal_id, []).append(_Milestone(bool(is_done)))
    metrics: dict[int, _Metric] = {}  # one per metric, shared by its goals
    facts = []
    # Rows unpacked by position: reading 22 columns by name from each of a scope's rows was
    # the largest part of building them.
    for (goal_id, kind, scope, state, title, owner, team, parent_id, weight, team_id,
         owner_id, start_date, end_date, metric_id, metric_name, rollup, unit, kpi_status,
         start_value, target_value, manual_percent, status_override) in rows:
        metric = None
        if metric_id is not None:
            metric = metrics.get(metric_id)
            if metric is None:
                metric = metrics[metric_id] = _Metric(metric_name, rollup, unit, kpi_status)
        facts.append(GoalFacts(
            id=goal_id, kind=kind, scope=scope, state=state, title=title,
            owner_name=owner_label(scope, team, owner), parent_id=parent_id, weight=weight,
            team_id=team_id, owner_id=owner_id, start_date=start_date, end_date=end_date,
            metric_id=metric_id, metric=metric, start_value=start_value,
            target_value=target_value, manual_percent=manual_percent,
            status_override=status_override, milestones=tuple(done.get(goal_id, ()))))
    return facts


def goal_facts(actor: User, **filters) -> list[GoalFacts]:
    """visible_goals' goals, in its order, as GoalFacts."""
    return facts_of(goals_query(actor, **filters).order_by(*VISIBLE_ORDER))


def loaded_goals(goal_ids: Sequence[int]) -> list[Goal]:
    """These goals with what their rows show (LOAD), in the order of the ids given."""
    if not goal_ids:
        return []
    by_id = {g.id: g for g in db.session.scalars(
        sa.select(Goal).where(among(Goal.id, goal_ids)).options(*LOAD))}
    return [by_id[i] for i in goal_ids if i in by_id]


def load_goal(goal_id: int, *, history: bool = True) -> Goal | None:
    """One goal with everything its page shows; without its check-ins, comments and
    adjustments when `history` is false (an action checks and changes the goal itself, and
    a goal's history only grows)."""
    options = [*LOAD]
    if history:
        options += [selectinload(Goal.check_ins), selectinload(Goal.comments),
                    selectinload(Goal.adjustments)]
    return db.session.scalar(sa.select(Goal).where(Goal.id == goal_id).options(*options))


def active_child_counts(goal_ids: Sequence[int]) -> Counter:
    """How many agreed goals align to each goal (whoever may see them)."""
    if not goal_ids:
        return Counter()
    rows = db.session.execute(
        sa.select(Goal.parent_id, sa.func.count(Goal.id))
        .where(among(Goal.parent_id, goal_ids), Goal.state == GoalState.ACTIVE)
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
    folded: int = 0  # children the viewer may see, beyond the first CHILDREN_SHOWN
    folded_at_risk: int = 0  # of those, at risk or off track

    @property
    def rolled_up_bar(self) -> float:
        return maths.bar_percent(self.rolled_up)

    @property
    def rolled_up_percent(self) -> float | None:
        return None if self.rolled_up is None else self.rolled_up * 100.0


CHILDREN_SHOWN = 25  # per goal in the tree; the rest are counted and listed on the goals page


def build_tree(goals: Sequence[Goal], progress: dict[int, Progress]) -> list[TreeNode]:
    """Goals as a forest: each goal under its parent when the parent is in the list.

    A goal's roll-up is the weighted mean of its agreed children's progress (their own
    measure, or their roll-up when they have no measure yet), all of them counted (None for a
    viewer who does not see them all); a goal
    with more than CHILDREN_SHOWN children keeps the first ones and counts the rest (folded),
    so a team goal with 200 aligned goals does not render 200 rows.
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
        # The roll-up counts every aligned goal: from a part of them (a rep sees their own
        # only) it would be another number under the same name, so it is not given.
        node.rolled_up = None if node.hidden else maths.weighted_rollup(parts)
        node.children.sort(key=lambda n: (n.goal.scope != GoalScope.TEAM, n.goal.owner_name,
                                          n.goal.title))
        rest = node.children[CHILDREN_SHOWN:]
        node.folded = len(rest)
        node.folded_at_risk = sum(1 for c in rest if c.goal.is_active
                                  and c.progress.status in NEEDS_ATTENTION)
        del node.children[CHILDREN_SHOWN:]
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


def tree_page(actor: User, asked: PageRequest,
              **filters) -> tuple[Page, list[Goal | GoalFacts]]:
    """A page of the tree's top-level goals (no parent among the goals shown), searched and
    sorted in SQL, and every goal below them as GoalFacts, two statements per level: the
    facts carry all a row of the tree prints, so no goal below the top is loaded whole."""
    shown = goals_query(actor, **filters)
    ids = shown.with_only_columns(Goal.id).correlate(None).scalar_subquery()
    roots = (shown.where(sa.or_(Goal.parent_id.is_(None), Goal.parent_id.not_in(ids)))
             .outerjoin(OWNER, OWNER.id == Goal.owner_id)
             .outerjoin(OWNER_TEAM, OWNER_TEAM.id == Goal.team_id)
             .options(*LOAD))
    page = paginate(roots, asked, TREE_SORTS, tiebreak=[sa.func.lower(Goal.title), Goal.id],
                    search=[Goal.title, OWNER.name, OWNER_TEAM.name])
    goals: list[Goal | GoalFacts] = list(page.items)
    level = [g.id for g in page.items]
    for _ in range(MAX_TREE_DEPTH):
        if not level:
            break
        below = facts_of(shown.where(among(Goal.parent_id, level)))
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

