"""KPI statuses move only through policy runs (or HR by hand), exactly as documented."""

import datetime as dt

import pytest
import sqlalchemy as sa

from reviewapp.audit.models import AuditEvent
from reviewapp.errors import ServiceError
from reviewapp.kpis.models import RunScope, ValidationRun
from reviewapp.kpis.runs import Scope, run_validation
from reviewapp.kpis.settings import set_primary_outcome
from reviewapp.kpis.status import next_status, reinstate, retire
from reviewapp.kpis.validation_policy import Spec, current_policy, set_policy
from reviewapp.metrics.models import KpiStatus, Metric, Observation
from tests.kpis.data import ALL_CANDIDATES, CANDIDATES, insert_sales, replace_metric_with_noise

S = KpiStatus


@pytest.mark.parametrize("current,verdict,expected", [
    (S.CANDIDATE, "kpi", S.KPI),
    (S.CANDIDATE, "provisional", S.INCONCLUSIVE),  # shown as provisional, not scoring
    (S.CANDIDATE, "not_predictive", S.NOT_PREDICTIVE),
    (S.CANDIDATE, "inconclusive", S.INCONCLUSIVE),
    (S.CANDIDATE, "insufficient_data", S.INSUFFICIENT_DATA),
    (S.KPI, "kpi", S.KPI),
    (S.KPI, "provisional", S.KPI),  # passing at the latest end is not a failure
    (S.KPI, "not_predictive", S.UNDER_REVIEW),
    (S.KPI, "inconclusive", S.UNDER_REVIEW),  # its first failure, as before
    (S.KPI, "insufficient_data", S.UNDER_REVIEW),  # cannot be checked: flagged, not condemned
    (S.UNDER_REVIEW, "kpi", S.KPI),
    (S.UNDER_REVIEW, "provisional", S.UNDER_REVIEW),  # needs both ends to come back
    (S.UNDER_REVIEW, "not_predictive", S.NOT_PREDICTIVE),
    (S.UNDER_REVIEW, "inconclusive", S.INCONCLUSIVE),
    (S.UNDER_REVIEW, "insufficient_data", S.UNDER_REVIEW),  # no verdict
    (S.NOT_PREDICTIVE, "kpi", S.KPI),
    (S.NOT_PREDICTIVE, "not_predictive", S.NOT_PREDICTIVE),
    (S.NOT_PREDICTIVE, "inconclusive", S.INCONCLUSIVE),
    (S.NOT_PREDICTIVE, "insufficient_data", S.NOT_PREDICTIVE),  # no verdict
    (S.INCONCLUSIVE, "insufficient_data", S.INCONCLUSIVE),  # no verdict
    (S.INCONCLUSIVE, "kpi", S.KPI),
    (S.INSUFFICIENT_DATA, "kpi", S.KPI),
    (S.INSUFFICIENT_DATA, "not_predictive", S.NOT_PREDICTIVE),
    (S.INSUFFICIENT_DATA, "insufficient_data", S.INSUFFICIENT_DATA),
    (S.RETIRED, "kpi", S.RETIRED),
])
def test_next_status(current, verdict, expected):
    assert next_status(current, verdict) == expected


@pytest.mark.parametrize("verdict,expected", [
    ("not_predictive", S.UNDER_REVIEW), ("inconclusive", S.UNDER_REVIEW), ("kpi", S.KPI)])
def test_under_review_waits_for_a_later_period_end(verdict, expected):
    assert next_status(S.UNDER_REVIEW, verdict, new_evidence=False) == expected


def _statuses(db) -> dict[str, str]:
    db.session.expire_all()
    return {m.key: m.kpi_status.value for m in db.session.scalars(sa.select(Metric))
            if m.kpi_status is not None}


def _org_run(db, **settings):
    outcome = run_validation(None, "revenue", source="cli", **settings)
    db.session.commit()
    return outcome


