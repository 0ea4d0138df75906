"""Finalised reviews to make records of, walked through the real workflow services.

Five KPIs (marked validated by hand, with the run and evidence sentence set on the frozen cycle
KPIs as launching after a validation run would leave them), six quarters of data per rep, the five
standard competencies, an override, a calibration adjustment, an acknowledgement with a comment
full of special characters and HTML. Used by tests/records and bench/pdf_bench.py.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import sqlalchemy as sa

from reviewapp.auth.models import Role
from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.extensions import db
from reviewapp.kpis.models import RunScope, ValidationRun
from reviewapp.metrics.catalogue import add_metric
from reviewapp.metrics.models import KpiStatus, Metric, Observation
from reviewapp.reviews import decisions
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
from tests.factories import create_team, create_user

PERIOD = "2025-Q4"
QUARTERS = [dt.date(2024, 7, 1), dt.date(2024, 10, 1), dt.date(2025, 1, 1), dt.date(2025, 4, 1),
            dt.date(2025, 7, 1), dt.date(2025, 10, 1)]
KPIS = [  # key, name, unit, direction, rollup, target, base value
    ("rec_meetings", "Discovery meetings", "meetings", "higher", "sum", 24.0, 22.0),
    ("rec_proposals", "Proposals sent", "proposals", "higher", "sum", 9.0, 8.5),
    ("rec_demos", "Product demos", "demos", "higher", "sum", 14.0, 15.0),
    ("rec_referrals", "Referrals won", "referrals", "higher", "sum", 4.0, 3.0),
    ("rec_response", "First response time", "hours", "lower", "mean", 6.0, 7.5),
]
EVIDENCE = ("Within the same rep, one more {name} a quarter goes with about $1,{n}00 more "
            "revenue (95% CI 1,{m}00 to 2,{n}00).")
SPECIAL = 'Zoë & Łukasz said “great” — 5 < 7 > 3, 100% of €2,500; ½ done ✓'
HTML_PAYLOAD = '<script>alert("x")</script><b>bold?</b><img src="file:///etc/passwd">'
UNBROKEN = "https://crm.example.com/deals/" + "hansen-renewal-" * 12 + "q4"
LONG = ("Opened the Hansen renewal two months early by running a quarterly business review "
        "with their operations lead, then turned the findings into a three-site expansion "
        "proposal that procurement signed without a tender. ")

SELF_NOTES = ["Renewed two long-standing accounts early after business reviews I ran.",
              "Moved demos to video when the trade fair was cancelled; pipeline held.",
              "Paired with a new colleague on three deals; wrote up our checklist.",
              "No escalations; NPS on my accounts went from 41 to 52.",
              "Finished the negotiation course and used it on the Baltic Freight deal."]
MANAGER_NOTES = ["Customers ask for them by name; the Hansen renewal came without a tender.",
                 "Handled the cancellation calmly and rebuilt the plan in a week.",
                 "Helps colleagues unprompted; the checklist is now team practice.",
                 "Low complaint volume; two customers sent unsolicited praise.",
                 "Applies training quickly; the Baltic Freight negotiation showed it."]


def kpi_metrics() -> dict[str, Metric]:
    """The five KPI metrics, made once and marked validated by hand."""
    found = {m.key: m for m in db.session.scalars(
        sa.select(Metric).where(Metric.key.in_([k[0] for k in KPIS])))}
    for key, name, unit, direction, rollup, _target, _base in KPIS:
        if key not in found:
            found[key] = add_metric(None, key=key, name=name, kind="activity",
                                    direction=direction, rollup=rollup, unit=unit)
        found[key].kpi_status = KpiStatus.KPI
    db.session.flush()
    return found


def validation_run(metrics: dict[str, Metric]) -> ValidationRun:
    """An organisation-wide run that made the five metrics KPIs, stored as the lab stores one
    (only what a record shows of it matters here: its id, beside each evidence sentence)."""
    outcome = db.session.scalar(sa.select(Metric).where(Metric.key == "rec_revenue"))
    if outcome is None:
        outcome = add_metric(None, key="rec_revenue", name="Revenue", kind="outcome",
                             direction="higher", rollup="sum", unit="$")
    run = ValidationRun(
        source="cli", scope=RunScope.ORGANISATION, scope_label="Whole organisation",
        counts_for_status=True, outcome_metric_id=outcome.id, outcome_key=outcome.key,
        primary_outcome_key=outcome.key, candidate_keys=[k[0] for k in KPIS],
        grain="quarter", lag=0, window_periods=8, params={}, fingerprint="0" * 64,
        versions={}, n_reps=40, n_obs=320, n_periods=8,
        decisions={k[0]: "kpi" for k in KPIS})
    db.session.add(run)
    db.session.flush()
    return run


def insert_history(metrics: dict[str, Metric], rep_ids: list[int], seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for rep_id in rep_ids:
        for key, _name, _unit, _direction, _rollup, _target, base in KPIS:
            level = base * rng.uniform(0.8, 1.2)
            for i, start in enumerate(QUARTERS):
                value = max(0.5, level * (1 + 0.04 * i) + rng.normal(0, base * 0.08))
                rows.append(Observation(rep_id=rep_id, metric_id=metrics[key].id,
                                        grain="quarter", period_start=start,
                                        value=round(value, 1)))
    db.session.add_all(rows)
    db.session.flush()


def launched_cycle(n_reps: int = 3, *, name: str = "2025 Q4 review", long_notes: bool = False,
                   team_name: str = "North", today: dt.date | None = None) -> SimpleNamespace:
    """HR, a manager, a team of n reps, and a launched cycle over them with five KPIs."""
    today = today or dt.date.today()
    hr = create_user(Role.HR_ADMIN, name="Hanna Records", commit=False)
    boss = create_user(Role.MANAGER, name="Bianca Boss", commit=False)
    manager = create_user(Role.MANAGER, name="Marcus Cole", manager=boss, commit=False)
    team = create_team(team_name, manager=manager, commit=False)
    names = ["Jane Doe", "Priya Shah", "Tom Becker", "Ana Lima", "Zoë Ørsted"]
    reps = [create_user(Role.REP, name=names[i] if i < len(names) else f"Rep {i:03d}",
                        manager=manager, team=team, commit=False) for i in range(n_reps)]
    db.session.flush()
    metrics = kpi_metrics()
    insert_history(metrics, [r.id for r in reps])
    draft = CycleDraft(
        name=name, period=PERIOD, self_due=today + dt.timedelta(days=7),
        manager_due=today + dt.timedelta(days=14), calibration_due=today + dt.timedelta(days=21),
        acknowledgement_due=today + dt.timedelta(days=28), quant_weight=0.5,
        team_ids=[team.id], competency_ids=[c.id for c in ensure_default_competencies()],
        kpis=[(metrics[k[0]].id, k[5], 1.0) for k in KPIS])
    cycle = save_cycle(hr, None, draft)
    launch(hr, cycle)
    run = validation_run(metrics)
    for i, kpi in enumerate(cycle.kpis):
        kpi.evidence_run_id = run.id
        kpi.evidence_sentence = EVIDENCE.format(name=kpi.name.lower(), n=i + 2, m=i + 1)
        kpi.evidence_q = 0.004 * (i + 1)
    db.session.commit()
    reviews = list(db.session.scalars(sa.select(Review).where(Review.cycle_id == cycle.id)
                                      .order_by(Review.id)))
    return SimpleNamespace(hr=hr, boss=boss, manager=manager, team=team, reps=reps,
                           cycle=cycle, reviews=reviews, metrics=metrics, run=run,
                           long_notes=long_notes, today=today)


def write_review(org: SimpleNamespace, review: Review, i: int = 0) -> None:
    """Self-assessment, manager review with an override, to calibration (flushes)."""
    rep = review.rep
    long = LONG * 5 if org.long_notes else ""
    save_self(rep, review, SelfAssessment(
        achievements=f"Closed the quarter above plan on proposals. {SPECIAL} {long}",
        goals_reflection="The meetings goal helped me plan my weeks.\nCalls mattered less.",
        development_wishes=f"Forecasting; multi-year deals. {HTML_PAYLOAD}",
        ratings={r.cycle_competency_id: (3 + (j + i) % 3, SELF_NOTES[j % 5] + (
            " " + LONG if org.long_notes else ""))
                 for j, r in enumerate(review.ratings)}), expected_version=None)
    submit_self(rep, review)
    save_manager(org.manager, review, ManagerAssessment(
        strengths=f"Relationships and calm problem solving. {long}"
                  + (f" See {UNBROKEN}" if org.long_notes else ""),
        development_areas="Forecast accuracy; bring deals to proposal earlier.",
        overall_comment=f"A strong quarter. {SPECIAL}",
        reconciliation_note="The KPI side lags because two big deals slipped into January; "
                            "the behaviours behind them are in place.",
        ratings={r.cycle_competency_id: (4 - (j + i) % 2, MANAGER_NOTES[j % 5] + (
            " " + LONG * 2 if org.long_notes else ""))
                 for j, r in enumerate(review.ratings)}), expected_version=None)
    first = review.kpi_scores[0]
    override_kpi(org.manager, review, first.id, 4,
                 "Two meetings were booked in the last week of the quarter and held in "
                 "January; the customer moved them.")
    submit_manager(org.manager, review)


def finalise(org: SimpleNamespace, review: Review, *, acknowledge: bool = True,
             comment: str = f"Thanks. {SPECIAL} {HTML_PAYLOAD}") -> Review:
    """Calibrate one rating, share, acknowledge (or not) and finalise (flushes)."""
    cid = review.ratings[1].cycle_competency_id
    decisions.adjust_rating(org.hr, review, cid, 5, "Seen across three teams in calibration; "
                                                    "the anchor for 5 fits.")
    decisions.share(org.hr, review)
    today = None
    if acknowledge:
        decisions.acknowledge(review.rep, review, typed_name=review.rep.name,
                              read_confirmed=True, comment=comment)
    else:
        today = org.cycle.acknowledgement_due + dt.timedelta(days=1)
    decisions.finalize(org.hr, review, today=today)
    return review


def finalised_cycle(n_reps: int = 3, **kwargs) -> SimpleNamespace:
    """A launched cycle whose reviews are all finalised (the last one unacknowledged)."""
    org = launched_cycle(n_reps, **kwargs)
    for i, review in enumerate(org.reviews):
        write_review(org, review, i)
        finalise(org, review, acknowledge=(i < n_reps - 1 or n_reps == 1))
    db.session.commit()
    return org
