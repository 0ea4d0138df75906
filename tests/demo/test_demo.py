"""The demo organisation loads deterministically and idempotently, and carries the whole chain:
data in, the lab decides the KPIs, only KPIs score a review next to the qualitative ratings."""

import sqlalchemy as sa

from reviewapp.auth.models import Role, Team, User
from reviewapp.cycles.models import Cycle
from reviewapp.goals.models import Goal
from reviewapp.kpis.models import ValidationRun
from reviewapp.metrics.models import KpiStatus, Metric, Observation
from reviewapp.reviews.models import Review, ReviewState
from reviewapp.reviews.scoring import DIVERGENCE_THRESHOLD

COUNTED = [User, Team, Observation, ValidationRun, Goal, Cycle, Review]


def snapshot(db):
    people = sorted(
        (u.email, u.role.value, u.manager.email if u.manager else None,
         u.team.name if u.team else None)
        for u in db.session.scalars(sa.select(User)))
    counts = {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
              for m in COUNTED}
    return people, counts


def test_demo_load_twice_changes_nothing_and_tells_the_story(runner, db):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "Demo logins" in first.output and "hr@demo.reviewapp.test" in first.output
    people, counts = snapshot(db)
    roles = [r for _, r, _, _ in people]
    assert roles.count("hr_admin") == 1 and roles.count("manager") == 3
    assert roles.count("rep") == 24 and counts["Team"] == 3

    statuses = dict(db.session.execute(sa.select(Metric.key, Metric.kpi_status)).all())
    assert statuses["calls_per_day"] == KpiStatus.NOT_PREDICTIVE
    assert statuses["meetings"] == KpiStatus.KPI and statuses["proposals"] == KpiStatus.KPI
    run = db.session.scalar(sa.select(ValidationRun))
    priya = db.session.scalar(sa.select(User).where(User.name == "Priya Shah"))
    assert priya.id in [t["rep_id"] for t in run.teachable_moments]

    cycle = db.session.scalar(sa.select(Cycle))
    assert sorted(k.metric.key for k in cycle.kpis) == ["meetings", "proposals"]
    assert all(k.evidence_run_id == run.id and k.evidence_sentence for k in cycle.kpis)
    states = {r.state for r in db.session.scalars(sa.select(Review))}
    assert {ReviewState.SELF_REVIEW, ReviewState.MANAGER_REVIEW,
            ReviewState.CALIBRATION} <= states
    divergent = [r for r in db.session.scalars(sa.select(Review).where(
        Review.state == ReviewState.CALIBRATION))
        if abs(r.quant_score - r.qual_score) >= DIVERGENCE_THRESHOLD]
    assert divergent and all(r.reconciliation_note for r in divergent)
    calls = db.session.scalar(sa.select(Metric).where(Metric.key == "calls_per_day"))
    assert db.session.scalar(sa.select(Goal.id).where(Goal.metric_id == calls.id))

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    db.session.expire_all()
    assert snapshot(db) == (people, counts)
    manager = db.session.scalar(sa.select(User).where(User.role == Role.MANAGER))
    assert len(manager.reports) == 8
