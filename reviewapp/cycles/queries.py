"""What the cycle pages read: counts per state, a page of review rows, metrics and people to
offer."""

from __future__ import annotations

from collections import Counter
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload, selectinload

from reviewapp import policy
from reviewapp.auth.models import Role, Team, User
from reviewapp.cycles.models import Cycle, CycleCompetency, CycleKpi, CycleStatus
from reviewapp.cycles.services import participants
from reviewapp.extensions import db
from reviewapp.metrics.models import KpiStatus, Metric, MetricKind
from reviewapp.pagination import Page, PageRequest, Sort, paginate
from reviewapp.reviews.models import DEADLINES, Review, ReviewState
from reviewapp.reviews.scoring import is_divergent


def visible_cycles(actor: User) -> list[Cycle]:
    """Newest first; drafts only for HR."""
    query = sa.select(Cycle).order_by(Cycle.period_start.desc(), Cycle.id.desc())
    if not policy.can_manage_cycles(actor):
        query = query.where(Cycle.status != CycleStatus.DRAFT)
    return list(db.session.scalars(query))


def state_counts(cycle_ids: list[int], actor: User) -> dict[int, Counter]:
    """Reviews per cycle and state that the actor may see (as the cycle page counts them: the
    reviews of their people and those they write), in one statement."""
    counts: dict[int, Counter] = {cid: Counter() for cid in cycle_ids}
    if not cycle_ids:
        return counts
    query = (sa.select(Review.cycle_id, Review.state, sa.func.count())
             .where(Review.cycle_id.in_(cycle_ids), policy.visible_reviews_clause(actor))
             .group_by(Review.cycle_id, Review.state))
    for cycle_id, state, n in db.session.execute(query):
        counts[cycle_id][ReviewState(state)] = n
    return counts


def waiting_for(manager: User) -> Counter:
    """Per cycle, the reviews this manager has to write now."""
    return Counter(db.session.scalars(sa.select(Review.cycle_id).where(
        Review.manager_id == manager.id, Review.state == ReviewState.MANAGER_REVIEW)))


def load_cycle(cycle_id: int) -> Cycle | None:
    """A cycle with everything its pages show, in a fixed number of statements."""
    return db.session.scalar(sa.select(Cycle).where(Cycle.id == cycle_id).options(
        selectinload(Cycle.teams), selectinload(Cycle.people),
        selectinload(Cycle.kpis).options(joinedload(CycleKpi.metric),
                                         selectinload(CycleKpi.targets)),
        selectinload(Cycle.competencies).joinedload(CycleCompetency.competency)))


REP, REVIEWER = aliased(User), aliased(User)
STATE_RANK = sa.case({s: s.rank for s in ReviewState}, value=Review.state)
# The cycle page's sort keys; scores are not among them: a sort would reveal draft ratings.
REVIEW_SORTS = {
    "rep": Sort.by(sa.func.lower(REP.name)),
    "team": Sort.by(sa.func.lower(Team.name)),
    "manager": Sort.by(sa.func.lower(REVIEWER.name)),
    "state": Sort.by(STATE_RANK),
}


def _cycle_reviews(cycle: Cycle, actor: User) -> sa.Select:
    """The cycle's reviews the actor may see (policy's SQL clause), with rep, team and
    reviewer joined for search and sort."""
    return (sa.select(Review).join(REP, REP.id == Review.rep_id)
            .outerjoin(Team, Team.id == REP.team_id)
            .outerjoin(REVIEWER, REVIEWER.id == Review.manager_id)
            .where(Review.cycle_id == cycle.id, policy.visible_reviews_clause(actor)))


