"""Demo review cycles, dated from the day the demo is loaded.

- The previous quarter's cycle is fully finalised (every review acknowledged), so that trends
  across cycles and stored records exist.
- The latest quarter's cycle has reviews in every state: self-assessments being written (a
  few overdue), manager reviews, calibration (Kai Jensen rates his West team generously while
  their KPI results are average: the calibration page shows it, and HR has adjusted one
  rating), shared reviews (one with a request for a conversation), acknowledgements (one
  with a comment) and a few finalised records. Tom Becker's scores diverge and carry a
  reconciliation note.
Deterministic for a given date; loading twice changes nothing.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from reviewapp.auth.models import Team, User
from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.models import Cycle
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.demo.metrics import last_quarter, loaded_last_quarter
from reviewapp.demo.people import DOMAIN
from reviewapp.extensions import db
from reviewapp.metrics.catalogue import metric_by_key
from reviewapp.metrics.models import KpiStatus
from reviewapp.metrics.periods import Period
from reviewapp.reviews import decisions
from reviewapp.reviews.models import Review
from reviewapp.reviews.models import ReviewState as S
from reviewapp.reviews.services import (
    ManagerAssessment,
    SelfAssessment,
    override_kpi,
    save_manager,
    save_self,
    scores_of,
    submit_manager,
    submit_self,
)


def cycle_name(quarter: Period) -> str:
    return f"{quarter.label} quarterly review"


def demo_quarter(today: date | None = None) -> Period:
    """The quarter of the demo's current cycle: the last quarter of its data."""
    return loaded_last_quarter() or last_quarter(today)


TARGETS = {"meetings": 24.0, "proposals": 9.0}
LENIENT_MANAGER = "Kai Jensen"

# Where each rep's review stands in the latest cycle.
PLAN = {
    "Priya Shah": S.FINALIZED, "Tom Becker": S.SHARED, "Ana Lima": S.ACKNOWLEDGED,
    "Jon Park": S.SHARED, "Lena Vogel": S.CALIBRATION, "Omar Haddad": S.CALIBRATION,
    "Grace Liu": S.MANAGER_REVIEW, "Pedro Alves": S.SELF_REVIEW,
    "Ben Carter": S.FINALIZED, "Chloe Dubois": S.ACKNOWLEDGED, "Dev Patel": S.SHARED,
    "Emma Novak": S.CALIBRATION, "Felix Wright": S.CALIBRATION, "Hana Sato": S.MANAGER_REVIEW,
    "Ivan Petrov": S.MANAGER_REVIEW, "Julia Costa": S.SELF_REVIEW,
    "Liam O'Neil": S.CALIBRATION, "Maya Singh": S.CALIBRATION, "Noah Fischer": S.CALIBRATION,
    "Olivia Brown": S.SHARED, "Rafael Ortiz": S.CALIBRATION, "Sara Kim": S.MANAGER_REVIEW,
    "Theo Martin": S.CALIBRATION, "Uma Rao": S.SELF_REVIEW,
}
ACK_COMMENT = {"Chloe Dubois": "I read it and mostly agree. I would like the forecasting "
                               "training mentioned under development to happen this quarter."}
CONVERSATION = {"Tom Becker": "I'd like to talk about how the meetings KPI was counted."}

WINS = ["renewed {a} early after a quarterly business review I ran",
        "rebuilt the {a} pipeline when their buyer changed",
        "won {a} against two competitors with a pilot I set up",
        "turned a complaint at {a} into a three-year extension",
        "opened {a}, a new logo in my territory",
        "closed the {a} expansion two weeks ahead of plan"]
ACCOUNTS = ["Hansen Logistics", "Baltic Freight", "Nordlicht Foods", "Atlas Print",
            "Kestrel Labs", "Meridian Health", "Orion Textiles", "Vega Retail", "Solace Hotels",
            "Pinecrest Tools", "Harbor Lines", "Quill & Co"]
