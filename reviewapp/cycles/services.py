"""HR's side of review cycles: competencies, cycle drafts, the launch checks and launch itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa

from reviewapp.audit.services import record
from reviewapp.auth.models import Role, Team, User
from reviewapp.cycles.catalogue import require_cycle_manager, weight_bounds
from reviewapp.cycles.models import (
    DEFAULT_BANDS,
    Cycle,
    CycleCompetency,
    CycleKpi,
    CycleKpiTarget,
    CycleStatus,
)
from reviewapp.errors import (
    ActionUnavailable,
    Conflict,
    FieldErrors,
    ServiceError,
    claim_version,
)
from reviewapp.extensions import db
from reviewapp.kpis.queries import made_kpi_by
from reviewapp.kpis.status import status_words
from reviewapp.metrics.models import KpiStatus, Metric
from reviewapp.metrics.periods import Grain, PeriodError, parse_period
from reviewapp.model_types import among
from reviewapp.notifications import events as email_events
from reviewapp.peers.services import PeerSettings
from reviewapp.peers.services import apply_settings as apply_peer_settings
from reviewapp.peers.services import check_settings as check_peer_settings
from reviewapp.reviews.models import CompetencyRating, KpiScore, Review, ReviewState
from reviewapp.reviews.scoring import validate_bands
from reviewapp.reviews.services import refresh_scores

MAX_KPIS = 5
@dataclass
class CycleDraft:
    """What HR enters for a cycle; checked by save_cycle."""

    name: str
    period: str
    self_due: date
    manager_due: date
    calibration_due: date
    acknowledgement_due: date
    quant_weight: float = 0.5
    bands: list[float] = field(default_factory=lambda: list(DEFAULT_BANDS))
    team_ids: list[int] = field(default_factory=list)
    person_ids: list[int] = field(default_factory=list)
    competency_ids: list[int] = field(default_factory=list)
    kpis: list[tuple[int, float, float]] = field(default_factory=list)  # metric, target, weight
    peer: PeerSettings = field(default_factory=PeerSettings)  # peer feedback (off by default)


def check_draft(draft: CycleDraft, cycle: Cycle | None) -> None:
    """Refuse a draft with FieldErrors naming every problem at once, each on its field."""
    problems: dict[str, str] = {}
    name = (draft.name or "").strip()
    if not name:
        problems["name"] = "Enter a name."
    else:
        clash = sa.select(Cycle.id).where(sa.func.lower(Cycle.name) == name.lower())
        if cycle is not None:
            clash = clash.where(Cycle.id != cycle.id)
        if db.session.scalar(clash) is not None:
            problems["name"] = f"A cycle called {name} already exists."
    try:
        if parse_period(draft.period).grain not in (Grain.MONTH, Grain.QUARTER):
            problems["period"] = "A cycle covers a month or a quarter (e.g. 2026-Q3)."
    except PeriodError as exc:
        problems["period"] = str(exc)
    dues = [("self_due", draft.self_due), ("manager_due", draft.manager_due),
            ("calibration_due", draft.calibration_due),
            ("acknowledgement_due", draft.acknowledgement_due)]
    for (_, earlier), (field_name, later) in zip(dues, dues[1:], strict=False):
        if later is not None and earlier is not None and later < earlier:
            problems[field_name] = ("Deadlines must follow the workflow order: self-assessment, "
                                    "manager review, calibration, acknowledgement.")
            break
    # (None: a field the form could not read, whose own message says so)
    if draft.quant_weight is not None and not 0 <= draft.quant_weight <= 1:
        problems["quant_weight"] = "The weight is a fraction between 0 and 1."
    if None not in draft.bands:
        try:
            validate_bands(draft.bands)
        except ValueError as exc:
            problems["bands"] = str(exc)
    metric_ids = [m for m, _, _ in draft.kpis]
    if len(set(metric_ids)) != len(metric_ids):
        problems["kpis"] = "Each KPI may appear once."
    for metric_id, target, weight in draft.kpis:
        if target is None or target <= 0 or weight is None or weight <= 0:
            metric = db.session.get(Metric, metric_id)
            problems.setdefault("kpis", f"{metric.name if metric else 'A KPI'} needs a positive "
                                "target and weight.")
    try:
        check_peer_settings(draft.peer, draft.manager_due)
    except ServiceError as exc:
        problems.setdefault(exc.field or "form", exc.message)
    if problems:
        raise FieldErrors(problems)


def save_cycle(actor: User, cycle: Cycle | None, draft: CycleDraft,
               expected_version: int | None = None) -> Cycle:
    """Create or edit a draft cycle (from an editor opened at `expected_version`: one opened
    before another save loses). A launched cycle's rules cannot change."""
    require_cycle_manager(actor)
    if cycle is not None and cycle.launched:
        raise ServiceError("This cycle has been launched; its scoring rules are frozen.")
    if cycle is not None:
        claim_version(cycle, expected_version, Conflict(
            "Someone saved this draft after you opened the editor (perhaps you, in another "
            "tab): reload the page to see it as it is now, or save again to put in what you "
            "entered below."))
    check_draft(draft, cycle)
    period = parse_period(draft.period)
    created = cycle is None
    if created:
        cycle = Cycle()
        db.session.add(cycle)
    cycle.name, cycle.period_label = draft.name.strip(), period.label
    cycle.period_start, cycle.period_end = period.start, period.end
    cycle.self_due, cycle.manager_due = draft.self_due, draft.manager_due
    cycle.calibration_due, cycle.acknowledgement_due = draft.calibration_due, \
        draft.acknowledgement_due
    cycle.quant_weight, cycle.bands = float(draft.quant_weight), [float(b) for b in draft.bands]
    apply_peer_settings(cycle, draft.peer)
    cycle.teams = list(db.session.scalars(sa.select(Team).where(Team.id.in_(draft.team_ids))))
    cycle.people = list(db.session.scalars(sa.select(User).where(User.id.in_(draft.person_ids))))
    by_metric = {k.metric_id: k for k in cycle.kpis}
    kept = []
    for position, (metric_id, target, weight) in enumerate(draft.kpis):
        kpi = by_metric.get(metric_id) or CycleKpi(metric_id=metric_id)
        kpi.target, kpi.weight, kpi.position = float(target), float(weight), position
        kept.append(kpi)
    cycle.kpis = kept
    by_comp = {c.competency_id: c for c in cycle.competencies}
    cycle.competencies = [
        by_comp.get(cid) or CycleCompetency(competency_id=cid, position=i)
        for i, cid in enumerate(draft.competency_ids)
    ]
    for i, comp in enumerate(cycle.competencies):
        comp.position = i
    db.session.flush()
    record(actor, "cycle.create" if created else "cycle.update", "cycle", cycle.id,
           after={"name": cycle.name, "period": cycle.period_label, "w": cycle.quant_weight,
                  "kpis": [k.metric_id for k in cycle.kpis],
                  "competencies": [c.competency_id for c in cycle.competencies]})
    return cycle


