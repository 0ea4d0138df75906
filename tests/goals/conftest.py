"""Goal fixtures: metrics, observations and goals, as factories that return callables."""

from datetime import date

import pytest

from reviewapp.extensions import db
from reviewapp.goals.services import GoalDraft, create_goal
from reviewapp.metrics.models import Direction, KpiStatus, Metric, MetricKind, Observation, Rollup
from reviewapp.metrics.periods import parse_period

Q3 = "2026-Q3"  # the quarter most tests set goals in
IN_Q3 = date(2026, 8, 16)  # about half of Q3 is behind us


def make_metric(key: str, *, kind: str = "outcome", direction: str = "higher",
                rollup: str = "sum", status: str | None = None, name: str | None = None):
    kind = MetricKind(kind)
    metric = Metric(key=key, name=name or key.replace("_", " ").capitalize(), unit="",
                    kind=kind, direction=Direction(direction), rollup=Rollup(rollup),
                    kpi_status=(KpiStatus(status) if status else KpiStatus.CANDIDATE)
                    if kind == MetricKind.ACTIVITY else None)
    db.session.add(metric)
    db.session.commit()
    return metric


def observe(rep, metric, period: str, value: float):
    found = parse_period(period)
    db.session.add(Observation(rep_id=rep.id, metric_id=metric.id, grain=found.grain.value,
                               period_start=found.start, value=value))
    db.session.commit()


def draft(**fields) -> GoalDraft:
    values = {"scope": "individual", "title": "Grow revenue", "kind": "metric", "quarter": Q3}
    values.update(fields)
    return GoalDraft(**values)


def set_goal(actor, **fields):
    """Create a goal through the service and commit; return it."""
    goal, _ = create_goal(actor, draft(**fields))
    db.session.commit()
    return goal


def agreed_checklist(org, title: str, milestones: str):
    """Rita's agreed checklist with its first milestone ticked."""
    from reviewapp.goals.models import GoalState

    goal = set_goal(org.lead, owner_id=org.rep.id, kind="checklist", title=title,
                    milestones=milestones)
    goal.state = GoalState.ACTIVE
    goal.milestones[0].done = True
    db.session.commit()
    return goal


@pytest.fixture
def metrics(app, org):
    """revenue (outcome, sum), calls (activity, mean, not predictive), churn (lower, sum);
    Rita and Ravi have some Q2 and Q3 data."""
    revenue = make_metric("revenue", name="Revenue")
    calls = make_metric("calls_per_day", kind="activity", rollup="mean",
                        status="not_predictive", name="Calls per day")
    churn = make_metric("churned_accounts", direction="lower", name="Churned accounts")
    for rep, base in ((org.rep, 100.0), (org.rep2, 60.0)):
        observe(rep, revenue, "2026-07", base)
        observe(rep, revenue, "2026-08", base)
        observe(rep, revenue, "2026-06", 999.0)  # Q2: outside the goals' period
        observe(rep, calls, "2026-07", 30.0)
        observe(rep, calls, "2026-08", 40.0)
        observe(rep, churn, "2026-Q3", 7.0)
    return {"revenue": revenue, "calls": calls, "churn": churn}