HOWS = ["Paired with a newer colleague on {n} deals and wrote up our discovery checklist.",
        "Switched to video demos for remote accounts; {n} of them moved to proposal.",
        "Kept my CRM notes current every day, so hand-overs during leave took minutes.",
        "Asked {n} customers for feedback after each delivery and shared it with the team.",
        "Took the negotiation course and used it on {n} renewals.",
        "Ran {n} lunch-and-learns on the new product line for the team."]
WISHES = ["Forecasting accuracy", "Negotiating multi-year deals", "Presenting to executives",
          "Account planning for key accounts", "Coaching newer colleagues",
          "Product depth on the analytics line"]
MANAGER_NOTES = [
    "Customers ask for them by name; renewals came without a tender.",
    "Handled a difficult quarter calmly and rebuilt the plan within a week.",
    "Helps colleagues unprompted; their checklist is now team practice.",
    "Low complaint volume; two customers sent unsolicited praise.",
    "Applies training quickly; it showed in the quarter's negotiations.",
]


# The evidence behind each self-rating, by competency: one of these, about one of the rep's
# accounts, so that no two competencies (and few reps) read alike.
SELF_EVIDENCE = {
    "Relationships": ["I {win}.", "{a}'s new buyer asked for me by name at the renewal.",
                      "Met {a}'s finance lead every month; they now call me before tenders."],
    "Adaptability": ["When {a} froze budgets I moved them to a phased rollout instead.",
                     "Switched {a} to remote demos when their site closed; the deal held.",
                     "Rebuilt my territory plan in a week after {a} merged with a rival."],
    "Collaboration": ["{how}", "Handed {a} to a colleague during my leave with a one-page "
                      "brief; nothing slipped.", "Joined the service team's calls with {a} "
                      "so the hand-over after signature was clean."],
    "Customer satisfaction": ["{a} scored us 9 of 10 after I fixed their invoicing issue.",
                              "Turned a complaint at {a} into a written process they praised.",
                              "Checked in with {a} thirty days after delivery; they extended."],
    "Learning": ["Took the negotiation course and used it on the {a} renewal.",
                 "Studied the analytics line and ran the {a} demo myself.",
                 "Wrote up why we lost {a} and changed how I qualify deals."],
}


def _evidence(competency: str, rng: random.Random, accounts: list[str], win: str,
              how: str) -> str:
    choices = SELF_EVIDENCE.get(competency) or ["I {win}."]
    return rng.choice(choices).format(a=rng.choice(accounts), win=win, how=how)


def _texts(rng: random.Random, index: int) -> tuple[str, str, str, dict[str, str]]:
    """A self-assessment of this rep's own (no two alike)."""
    accounts = rng.sample(ACCOUNTS, 3)
    win = WINS[index % len(WINS)].format(a=accounts[0])
    other = WINS[(index + 3) % len(WINS)].format(a=accounts[1])
    how = HOWS[index % len(HOWS)].format(n=rng.randint(2, 6))
    achievements = f"I {win}, and {other}. {how}"
    reflection = rng.choice([
        "The meetings goal helped me plan my weeks; the calls goal mostly added noise.",
        "I hit the proposals goal late in the quarter; I want to spread it out next time.",
        "Goals kept me focused on fewer, better accounts.",
        f"I fell short on meetings in month two while covering {accounts[2]}."])
    wishes = f"{WISHES[index % len(WISHES)]}; {WISHES[(index + 2) % len(WISHES)].lower()}."
    notes = {name: _evidence(name, rng, accounts, win, how) for name in SELF_EVIDENCE}
    return achievements, reflection, wishes, notes