def participants(cycle: Cycle) -> list[User]:
    """Active reps in the cycle's teams or named in it, by name."""
    team_ids = [t.id for t in cycle.teams]
    person_ids = [p.id for p in cycle.people]
    return list(db.session.scalars(
        sa.select(User).where(User.role == Role.REP, User.active,
                              sa.or_(User.team_id.in_(team_ids), User.id.in_(person_ids)))
        .order_by(User.name)))


class LaunchRefused(ActionUnavailable):
    """The launch checks found problems; each is a sentence HR can act on."""

    def __init__(self, problems: list[str]):
        super().__init__("The cycle cannot be launched: " + " ".join(problems))
        self.problems = problems


@dataclass
class LaunchCheck:
    ok: bool
    problems: list[str]
    reps: list[User]


def launch_check(cycle: Cycle, today: date | None = None) -> LaunchCheck:
    """Everything that would stop a launch on `today` (the real day unless a demo replays an
    earlier one), in words HR can act on."""
    today = today or date.today()
    problems: list[str] = []
    if cycle.launched:
        problems.append("The cycle has already been launched.")
    reps = participants(cycle)
    if not reps:
        problems.append("No reps are in the cycle: add a team or people.")
    without_manager = [r.name for r in reps if r.manager_id is None]
    if without_manager:
        problems.append("These reps have no manager to review them: "
                        + ", ".join(without_manager) + ".")
    departed = [r.name for r in reps if r.manager is not None and not r.manager.active]
    if departed:  # the review would go to someone who can no longer sign in
        problems.append("These reps' manager has left (account deactivated): "
                        + ", ".join(departed) + ". Give them an active manager first.")
    twice = _reviewed_already(cycle, reps)
    if twice:
        problems.append(f"These reps already have a review for {cycle.period_label}: "
                        + "; ".join(f"{name} ({where})" for name, where in twice)
                        + ". Take them out of this cycle, or choose another period.")
    passed = [(label, due) for label, due in (
        ("self-assessment", cycle.self_due), ("manager review", cycle.manager_due),
        ("calibration", cycle.calibration_due), ("acknowledgement", cycle.acknowledgement_due))
        if due is not None and due < today]
    if passed:
        problems.append("These deadlines have passed, so every review would start overdue: "
                        + ", ".join(f"{label} ({due:%d %b %Y})" for label, due in passed)
                        + ". Move them on.")
    if len(cycle.kpis) > MAX_KPIS:
        problems.append(f"{len(cycle.kpis)} KPIs chosen; at most {MAX_KPIS} (more is "
                        "micromanagement).")
    for kpi in cycle.kpis:
        metric = kpi.metric
        if metric.kpi_status != KpiStatus.KPI:
            problems.append(f"{metric.name} is not a validated KPI (status: "
                            f"{status_words(metric)}); only metrics the KPI lab has "
                            "validated at two period ends in a row may score a review.")
    if not cycle.competencies:
        problems.append("Choose at least one competency for the qualitative side.")
    if cycle.peer_feedback and cycle.peer_due is not None and cycle.peer_due < today:
        problems.append(f"Peer feedback is on, but its last day to answer "
                        f"({cycle.peer_due:%d %b %Y}) has passed: nobody could be asked. Move "
                        "it on, or turn peer feedback off.")
    low, high = weight_bounds()
    if not low <= cycle.quant_weight <= high:
        problems.append(f"The quantitative weight {cycle.quant_weight:.2f} is outside HR's "
                        f"bounds {low:.2f}–{high:.2f}.")
    return LaunchCheck(not problems, problems, reps)


