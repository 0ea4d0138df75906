"""The KPI demo step runs one organisation-wide validation, once."""

import sqlalchemy as sa

from reviewapp.demo.kpis import load_kpis
from reviewapp.kpis.models import ValidationRun


def test_load_kpis_is_idempotent(sales, db):
    first = load_kpis(7)
    db.session.commit()
    run_id = db.session.scalar(sa.select(ValidationRun.id))
    assert first == {"kpi validation": f"run #{run_id}: calls_per_day not_predictive, "
                                       "emails_sent not_predictive, meetings kpi, proposals kpi"}
    second = load_kpis(7)
    db.session.commit()
    assert second["kpi validation"].endswith("(already there)")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ValidationRun)) == 1


def test_load_kpis_without_metrics_does_nothing(org, db):
    assert "skipped" in load_kpis(7)["kpi validation"]
