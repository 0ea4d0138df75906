"""A metric stored at two grains (data from before the import refused it) never breaks a page.

Ana's calls are stored for 2026-Q3 as a quarter (42) and, stray, for 2026-W30 as a week (50).
The quarter already covers that week, so quarterly views show 42; the week is not added to it.
"""

import datetime as dt

import pytest
import sqlalchemy as sa

from reviewapp.kpis.panel import load_panel
from reviewapp.metrics.data import load_observations, rolled_up
from reviewapp.metrics.models import Observation

Q3 = dt.date(2026, 7, 1)
W30 = dt.date(2026, 7, 20)  # Monday of 2026-W30; its Thursday is in July, so in Q3


@pytest.fixture
def mixed(corpus_org, db):
    ana, ben = corpus_org.reps["ana"], corpus_org.reps["ben"]
    calls, revenue = corpus_org.metrics["calls"], corpus_org.metrics["revenue"]
    rows = [(ana, calls, "quarter", Q3, 42.0), (ana, calls, "week", W30, 50.0),
            (ben, calls, "quarter", Q3, 30.0),
            (ana, revenue, "quarter", Q3, 900.0), (ben, revenue, "quarter", Q3, 700.0),
            (ana, calls, "quarter", dt.date(2026, 4, 1), 40.0),
            (ben, calls, "quarter", dt.date(2026, 4, 1), 20.0),
            (ana, revenue, "quarter", dt.date(2026, 4, 1), 800.0),
            (ben, revenue, "quarter", dt.date(2026, 4, 1), 500.0)]
    db.session.execute(sa.insert(Observation), [
        {"rep_id": rep.id, "metric_id": metric.id, "grain": grain, "period_start": start,
         "value": value} for rep, metric, grain, start, value in rows])
    db.session.commit()
    return corpus_org


def test_quarterly_roll_up_keeps_the_quarter_and_ignores_the_stray_week(mixed):
    data = rolled_up(load_observations([mixed.reps["ana"].id]), "quarter")
    q3 = data[(data["metric"] == mixed.metrics["calls"].id) & (data["start"] == "2026-07-01")]
    assert q3[["value", "n"]].values.tolist() == [[42.0, 1]]


def test_team_metrics_page_shows_the_quarter_value(client, mixed, login_as):
    login_as(mixed.lead)
    response = client.get("/metrics/team?period=2026-Q3")
    assert response.status_code == 200
    lines = client.get("/metrics/team?period=2026-Q3&format=csv").get_data(as_text=True)
    assert "ana@example.com,Ana,2026-Q3,900,42" in lines.splitlines()


def test_rep_metrics_page_by_quarter_and_by_month(client, mixed, login_as):
    ana = mixed.reps["ana"]
    login_as(ana)
    quarterly = client.get(f"/metrics/people/{ana.id}")
    assert quarterly.status_code == 200
    assert "2026-Q3" in quarterly.get_data(as_text=True)
    # By month the quarter values cannot be split; the week is all there is for July.
    monthly = client.get(f"/metrics/people/{ana.id}?grain=month")
    assert monthly.status_code == 200
    assert "2026-07" in monthly.get_data(as_text=True)


def test_validation_panel_loads(mixed):
    panel = load_panel(mixed.metrics["revenue"], [mixed.metrics["calls"]], "quarter", window=2)
    ana = panel.frame[panel.frame["rep"] == mixed.reps["ana"].id]
    assert ana["calls"].tolist() == [40.0, 42.0]
