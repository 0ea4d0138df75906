"""Warnings that carry the product's idea; they inform and never block."""

import pytest

from reviewapp.goals import alerts
from reviewapp.goals.services import create_goal
from tests.goals.conftest import Q3, draft, make_metric, observe, set_goal
from tests.kpis.factories import create_run


@pytest.fixture
def lab_run(metrics, db):
    """An organisation-wide run that found calls per day not predictive of revenue."""
    run = create_run(metrics["revenue"], metrics["calls"], decision="not_predictive",
                     status_before="candidate", status_after="not_predictive")
    db.session.commit()
    return run


def test_not_predictive_metric_warns_with_the_evidence(app, org, metrics, lab_run):
    with app.test_request_context():
        warning = alerts.kpi_warning(metrics["calls"], viewer=org.lead)
        rep_warning = alerts.kpi_warning(metrics["calls"], viewer=org.rep)
    assert warning.message.startswith(
        f"Calls per day did not predict Revenue in the latest validation — run #{lab_run.id}")
    assert warning.link == f"/kpis/runs/{lab_run.id}"
    # A rep may not open KPI runs: the warning stays, the link goes.
    assert f"run #{lab_run.id}" in rep_warning.message and rep_warning.link is None


def test_without_a_run_the_warning_has_no_link(org, metrics):
    warning = alerts.kpi_warning(metrics["calls"], viewer=org.lead)
    assert warning.message.startswith("Calls per day did not predict results")
    assert warning.link is None
    assert alerts.latest_validation_for(metrics["calls"]) is None


def test_under_review_and_healthy_metrics(org, metrics):
    calls = metrics["calls"]
    calls.kpi_status = "under_review"
    assert "is under review" in alerts.kpi_warning(calls).message
    calls.kpi_status = "kpi"
    assert alerts.kpi_warning(calls) is None
    assert alerts.kpi_warning(metrics["revenue"]) is None


def test_goal_page_and_form_show_the_kpi_warning(client, login_as, org, metrics, lab_run):
    goal = set_goal(org.lead, owner_id=org.rep.id, metric_id=metrics["calls"].id,
                    start_value=30, target_value=40, title="More calls")
    login_as(org.lead)
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert 'data-warning="kpi"' in page and "did not predict Revenue" in page
    assert f'href="/kpis/runs/{lab_run.id}"' in page
    form = client.get("/goals/new?scope=individual").get_data(as_text=True)
    assert "Calls per day did not predict Revenue" in form
    assert "(activity · Not predictive)" in form


def test_too_many_activity_goals_is_micromanagement_territory(app, org, metrics):
    extra = [make_metric(f"activity_{i}", kind="activity") for i in range(3)]
    for metric in extra:
        observe(org.rep, metric, "2026-07", 5)
        set_goal(org.lead, owner_id=org.rep.id, metric_id=metric.id, start_value=0,
                 target_value=10, title=metric.key)
    goal, warnings = create_goal(org.lead, draft(owner_id=org.rep.id,
                                                 metric_id=metrics["calls"].id,
                                                 start_value=30, target_value=40))
    assert goal.id is not None  # a warning, not a block
    (activity,) = [w for w in warnings if w.kind == "activity"]
    assert "Rita Rep has 4 goals on activity metrics in 2026-Q3" in activity.message
    assert "micromanagement" in activity.message
    app.config["GOALS_ACTIVITY_WARNING"] = 4
    _, warnings = create_goal(org.lead, draft(owner_id=org.rep2.id,
                                              metric_id=metrics["calls"].id,
                                              start_value=30, target_value=40))
    assert not [w for w in warnings if w.kind == "activity"]


def test_the_form_warns_before_the_fourth_activity_goal(client, login_as, org, metrics):
    three_activity_goals(org)
    login_as(org.rep)
    body = client.get(f"/goals/new?quarter={Q3}").get_data(as_text=True)
    assert "already has 3 goals on activity metrics in 2026-Q3" in body
    response = client.post("/goals/new", data={
        "owner": org.rep.id, "title": "Even more calls", "quarter": Q3, "kind": "metric",
        "metric": metrics["calls"].id, "start_value": "30", "target_value": "45"},
        follow_redirects=True)
    assert "micromanagement territory" in response.get_data(as_text=True)


def test_a_target_against_the_metric_direction(org, metrics):
    _, warnings = create_goal(org.lead, draft(owner_id=org.rep.id,
                                              metric_id=metrics["churn"].id, start_value=5,
                                              target_value=9, title="Churn"))
    assert [w.kind for w in warnings] == ["direction"]


@pytest.mark.parametrize("kind, metric_key", [("metric", "revenue"), ("percent", None),
                                               ("checklist", None)])
def test_the_form_does_not_warn_about_activity_goals_for_a_goal_that_is_not_one(
        client, login_as, org, metrics, kind, metric_key):
    """An outcome goal is what the warning itself recommends; a checklist is no activity."""
    three_activity_goals(org)
    login_as(org.lead)
    body = client.post("/goals/new", data={  # refused (no title): the form comes back
        "owner": org.rep.id, "title": "", "quarter": Q3, "kind": kind,
        "metric": metrics[metric_key].id if metric_key else "", "start_value": "0",
        "weight": "1"}).get_data(as_text=True)
    assert "Enter a title" in body or "This field is required" in body
    assert "micromanagement territory" not in body


def three_activity_goals(org) -> None:
    """Rita's three agreed goals on activity metrics in Q3, with data."""
    for i in range(3):
        metric = make_metric(f"activity_{i}", kind="activity")
        observe(org.rep, metric, "2026-07", 5)
        set_goal(org.lead, owner_id=org.rep.id, metric_id=metric.id, start_value=0,
                 target_value=10, title=metric.key)
