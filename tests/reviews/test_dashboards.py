"""Dashboards list what each person must do next across cycles, with deadlines (overdue in
red), and the in-app notifications of reviews shared with or returned to them."""

from datetime import date, timedelta

import sqlalchemy as sa

from reviewapp.notifications.models import Notification
from tests.reviews.test_decisions import _hr
from tests.reviews.test_workflow import fresh, manager_form, submit_self


def test_rep_and_manager_tasks_with_overdue_marking(client, launched, login_as, db):
    org, review = launched.org, launched.review
    login_as(org.rep)
    body = client.get("/dashboard").get_data(as_text=True)
    assert "Write your self-assessment (2025 Q4 review)" in body
    assert f"/reviews/{review.id}" in body and "(overdue)" not in body
    login_as(org.lead)
    body = client.get("/dashboard").get_data(as_text=True)
    assert "self-assessment is overdue" not in body  # not yet: nothing for the manager to do
    launched.cycle.self_due = date.today() - timedelta(days=1)
    db.session.commit()
    login_as(org.rep)
    body = client.get("/dashboard").get_data(as_text=True)
    assert 'class="overdue"' in body and "(overdue)" in body
    login_as(org.lead)
    body = client.get("/dashboard").get_data(as_text=True)
    assert f"{org.rep.name}&#39;s self-assessment is overdue: remind them" in body
    # A rep who has left cannot be reminded (HR's Remind answered "nothing open").
    org.rep.active = False
    db.session.commit()
    body = client.get("/dashboard").get_data(as_text=True)
    assert "they have left, so move on without it" in body
    login_as(org.hr)
    page = client.get(f"/cycles/{launched.cycle.id}").get_data(as_text=True)
    assert f"Remind {org.rep.name}" not in page and f"{org.rep.name} has left" in page
    assert f"Remind {org.rep2.name}" in page


def test_the_to_do_list_follows_the_review_through_every_step(client, launched, login_as, db):
    org, review = launched.org, launched.review
    submit_self(client, login_as, review)
    login_as(org.lead)
    assert f"Review {org.rep.name}" in client.get("/dashboard").get_data(as_text=True)
    client.post(f"/reviews/{review.id}/manager", data=manager_form(
        fresh(db, review.id), action="submit", reconciliation_note="Explained."))
    body = client.get("/dashboard").get_data(as_text=True)
    assert "Calibrate 2025 Q4 review: 1 of your reviews" in body
    login_as(org.hr)
    assert "Calibrate and share 1 reviews" in client.get("/dashboard").get_data(as_text=True)
    client.post(f"/reviews/{review.id}/share", data={"confirm": "1"})
    login_as(org.rep)
    body = client.get("/dashboard").get_data(as_text=True)
    assert "Read and acknowledge your review (2025 Q4 review)" in body
    assert 'data-testid="notifications"' in body and "has been shared with you" in body
    client.post(f"/reviews/{review.id}/acknowledge",
                data={"typed_name": org.rep.name, "read_confirmed": "1"})
    login_as(org.hr)
    assert "Finalise 1 acknowledged reviews" in client.get("/dashboard").get_data(as_text=True)


def test_notifications_are_marked_read_by_a_post_never_by_looking(
        client, launched, login_as, db):
    org = launched.org
    db.session.add(Notification(user_id=org.rep.id, message="Your review was shared.",
                                link=f"/reviews/{launched.review.id}"))
    db.session.commit()
    login_as(org.rep)
    for _ in range(2):
        assert "Your review was shared." in client.get("/dashboard").get_data(as_text=True)
    assert client.post("/notifications/read").status_code == 302
    assert "Your review was shared." not in client.get("/dashboard").get_data(as_text=True)
    read_at = db.session.scalars(sa.select(Notification.read_at)
                                 .where(Notification.user_id == org.rep.id)).all()
    assert read_at and all(at is not None for at in read_at)


def test_hr_sees_cycle_progress_by_state(client, launched, login_as, db):
    login_as(_hr(db))
    body = client.get("/dashboard").get_data(as_text=True)
    assert "2025 Q4 review" in body and "Self-assessment:" in body


def test_outsider_sees_no_task_of_others(client, launched, login_as):
    login_as(launched.org.outsider)
    body = client.get("/dashboard").get_data(as_text=True)
    assert "Nothing to do right now." in body


def test_the_counted_to_do_lists_the_reviews_the_manager_writes_not_those_below(
        client, launched, login_as, db, monkeypatch):
    """'Write 32 reviews' opened a list of 37: the five of a manager below came with them."""
    import re

    from reviewapp.reviews import dashboard
    from reviewapp.reviews.models import Review, ReviewState

    org, cycle = launched.org, launched.cycle
    db.session.execute(sa.update(Review).where(Review.cycle_id == cycle.id).values(
        state=ReviewState.MANAGER_REVIEW, self_skipped=True))
    db.session.commit()
    monkeypatch.setattr(dashboard, "TASKS_NAMED", 0)  # count every group, as for 200 reports
    login_as(org.boss)
    body = client.get("/dashboard").get_data(as_text=True)
    link = re.search(r'href="([^"]*reviewer=me[^"]*)"[^>]*>\s*Write 1 reviews', body)
    assert link, body[body.find("To do"):][:800]
    listed = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert 'data-testid="reviewer-me"' in listed
    assert org.boss_rep.name in listed and org.rep.name not in listed
    everyone = client.get(f"/cycles/{cycle.id}?state=manager_review").get_data(as_text=True)
    assert org.boss_rep.name in everyone and org.rep.name in everyone


def test_a_done_step_leaves_no_new_notification_asking_for_it(client, launched, login_as, db):
    """A finalised, acknowledged review still showed 'Your self-assessment ... is open' and
    'Your review has been shared ... acknowledge it' under New for you."""
    from reviewapp.notifications.models import Notification

    org, review = launched.org, launched.review

    def unread(user):
        db.session.expire_all()
        return [n.message for n in db.session.scalars(sa.select(Notification).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)))
            if n.link.startswith(f"/reviews/{review.id}")]

    assert any("self-assessment" in m for m in unread(org.rep))
    submit_self(client, login_as, review)
    assert unread(org.rep) == []
    assert unread(org.lead)  # the manager's turn: "... submitted the self-assessment"
    login_as(org.lead)
    answer = client.post(f"/reviews/{review.id}/manager", data=manager_form(
        fresh(db, review.id), action="submit", reconciliation_note="Two deals slipped."))
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    assert unread(org.lead) == []


def test_the_to_do_list_comes_first_on_the_dashboards(client, launched, login_as, db):
    """The manager's To do sat below the people list and ten notifications: on a phone it
    started some 1,900 px down."""
    org = launched.org
    launched.cycle.self_due = date.today() - timedelta(days=1)
    db.session.commit()
    body = login_as(org.rep).get("/dashboard").get_data(as_text=True)
    assert 'data-testid="notifications"' in body  # "Your self-assessment ... is open"
    assert body.index('data-testid="review-tasks"') < body.index('data-testid="notifications"')
    body = login_as(org.lead).get("/dashboard").get_data(as_text=True)
    assert body.index('data-testid="review-tasks"') < body.index('data-testid="my-people"')