def _self(review: Review, rng: random.Random, index: int, submit: bool) -> None:
    achievements, reflection, wishes, notes = _texts(rng, index)
    ratings = {r.cycle_competency_id: (
        rng.randint(3, 5),
        notes.get(r.cycle_competency.name) or _evidence(r.cycle_competency.name, rng,
                                                        ACCOUNTS[:3], "kept my accounts", ""))
        for r in review.ratings}
    save_self(review.rep, review, SelfAssessment(achievements, reflection, wishes, ratings),
              expected_version=None)
    if submit:
        submit_self(review.rep, review)


def _manager_ratings(review: Review, rng: random.Random) -> list[int]:
    """Near what the numbers say; Kai Jensen rates a point higher whatever they say."""
    base = review.quant_score if review.quant_score is not None else 3.0
    if review.manager.name == LENIENT_MANAGER:  # generous whatever the numbers say
        return [min(5, round(base + 1.5 + rng.choice([0, 0, 0.5]))) for _ in review.ratings]
    return [max(1, min(5, round(base + rng.choice([-1, 0, 0, 1]) * 0.6)))
            for _ in review.ratings]


def _manager(review: Review, rng: random.Random, submit: bool) -> None:
    ratings = _manager_ratings(review, rng)
    assessment = ManagerAssessment(
        strengths=rng.choice(["Relationships and calm problem solving.",
                              "Discovery: asks the questions others skip.",
                              "Reliability: customers know what to expect."]),
        development_areas=rng.choice(["Forecast accuracy; bring deals to proposal earlier.",
                                      "Qualify out sooner; fewer stalled opportunities.",
                                      "Delegate admin so more time goes to customers."]),
        overall_comment="A solid quarter; we agreed two concrete goals for the next one.",
        reconciliation_note="",
        ratings={r.cycle_competency_id: (ratings[i], MANAGER_NOTES[i % len(MANAGER_NOTES)])
                 for i, r in enumerate(review.ratings)})
    save_manager(review.manager, review, assessment, expected_version=None)
    if scores_of(review).divergent:  # the manager explains, as the rule asks
        assessment.reconciliation_note = ("The two sides differ; we went through the numbers "
                                          "and the qualitative evidence together.")
        save_manager(review.manager, review, assessment, expected_version=None)
    decisions.set_potential(review.manager, review, rng.choice([1, 2, 2, 3]))
    if submit:
        submit_manager(review.manager, review)


def _tom(review: Review, rng: random.Random) -> None:
    """Busy but not converting: an override with its justification and a reconciliation."""
    for score in review.kpi_scores:
        if score.cycle_kpi.metric.key == "meetings" and (score.computed_score or 0) >= 3:
            override_kpi(review.manager, review, score.id, 2,
                         "Half of the meetings logged this quarter were internal pipeline "
                         "reviews, not customer meetings; counted as customer meetings only, "
                         "attainment is about 60 %.")
    save_manager(review.manager, review, ManagerAssessment(
        strengths="Customers rate him highly; he carried two colleagues' accounts.",
        development_areas="Convert call volume into discovery meetings.",
        overall_comment="A hard-working quarter that did not yet show in results.",
        reconciliation_note="Tom's meetings and proposals fell short, but customers rate him "
                            "highly and he carried two colleagues' accounts through their "
                            "leave. The numbers reflect that time, not a lack of effort; we "
                            "agreed a plan to convert more of his call volume into discovery "
                            "meetings.",
        ratings={r.cycle_competency_id: (v, MANAGER_NOTES[i % len(MANAGER_NOTES)])
                 for i, (r, v) in enumerate(zip(review.ratings, [5, 4, 4, 5, 4],
                                                strict=False))}),
        expected_version=None)
    decisions.set_potential(review.manager, review, 2)
    submit_manager(review.manager, review)