def test_first_run_decides_candidates_and_audits_with_run_id(sales, db):
    outcome = _org_run(db)
    assert outcome.counts_for_status and outcome.run.candidate_keys == ALL_CANDIDATES
    assert _statuses(db) == {"calls_per_day": "not_predictive", "emails_sent": "not_predictive",
                             "meetings": "kpi", "proposals": "kpi"}
    # Both period ends passed: a fresh import of history promotes at once.
    assert outcome.verdicts["meetings"] == "kpi"
    assert outcome.previous_decisions["meetings"] == "kpi"
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "kpi.status")
                                .order_by(AuditEvent.id)).all()
    assert len(events) == 4
    meetings = sales.metrics["meetings"]
    event = next(e for e in events if e.entity_id == meetings.id)
    assert event.before == {"kpi_status": "candidate"}
    assert event.after == {"kpi_status": "kpi", "run_id": outcome.run.id}
    assert event.actor_id is None and f"run #{outcome.run.id}" in event.reason


def test_kpi_failing_goes_under_review_then_not_predictive(sales, db):
    _org_run(db)
    replace_metric_with_noise(sales.metrics["meetings"])
    second = _org_run(db)
    assert second.result.candidate("meetings").decision in ("not_predictive", "inconclusive")
    assert _statuses(db)["meetings"] == "under_review"
    assert _statuses(db)["proposals"] == "kpi"
    # Run again on the same data (a second click, a cron job): nothing new, nothing moves
    # (it demoted the KPI).
    again = _org_run(db)
    assert "meetings" not in again.status_changes
    assert _statuses(db)["meetings"] == "under_review"
    # The next quarter's data in: the next run's failing verdict is taken.
    _next_quarter_like_the_last(db)
    third = _org_run(db)
    verdict = third.verdicts["meetings"]
    assert verdict in ("not_predictive", "inconclusive")
    assert third.status_changes["meetings"] == ("under_review", verdict)
    assert _statuses(db)["meetings"] == verdict


def _next_quarter_like_the_last(db):
    """Copy every value of the last quarter (2025-Q4) into 2026-Q1."""
    last = db.session.scalars(sa.select(Observation).where(
        Observation.period_start == dt.date(2025, 10, 1))).all()
    db.session.add_all([Observation(rep_id=o.rep_id, metric_id=o.metric_id, grain=o.grain,
                                    period_start=dt.date(2026, 1, 1), value=o.value)
                        for o in last])
    db.session.commit()


def test_under_review_returns_to_kpi_when_a_run_passes(sales, db):
    _org_run(db)
    replace_metric_with_noise(sales.metrics["meetings"])
    _org_run(db)
    assert _statuses(db)["meetings"] == "under_review"
    # Fresh data in which meetings drive revenue again.
    db.session.execute(sa.delete(Observation))
    db.session.commit()
    insert_sales([r.id for r in sales.reps], seed=5, star=sales.star.id)
    _org_run(db)
    assert _statuses(db)["meetings"] == "kpi"


def test_insufficient_data_gives_no_verdict(sales, db):
    _org_run(db)  # meetings, proposals kpi; calls and emails not_predictive
    replace_metric_with_noise(sales.metrics["proposals"])
    _org_run(db)  # proposals under_review
    db.session.execute(sa.update(Metric).where(Metric.key == "emails_sent")
                       .values(kpi_status=KpiStatus.CANDIDATE))
    # Only the last three quarters remain: below the guard rail (4 periods), no verdict.
    db.session.execute(sa.delete(Observation).where(Observation.period_start < dt.date(2025, 4, 1)))
    db.session.commit()
    before = _statuses(db)
    outcome = _org_run(db)
    assert outcome.counts_for_status and outcome.result.insufficient_reason
    assert {c.decision for c in outcome.result.candidates} == {"insufficient_data"}
    after = _statuses(db)
    assert before["meetings"] == "kpi" and after["meetings"] == "under_review"
    assert before["proposals"] == "under_review" and after["proposals"] == "under_review"
    assert after["calls_per_day"] == "not_predictive"
    assert after["emails_sent"] == "insufficient_data"