def review_page(cycle: Cycle, actor: User, asked: PageRequest, state: ReviewState | None = None,
                today: date | None = None, reviewer_id: int | None = None) -> Page:
    """One page of the cycle's reviews the actor may see (those one reviewer writes, if
    asked), searched and sorted in SQL; each item is a row with its deadline and whether the
    actor may see its scores."""
    today = today or date.today()
    query = _cycle_reviews(cycle, actor).options(
        joinedload(Review.rep).joinedload(User.team), joinedload(Review.manager))
    if state is not None:
        query = query.where(Review.state == state)
    if reviewer_id is not None:
        query = query.where(Review.manager_id == reviewer_id)
    page = paginate(query, asked, REVIEW_SORTS, tiebreak=[Review.id],
                    search=[REP.name, REP.email, REVIEWER.name, Team.name])
    rows = []
    for review in page.items:
        deadline = review.deadline
        show = policy.can_see_review_scores(actor, review)
        rows.append({
            "review": review, "due": deadline.due if deadline else None,
            "overdue": deadline is not None and deadline.overdue(today),
            "show_scores": show,
            "divergent": show and is_divergent(review.quant_score, review.qual_score),
        })
    page.items = rows
    return page


def review_counts(cycle: Cycle, actor: User) -> Counter:
    """Reviews per state over everything the actor may see in the cycle (not just a page)."""
    query = (sa.select(Review.state, sa.func.count()).where(
        Review.cycle_id == cycle.id, policy.visible_reviews_clause(actor))
        .group_by(Review.state))
    return Counter({ReviewState(state): n for state, n in db.session.execute(query)})


def overdue_count(cycle: Cycle, counts: Counter, today: date | None = None) -> int:
    """Reviews whose current step's deadline has passed: every review in a state shares its
    deadline, so the counts per state answer it."""
    today = today or date.today()
    return sum(n for state, n in counts.items()
               if state in DEADLINES and getattr(cycle, DEADLINES[state][1]) < today)


def offered_kpi_metrics(cycle: Cycle | None) -> list[Metric]:
    """Activity metrics to offer: validated KPIs first, then the rest; plus any already chosen."""
    chosen = [k.metric_id for k in cycle.kpis] if cycle else []
    metrics = db.session.scalars(sa.select(Metric).where(
        Metric.kind == MetricKind.ACTIVITY,
        sa.or_(sa.not_(Metric.archived), Metric.id.in_(chosen))))
    return sorted(metrics, key=lambda m: (m.kpi_status != KpiStatus.KPI, m.name.lower()))


def team_choices() -> list[tuple[int, str]]:
    return [(t.id, t.name) for t in db.session.scalars(sa.select(Team).order_by(Team.name))]


def rep_choices() -> list[tuple[int, str]]:
    reps = db.session.scalars(sa.select(User).options(joinedload(User.team)).where(
        User.role == Role.REP, User.active).order_by(User.name))
    return [(u.id, f"{u.name} ({u.team.name})" if u.team else u.name) for u in reps]


def target_reps(cycle: Cycle) -> list[User]:
    """Who may have an own target: once launched, the reps who got a review (whoever is in the
    teams now); before, the cycle's participants."""
    if not cycle.launched:
        return participants(cycle)
    return list(db.session.scalars(
        sa.select(User).join(Review, Review.rep_id == User.id)
        .where(Review.cycle_id == cycle.id).order_by(User.name)))


def pending_by_manager(cycle: Cycle, actor: User) -> list[tuple[str, Counter]]:
    """Reviews not yet finalised, counted per reviewing manager and state (GROUP BY)."""
    query = (sa.select(REVIEWER.name, Review.state, sa.func.count())
             .select_from(Review).outerjoin(REVIEWER, REVIEWER.id == Review.manager_id)
             .where(Review.cycle_id == cycle.id, Review.state != ReviewState.FINALIZED,
                    policy.visible_reviews_clause(actor))
             .group_by(REVIEWER.id, REVIEWER.name, Review.state))
    out: dict[str, Counter] = {}
    for name, state, n in db.session.execute(query):
        out.setdefault(name or "No reviewer", Counter())[ReviewState(state)] += n
    return sorted(out.items())
