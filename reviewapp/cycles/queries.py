"""What the cycle pages read: counts per state, review rows, metrics and people to offer."""

from __future__ import annotations

from collections import Counter
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from reviewapp import policy
from reviewapp.auth.models import Role, Team, User
from reviewapp.cycles.models import Cycle, CycleCompetency, CycleKpi, CycleStatus
from reviewapp.cycles.services import participants
from reviewapp.extensions import db
from reviewapp.metrics.models import KpiStatus, Metric, MetricKind
from reviewapp.reviews.models import Review, ReviewState
from reviewapp.reviews.scoring import is_divergent


def visible_cycles(actor: User) -> list[Cycle]:
    """Newest first; drafts only for HR."""
    query = sa.select(Cycle).order_by(Cycle.period_start.desc(), Cycle.id.desc())
    if not policy.can_manage_cycles(actor):
        query = query.where(Cycle.status != CycleStatus.DRAFT)
    return list(db.session.scalars(query))


def state_counts(cycle_ids: list[int], scope: frozenset[int] | None) -> dict[int, Counter]:
    """Reviews per cycle and state, in one statement (within the actor's people)."""
    counts: dict[int, Counter] = {cid: Counter() for cid in cycle_ids}
    if not cycle_ids:
        return counts
    query = (sa.select(Review.cycle_id, Review.state, sa.func.count())
             .where(Review.cycle_id.in_(cycle_ids)).group_by(Review.cycle_id, Review.state))
    if scope is not None:
        query = query.where(Review.rep_id.in_(scope))
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


def review_rows(cycle: Cycle, actor: User, today: date | None = None) -> list[dict]:
    """Every review of the cycle the actor may see, with its deadline and what they may see."""
    today = today or date.today()
    query = (sa.select(Review).join(User, User.id == Review.rep_id)
             .where(Review.cycle_id == cycle.id)
             .options(joinedload(Review.rep).joinedload(User.team), joinedload(Review.manager))
             .order_by(User.name))
    scope = policy.people_scope_ids(actor)
    if scope is not None:
        query = query.where(sa.or_(Review.rep_id.in_(scope), Review.manager_id == actor.id))
    rows = []
    for review in db.session.scalars(query):
        deadline = review.deadline
        show = policy.can_see_review_scores(actor, review)
        rows.append({
            "review": review, "due": deadline.due if deadline else None,
            "overdue": deadline is not None and deadline.overdue(today),
            "show_scores": show,
            "divergent": show and is_divergent(review.quant_score, review.qual_score),
        })
    return rows


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


def pending_by_manager(rows: list[dict]) -> list[tuple[str, Counter]]:
    """Reviews not yet finalised, counted per reviewing manager and state."""
    out: dict[str, Counter] = {}
    for row in rows:
        review = row["review"]
        if review.state != ReviewState.FINALIZED:
            name = review.manager.name if review.manager else "No reviewer"
            out.setdefault(name, Counter())[review.state] += 1
    return sorted(out.items())
