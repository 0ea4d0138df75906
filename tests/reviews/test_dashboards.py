"""Dashboards show each person's next review task with its deadline, overdue in red."""

from datetime import date, timedelta


def test_rep_and_manager_tasks_with_overdue_marking(client, launched, login_as, db):
    org, review = launched.org, launched.review
    login_as(org.rep)
    body = client.get("/dashboard").get_data(as_text=True)
    assert "Write your self-assessment (2025 Q4 review)" in body
    assert f"/reviews/{review.id}" in body and "(overdue)" not in body
    login_as(org.lead)
    body = client.get("/dashboard").get_data(as_text=True)
    assert f"Waiting for {org.rep.name}&#39;s self-assessment" in body
    launched.cycle.self_due = date.today() - timedelta(days=1)
    db.session.commit()
    login_as(org.rep)
    body = client.get("/dashboard").get_data(as_text=True)
    assert 'class="overdue"' in body and "(overdue)" in body


def test_hr_sees_cycle_progress_by_state(client, launched, login_as):
    login_as(launched.org.hr)
    body = client.get("/dashboard").get_data(as_text=True)
    assert "2025 Q4 review" in body and "Self-assessment:" in body


def test_outsider_sees_no_task_of_others(client, launched, login_as):
    login_as(launched.org.outsider)
    body = client.get("/dashboard").get_data(as_text=True)
    assert "No review tasks right now." in body