def test_only_runs_under_the_policy_move_statuses(sales, db):
    before = _statuses(db)
    departures = [
        ({"lag": 1}, "lag 1 instead of 0"),
        ({"window": 6}, "window 6 instead of 8"),
        ({"period_effects": False}, "period effects off instead of on"),
        ({"candidate_keys": CANDIDATES}, "it tests 3 of the 4 active candidates"),
        ({"dry_run": True}, "it is a dry run"),
    ]
    for settings, why in departures:
        outcome = run_validation(None, "revenue", source="cli", **settings)
        assert not outcome.counts_for_status and why in outcome.exploratory_reason
        assert outcome.run is not None and outcome.run.exploratory_reason == (
            outcome.exploratory_reason)
    db.session.commit()
    assert _statuses(db) == before
    # HR fixes another policy (audited, kept in history): now a lag-1 run is the policy run.
    set_policy(sales.org.hr, Spec(lag=1), "Calls show up in revenue a quarter later.")
    db.session.commit()
    assert current_policy().spec.lag == 1
    assert _org_run(db).counts_for_status
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "kpi.validation_policy"))
    assert event.before["lag"] == 0 and event.after["lag"] == 1
    assert event.reason == "Calls show up in revenue a quarter later."
    with pytest.raises(ServiceError) as error:
        set_policy(sales.org.hr, Spec(lag=0), "no")
    assert error.value.field == "reason"


def test_a_pass_at_the_latest_end_only_is_provisional_then_confirmed(sales, db):
    # Five quarters of history and a five-quarter window: the window ending a quarter
    # earlier has four, too few for the placebo (each needs a next quarter), so a pass now
    # is provisional.
    db.session.execute(sa.delete(Observation))
    db.session.commit()
    insert_sales([r.id for r in sales.reps], n_quarters=5, star=sales.star.id)
    set_policy(sales.org.hr, Spec(window=5), "A short history for a young team.")
    db.session.commit()
    first = _org_run(db)
    assert first.result.candidate("meetings").decision == "kpi"
    assert first.previous_decisions["meetings"] == "inconclusive"
    assert first.verdicts["meetings"] == "provisional"
    assert _statuses(db)["meetings"] == "inconclusive"  # not scoring yet
    row = next(c for c in first.run.candidates if c.metric_key == "meetings")
    assert row.provisional and "latest quarter end only" in row.plain
    # The next quarter arrives and confirms it.
    db.session.execute(sa.delete(Observation))
    db.session.commit()
    insert_sales([r.id for r in sales.reps], n_quarters=6, star=sales.star.id)
    second = _org_run(db)
    assert second.verdicts["meetings"] == "kpi"
    assert second.status_changes["meetings"] == ("inconclusive", "kpi")


def test_exploratory_runs_change_nothing(sales, db):
    before = _statuses(db)
    team_run = run_validation(sales.org.lead, "revenue",
                              scope=Scope(RunScope.TEAM, team=sales.org.team))
    other_outcome = run_validation(None, "new_business", source="cli")
    mine = run_validation(sales.org.lead, "revenue",
                          scope=Scope(RunScope.MANAGER, manager=sales.org.lead))
    db.session.commit()
    assert team_run.result.candidate("meetings").decision == "kpi"  # a verdict, yet no change
    assert other_outcome.result.candidate("meetings").decision == "kpi"
    for outcome in (team_run, other_outcome, mine):
        assert outcome.run is not None and not outcome.run.counts_for_status
        assert outcome.status_changes == {}
        assert all(c.status_after is None for c in outcome.run.candidates)
    assert team_run.run.n_reps == 18  # team Alpha only: Rita, Ravi, Bob, 14 sellers, Priya
    assert _statuses(db) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "kpi.status")) == 0


def test_another_primary_outcome_makes_revenue_runs_exploratory(sales, db):
    set_primary_outcome(sales.org.hr, "new_business")
    db.session.commit()
    revenue_run = _org_run(db)
    assert not revenue_run.counts_for_status
    assert _statuses(db)["meetings"] == "candidate"
    run = run_validation(None, "new_business", source="cli")
    db.session.commit()
    assert run.counts_for_status and _statuses(db)["meetings"] == "kpi"
    assert db.session.get(ValidationRun, run.run.id).primary_outcome_key == "new_business"