def _reviewed_already(cycle: Cycle, reps: list[User]) -> list[tuple[str, str]]:
    """(rep, cycle) for each of these reps with a review of the same period in another
    launched or closed cycle: a quarter is reviewed once."""
    if not reps:
        return []
    rows = db.session.execute(
        sa.select(User.name, Cycle.name).select_from(Review)
        .join(Cycle, Cycle.id == Review.cycle_id).join(User, User.id == Review.rep_id)
        .where(Cycle.id != cycle.id, Cycle.status != CycleStatus.DRAFT,
               Cycle.period_start == cycle.period_start, Cycle.period_end == cycle.period_end,
               among(Review.rep_id, [r.id for r in reps]))
        .order_by(User.name))
    return [tuple(r) for r in rows]


def launch(actor: User, cycle: Cycle, *, today: date | None = None) -> list[Review]:
    """Freeze the cycle's rules and evidence and open one review per rep in self-review
    (`today`: the day of the launch, for a demo that replays earlier quarters)."""
    require_cycle_manager(actor)
    check = launch_check(cycle, today)
    if not check.ok:
        raise LaunchRefused(check.problems)
    for kpi in cycle.kpis:
        metric = kpi.metric
        kpi.frozen_name, kpi.frozen_unit = metric.name, metric.unit
        kpi.frozen_direction, kpi.frozen_rollup = metric.direction.value, metric.rollup.value
        evidence = made_kpi_by(metric.id)
        if evidence is not None:
            kpi.evidence_run_id, kpi.evidence_candidate_id = evidence.run_id, evidence.id
            kpi.evidence_sentence, kpi.evidence_q = evidence.sentence, evidence.q
    for comp in cycle.competencies:
        comp.frozen_name = comp.competency.name
        comp.frozen_description = comp.competency.description
        comp.frozen_anchors = list(comp.competency.anchors)
    cycle.status = CycleStatus.LAUNCHED
    cycle.launched_at = datetime.now(UTC)
    cycle.launched_by_id = actor.id
    reviews = []
    for rep in check.reps:
        review = Review(cycle=cycle, rep=rep, manager_id=rep.manager_id,
                        state=ReviewState.SELF_REVIEW, updated_by_id=actor.id)
        review.ratings = [CompetencyRating(cycle_competency=c) for c in cycle.competencies]
        review.kpi_scores = [KpiScore(cycle_kpi=k, target=k.target_for(rep.id))
                             for k in cycle.kpis]
        db.session.add(review)
        reviews.append(review)
    db.session.flush()
    for review in reviews:
        refresh_scores(review)
    email_events.self_assessment_open(actor, cycle, reviews)
    record(actor, "cycle.launch", "cycle", cycle.id, after={
        "reviews": len(reviews), "kpis": [
            {"metric": k.frozen_name, "run": k.evidence_run_id} for k in cycle.kpis]})
    return reviews


