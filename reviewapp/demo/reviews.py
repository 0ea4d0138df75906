"""Demo review cycle: the latest demo quarter, launched, with reviews in every state up to
calibration — one of them with divergent scores and a reconciliation note."""

from datetime import date, timedelta

import sqlalchemy as sa

from reviewapp.auth.models import Team, User
from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.models import Cycle
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.demo.metrics import LAST_QUARTER
from reviewapp.demo.people import DOMAIN, email_for
from reviewapp.extensions import db
from reviewapp.metrics.catalogue import metric_by_key
from reviewapp.metrics.models import KpiStatus
from reviewapp.reviews.models import Review
from reviewapp.reviews.services import (
    ManagerAssessment,
    SelfAssessment,
    override_kpi,
    save_manager,
    save_self,
    submit_manager,
    submit_self,
)

CYCLE_NAME = f"{LAST_QUARTER.label} quarterly review"
TARGETS = {"meetings": 24.0, "proposals": 9.0}

SELF_NOTES = [
    "Two long-standing accounts renewed early after quarterly business reviews I ran.",
    "Switched to video demos when the trade fair was cancelled; pipeline held.",
    "Paired with a new colleague on three deals and wrote up our discovery checklist.",
    "No escalations this quarter; NPS on my accounts went from 41 to 52.",
    "Finished the negotiation course and used it on the Baltic Freight deal.",
]
MANAGER_NOTES = [
    "Customers ask for them by name; the Hansen renewal came without a tender.",
    "Handled the fair cancellation calmly and rebuilt the plan in a week.",
    "Helps colleagues unprompted; the discovery checklist is now team practice.",
    "Low complaint volume; two customers sent unsolicited praise.",
    "Applies training quickly; the Baltic Freight negotiation showed it.",
]


def _self(review: Review, rep: User, ratings: list[int]) -> None:
    save_self(rep, review, SelfAssessment(
        achievements="Closed the quarter above plan on proposals; two renewals signed early.",
        goals_reflection="The meetings goal helped me plan my weeks; calls were less useful.",
        development_wishes="Forecasting and negotiating multi-year deals.",
        ratings={r.cycle_competency_id: (ratings[i % len(ratings)],
                                         SELF_NOTES[i % len(SELF_NOTES)])
                 for i, r in enumerate(review.ratings)}), expected_version=None)


def _manager(review: Review, manager: User, ratings: list[int], note: str = "") -> None:
    save_manager(manager, review, ManagerAssessment(
        strengths="Relationships and calm problem solving.",
        development_areas="Forecast accuracy; bring deals to proposal earlier.",
        overall_comment="A good quarter with clear growth in how they work with customers.",
        reconciliation_note=note,
        ratings={r.cycle_competency_id: (ratings[i % len(ratings)],
                                         MANAGER_NOTES[i % len(MANAGER_NOTES)])
                 for i, r in enumerate(review.ratings)}), expected_version=None)


def load_reviews(seed: int) -> dict:
    """Launch the demo cycle once and walk some reviews through the workflow."""
    if db.session.scalar(sa.select(Cycle.id).where(Cycle.name == CYCLE_NAME)):
        return {"review cycle": "already launched"}
    hr = db.session.scalar(sa.select(User).where(User.email == f"hr@{DOMAIN}"))
    kpis = [metric_by_key(k) for k in TARGETS]
    kpis = [m for m in kpis if m is not None and m.kpi_status == KpiStatus.KPI]
    today = date.today()
    draft = CycleDraft(
        name=CYCLE_NAME, period=LAST_QUARTER.label, self_due=today - timedelta(days=2),
        manager_due=today + timedelta(days=12), calibration_due=today + timedelta(days=20),
        acknowledgement_due=today + timedelta(days=30), quant_weight=0.5,
        team_ids=list(db.session.scalars(sa.select(Team.id))),
        competency_ids=[c.id for c in ensure_default_competencies()],
        kpis=[(m.id, TARGETS[m.key], 1.0) for m in kpis])
    cycle = save_cycle(hr, None, draft)
    reviews = launch(hr, cycle)
    by_email = {r.rep.email: r for r in reviews}

    def review_of(name: str) -> tuple[Review, User, User]:
        review = by_email[email_for(name)]
        return review, review.rep, review.manager

    # North: the full range of states.
    review, rep, manager = review_of("Priya Shah")
    _self(review, rep, [5, 4, 5, 4, 5])
    submit_self(rep, review)
    _manager(review, manager, [5, 4, 5, 5, 4])
    submit_manager(manager, review)

    review, rep, manager = review_of("Tom Becker")  # busy, but it does not convert
    _self(review, rep, [4, 4, 4, 4, 3])
    submit_self(rep, review)
    for score in review.kpi_scores:
        if score.cycle_kpi.metric.key == "meetings" and (score.computed_score or 0) >= 3:
            override_kpi(manager, review, score.id, 2,
                         "Half of the meetings logged this quarter were internal pipeline "
                         "reviews, not customer meetings; counted as customer meetings only, "
                         "attainment is about 60 %.")
    _manager(review, manager, [5, 4, 4, 5, 4],
             note="Tom's meetings and proposals fell short, but customers rate him highly and "
                  "he carried two colleagues' accounts through their leave. The numbers "
                  "reflect that time, not a lack of effort; we agreed a plan to convert more "
                  "of his call volume into discovery meetings.")
    submit_manager(manager, review)

    for name in ("Ana Lima", "Ben Carter", "Liam O'Neil"):
        review, rep, manager = review_of(name)
        _self(review, rep, [4, 3, 4, 4, 3])
        submit_self(rep, review)
        _manager(review, manager, [4, 3, 4, 4, 3])  # in progress: saved, not submitted

    for name in ("Jon Park", "Chloe Dubois", "Maya Singh"):
        review, rep, _ = review_of(name)
        _self(review, rep, [3, 4, 3, 4, 4])  # a draft only the rep can see
    db.session.flush()
    states: dict[str, int] = {}
    for r in reviews:
        states[r.state.label] = states.get(r.state.label, 0) + 1
    summary = ", ".join(f"{n} {label.lower()}" for label, n in sorted(states.items()))
    return {"review cycle": f"{CYCLE_NAME}: {summary}"}



