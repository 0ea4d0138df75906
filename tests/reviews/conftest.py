"""Review fixtures: the small org with sales data, a real validation run, and launched cycles."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from reviewapp.auth.models import Role
from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.extensions import db
from reviewapp.kpis.runs import run_validation
from reviewapp.metrics.models import KpiStatus
from reviewapp.reviews.models import Review
from tests.factories import create_user
from tests.kpis.data import ALL_CANDIDATES, insert_sales

LAST_QUARTER = "2025-Q4"  # the last quarter of tests.kpis.data


@pytest.fixture
def validated(org):
    """Sales data for 17+ reps and an organisation-wide run: meetings and proposals are KPIs."""
    extra = [create_user(Role.REP, name=f"Sam Seller {i:02d}", manager=org.lead, team=org.team)
             for i in range(12)]
    reps = [org.rep, org.rep2, org.boss_rep, org.outsider, *extra]
    metrics = insert_sales([r.id for r in reps])
    outcome = run_validation(None, "revenue", ALL_CANDIDATES, source="cli")  # a policy run
    db.session.commit()
    assert metrics["meetings"].kpi_status == KpiStatus.KPI, outcome.run.decisions
    assert metrics["calls_per_day"].kpi_status == KpiStatus.NOT_PREDICTIVE
    return SimpleNamespace(org=org, reps=reps, metrics=metrics, run=outcome.run)


def make_draft(metrics, *, kpis=("meetings", "proposals"), team_ids=(), person_ids=(),
               competency_ids=None, name="2025 Q4 review", self_due=None, weight=0.5,
               targets=None) -> CycleDraft:
    today = date.today()
    self_due = self_due or today + timedelta(days=7)
    competency_ids = competency_ids if competency_ids is not None else [
        c.id for c in ensure_default_competencies()]
    targets = targets or {}
    return CycleDraft(
        name=name, period=LAST_QUARTER, self_due=self_due,
        manager_due=self_due + timedelta(days=7), calibration_due=self_due + timedelta(days=14),
        acknowledgement_due=self_due + timedelta(days=21), quant_weight=weight,
        team_ids=list(team_ids), person_ids=list(person_ids), competency_ids=competency_ids,
        kpis=[(metrics[k].id, targets.get(k, 40.0), 1.0) for k in kpis])


@pytest.fixture
def launched(validated):
    """A launched cycle over team Alpha with meetings and proposals as KPIs."""
    org = validated.org
    cycle = save_cycle(org.hr, None, make_draft(validated.metrics, team_ids=[org.team.id]))
    launch(org.hr, cycle)
    db.session.commit()
    review = db.session.scalar(db.select(Review).where(Review.rep_id == org.rep.id))
    return SimpleNamespace(**vars(validated), cycle=cycle, review=review)