def set_rep_targets(actor: User, cycle: Cycle, kpi: CycleKpi,
                    targets: dict[int, float | None]) -> None:
    """Per-rep targets for one KPI of a draft cycle; None clears a rep's own target."""
    require_cycle_manager(actor)
    if cycle.launched:
        raise ServiceError("This cycle has been launched; its targets are frozen.")
    if kpi.cycle_id != cycle.id:
        raise ServiceError("That KPI is not in this cycle.")
    reps = {r.id: r for r in participants(cycle)}
    for rep_id, value in targets.items():
        if rep_id not in reps:
            raise ServiceError("Only reps in the cycle can have their own target.",
                               field=f"target_{rep_id}")
        if value is not None and not value > 0:
            raise ServiceError(f"{reps[rep_id].name} needs a positive target (or leave it "
                               "empty for the cycle's).", field=f"target_{rep_id}")
    before = {t.rep_id: t.target for t in kpi.targets}
    by_rep = {t.rep_id: t for t in kpi.targets}
    for rep_id, value in targets.items():
        if value is None:
            if rep_id in by_rep:
                kpi.targets.remove(by_rep[rep_id])
        elif rep_id in by_rep:
            by_rep[rep_id].target = float(value)
        else:
            kpi.targets.append(CycleKpiTarget(rep_id=rep_id, target=float(value)))
    db.session.flush()
    record(actor, "cycle.rep_targets", "cycle", cycle.id,
           before={"metric": kpi.metric_id, "targets": before},
           after={"metric": kpi.metric_id, "targets": {t.rep_id: t.target for t in kpi.targets}})


class CycleStillOpen(ActionUnavailable):
    """Closing was refused: these reviews are not finalised yet."""

    def __init__(self, open_reviews: list[Review]):
        super().__init__(f"{len(open_reviews)} reviews of this cycle are not finalised yet; "
                         "finalise them before closing the cycle.")
        self.open_reviews = open_reviews


def close_cycle(actor: User, cycle: Cycle) -> None:
    """Close a launched cycle once every review in it is finalised (HR)."""
    require_cycle_manager(actor)
    if cycle.status != CycleStatus.LAUNCHED:
        raise ActionUnavailable("Only a launched cycle can be closed.")
    open_reviews = list(db.session.scalars(
        sa.select(Review).where(Review.cycle_id == cycle.id,
                                Review.state != ReviewState.FINALIZED).order_by(Review.id)))
    if open_reviews:
        raise CycleStillOpen(open_reviews)
    cycle.status, cycle.closed_at = CycleStatus.CLOSED, datetime.now(UTC)
    db.session.flush()
    record(actor, "cycle.close", "cycle", cycle.id, after={"status": "closed"})