def _launch(hr: User, name: str, period, dues: list[date]) -> list[Review]:
    kpis = [m for m in (metric_by_key(k) for k in TARGETS)
            if m is not None and m.kpi_status == KpiStatus.KPI]
    draft = CycleDraft(
        name=name, period=period.label, self_due=dues[0], manager_due=dues[1],
        calibration_due=dues[2], acknowledgement_due=dues[3], quant_weight=0.5,
        team_ids=list(db.session.scalars(sa.select(Team.id))),
        competency_ids=[c.id for c in ensure_default_competencies()],
        kpis=[(m.id, TARGETS[m.key], 1.0) for m in kpis])
    # Launched, in the story, two weeks before the self-assessment was due.
    return launch(hr, save_cycle(hr, None, draft), today=dues[0] - timedelta(days=14))


def _acknowledge(review: Review, comment: str = "") -> None:
    decisions.acknowledge(review.rep, review, typed_name=review.rep.name, read_confirmed=True,
                          comment=comment)


def _previous_cycle(hr: User, rng: random.Random, today: date, previous: Period) -> None:
    """The quarter before: every review written, shared, acknowledged and finalised."""
    dues = [today - timedelta(days=d) for d in (80, 66, 59, 45)]
    for index, review in enumerate(_launch(hr, cycle_name(previous), previous, dues)):
        _self(review, rng, index + 7, submit=True)
        _manager(review, rng, submit=True)
        decisions.share(hr, review)
        _acknowledge(review)
        decisions.finalize(hr, review, today=today)


def _current_cycle(hr: User, rng: random.Random, today: date,
                   quarter: Period) -> dict[str, int]:
    dues = [today - timedelta(days=6), today + timedelta(days=6),
            today + timedelta(days=13), today + timedelta(days=27)]
    reviews = {r.rep.name: r for r in _launch(hr, cycle_name(quarter), quarter, dues)}
    for index, (name, target) in enumerate(PLAN.items()):
        review = reviews.get(name)
        if review is None:
            continue
        _self(review, rng, index, submit=target.rank >= S.MANAGER_REVIEW.rank
              or name == "Ivan Petrov")
        if target.rank < S.MANAGER_REVIEW.rank:
            continue
        if name == "Tom Becker":
            _tom(review, rng)
        else:
            _manager(review, rng, submit=target.rank >= S.CALIBRATION.rank)
        if target.rank >= S.SHARED.rank:
            decisions.share(hr, review)
        if name in CONVERSATION:
            decisions.request_conversation(review.rep, review, CONVERSATION[name])
        if target.rank >= S.ACKNOWLEDGED.rank:
            _acknowledge(review, ACK_COMMENT.get(name, ""))
        if target == S.FINALIZED:
            decisions.finalize(hr, review, today=today)
    calibrated = reviews["Noah Fischer"]
    first = calibrated.ratings[0]
    decisions.adjust_rating(hr, calibrated, first.cycle_competency_id,
                            max(1, (first.manager_rating or 3) - 1),
                            "Calibration: West's ratings run a point above teams with the same "
                            "KPI results; the evidence supports one level lower.")
    counts: dict[str, int] = {}
    for review in reviews.values():
        counts[review.state.label] = counts.get(review.state.label, 0) + 1
    return counts


def load_reviews(seed: int, today: date | None = None) -> dict:
    """Launch the two demo cycles once and walk their reviews through the workflow."""
    today = today or date.today()
    quarter = demo_quarter(today)
    if db.session.scalar(sa.select(Cycle.id).where(Cycle.name == cycle_name(quarter))):
        return {"review cycles": "already loaded"}
    hr = db.session.scalar(sa.select(User).where(User.email == f"hr@{DOMAIN}"))
    rng = random.Random(seed)
    _previous_cycle(hr, rng, today, quarter.shift(-1))
    counts = _current_cycle(hr, rng, today, quarter)
    db.session.flush()
    summary = ", ".join(f"{n} {label.lower()}" for label, n in sorted(counts.items()))
    return {"review cycles": f"{cycle_name(quarter.shift(-1))}: all finalised; "
                             f"{cycle_name(quarter)}: {summary}",
            "_lenient": LENIENT_MANAGER}