def test_hr_retires_and_reinstates_with_reason(sales, db):
    _org_run(db)
    meetings = db.session.get(Metric, sales.metrics["meetings"].id)
    with pytest.raises(ServiceError):
        retire(sales.org.hr, meetings, "short")
    retire(sales.org.hr, meetings, "Replaced by discovery meetings.")
    db.session.commit()
    assert _statuses(db)["meetings"] == "retired"
    with pytest.raises(ServiceError, match="archived or retired"):
        run_validation(None, "revenue", CANDIDATES)
    assert run_validation(None, "revenue").run.candidate_keys == [
        "calls_per_day", "emails_sent", "proposals"]  # a retired metric is not active
    db.session.rollback()
    reinstate(sales.org.hr, db.session.get(Metric, meetings.id), "Data quality fixed in CRM.")
    db.session.commit()
    assert _statuses(db)["meetings"] == "candidate"
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "kpi.status", AuditEvent.entity_id == meetings.id,
        AuditEvent.actor_id == sales.org.hr.id).order_by(AuditEvent.id)).all()
    assert [(e.before["kpi_status"], e.after["kpi_status"], e.reason) for e in events] == [
        ("kpi", "retired", "Replaced by discovery meetings."),
        ("retired", "candidate", "Data quality fixed in CRM."),
    ]


def test_a_policy_window_too_short_for_the_placebo_is_refused(sales, db):
    with pytest.raises(ServiceError) as error:
        set_policy(sales.org.hr, Spec(window=4), "A short history for a young team.")
    assert error.value.field == "window"
    assert "Choose a window of 5 to" in str(error.value)


def test_a_new_candidate_without_history_does_not_demote_the_kpis(sales, db):
    """HR adds 'Demos' from a teachable moment: two quarters of data, or none yet. The next
    policy run gives it no verdict and judges the others as before."""
    from reviewapp.metrics.catalogue import add_metric

    _org_run(db)
    before = _statuses(db)
    demos = add_metric(None, key="demos", name="Demos", kind="activity", direction="higher",
                       rollup="sum", unit="demos")
    db.session.commit()
    outcome = _org_run(db)
    assert outcome.counts_for_status
    assert _statuses(db) == {**before, "demos": "insufficient_data"}
    assert "the other candidates were tested without it" in \
        outcome.result.candidate("demos").reason
    last_two = sorted({o.period_start for o in db.session.scalars(sa.select(Observation))})[-2:]
    db.session.add_all(Observation(rep_id=rep.id, metric_id=demos.id, period_start=start,
                                   grain="quarter", value=float(i % 5 + 1))
                       for i, rep in enumerate(sales.reps) for start in last_two)
    db.session.commit()
    outcome = _org_run(db)
    assert _statuses(db) == {**before, "demos": "insufficient_data"}
    assert outcome.result.candidate("demos").reason.startswith("only 2 periods")


def test_a_copy_of_a_kpi_added_later_does_not_take_its_place(sales, db):
    """'Booked meetings' (2 x meetings) sorts before Meetings: it became the KPI and sent
    Meetings under review with 'not enough data for a verdict'."""
    from reviewapp.metrics.catalogue import add_metric

    _org_run(db)
    before = _statuses(db)
    assert before["meetings"] == "kpi"
    copy = add_metric(None, key="booked_meetings", name="Booked meetings", kind="activity",
                      direction="higher", rollup="sum", unit="meetings")
    meetings = sales.metrics["meetings"]
    db.session.add_all(Observation(rep_id=o.rep_id, metric_id=copy.id, grain=o.grain,
                                   period_start=o.period_start, value=2 * o.value)
                       for o in db.session.scalars(sa.select(Observation).where(
                           Observation.metric_id == meetings.id)).all())
    db.session.commit()
    outcome = _org_run(db)
    assert _statuses(db) == {**before, "booked_meetings": "insufficient_data"}
    assert "no information beyond" in outcome.result.candidate("booked_meetings").reason


def test_one_reps_revenue_for_a_new_quarter_does_not_move_the_window(sales, db):
    """One row of revenue for the quarter under way moved the organisation's window there,
    dropping a whole quarter of data and 'confirming' what it could not."""
    first = _org_run(db)
    revenue = db.session.scalar(sa.select(Metric).where(Metric.key == "revenue"))
    db.session.add(Observation(rep_id=sales.reps[0].id, metric_id=revenue.id, grain="quarter",
                               period_start=dt.date(2026, 1, 1), value=1000.0))
    db.session.commit()
    second = _org_run(db)
    assert second.run.window_end == first.run.window_end
    assert second.run.n_obs == first.run.n_obs and not second.status_changes
