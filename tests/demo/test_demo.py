"""The demo organisation loads deterministically and idempotently, and carries the whole chain:
data in, the lab decides the KPIs, only KPIs score a review next to the qualitative ratings."""

from datetime import date

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

    previous, cycle = db.session.scalars(sa.select(Cycle).order_by(Cycle.period_start)).all()
    for c in (previous, cycle):
        assert sorted(k.metric.key for k in c.kpis) == ["meetings", "proposals"]
        assert all(k.evidence_run_id and k.evidence_sentence for k in c.kpis)
    assert {r.state for r in db.session.scalars(sa.select(Review).where(
        Review.cycle_id == previous.id))} == {ReviewState.FINALIZED}
    reviews = db.session.scalars(sa.select(Review).where(Review.cycle_id == cycle.id)).all()
    assert {r.state for r in reviews} == set(ReviewState) - {ReviewState.NOT_STARTED}
    divergent = [r for r in reviews if r.state.rank >= ReviewState.CALIBRATION.rank
                 and abs(r.quant_score - r.qual_score) >= DIVERGENCE_THRESHOLD]
    assert divergent and all(r.reconciliation_note for r in divergent)
    acks = [r.acknowledgement for r in reviews if r.acknowledgement]
    assert any(a.comment for a in acks)
    assert any(r.conversation_requested_at for r in reviews)
    assert any(x.calibrated_rating is not None for r in reviews for x in r.ratings)
    # Dated from today: the current cycle's later deadlines are ahead, a few reviews overdue.
    today = date.today()
    assert cycle.manager_due > today and cycle.acknowledgement_due > today
    overdue = [r for r in reviews if r.deadline and r.deadline.overdue(today)]
    assert 0 < len(overdue) <= 4
    # Every rep wrote their own self-assessment: no two alike.
    texts = [r.achievements for r in reviews if r.achievements]
    assert len(texts) > 10 and len(set(texts)) == len(texts)
    # The lenient manager rates higher than the others while their KPI scores do not.
    def mean(values):
        return sum(values) / len(values)
    scored = [r for r in reviews if r.qual_score is not None and r.quant_score is not None]
    kai = [r for r in scored if r.manager.name == "Kai Jensen"]
    others = [r for r in scored if r.manager.name != "Kai Jensen"]
    assert mean([r.qual_score - r.quant_score for r in kai]) > \
        mean([r.qual_score - r.quant_score for r in others]) + 0.5
    calls = db.session.scalar(sa.select(Metric).where(Metric.key == "calls_per_day"))
    assert db.session.scalar(sa.select(Goal.id).where(Goal.metric_id == calls.id))

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    db.session.expire_all()
    assert snapshot(db) == (people, counts)
    manager = db.session.scalar(sa.select(User).where(User.role == Role.MANAGER))
    assert len(manager.reports) == 8
