"""Email through a real SMTP server on loopback: what arrives, for whom, with which link; the
outbox written with the change and delivered only after its commit; a failing server loses
nothing and delivery resumes when it comes back."""

from __future__ import annotations

import logging
from datetime import UTC, date, timedelta

import pytest
import sqlalchemy as sa

from reviewapp.auth.models import Role, User
from reviewapp.extensions import db
from reviewapp.notifications import delivery
from reviewapp.notifications.models import MailKind, Notification, OutboxMessage, OutboxStatus
from tests.notifications.conftest import make_cycle
from tests.notifications.flow import outbox, review_of, self_done, shared


def aware(moment):
    """SQLite gives back naive UTC datetimes; PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def deliver(runner, *args):
    result = runner.invoke(args=["mail", "deliver", *args])
    return result


def test_launch_emails_each_rep_their_own_review(org, smtp, runner):
    cycle = make_cycle(org)
    assert [m.status for m in outbox()] == [OutboxStatus.PENDING] * 3
    assert smtp.received == []  # written with the launch; nothing sent before delivery runs
    result = deliver(runner)
    assert result.exit_code == 0, result.output
    assert "3 sent" in result.output
    for rep in (org.rep, org.rep2, org.boss_rep):
        [mail] = smtp.to(rep.email)
        review = review_of(rep)
        assert mail.subject == f"Your self-assessment for {cycle.name} is open"
        assert mail.message["From"] == "ReviewApp <reviews@example.test>"
        link = f"https://reviews.example.test/reviews/{review.id}"
        assert link in mail.text and f'href="{link}"' in mail.html
        assert cycle.self_due.strftime("%-d %b %Y") in mail.text
        assert rep.name in mail.text
        others = {org.rep.name, org.rep2.name, org.boss_rep.name, org.outsider.name} - {rep.name}
        assert not any(name in mail.text or name in mail.html for name in others)
        assert mail.message["List-Unsubscribe"].startswith(
            "<https://reviews.example.test/mail/unsubscribe/")
        assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "<img" not in mail.html and "style=" not in mail.html
    assert {m.status for m in outbox()} == {OutboxStatus.SENT}
    # The in-app notification list is always there too.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == org.rep.id)) == 1
    again = deliver(runner)
    assert "0 sent" in again.output and len(smtp.received) == 3


def test_manager_hears_of_the_submitted_self_assessment(org, smtp, runner):
    make_cycle(org)
    review = review_of(org.rep)
    self_done(review)
    deliver(runner)
    [mail] = smtp.to(org.lead.email)
    assert mail.subject == "Rita Rep submitted the self-assessment: your review is next"
    assert f"/reviews/{review.id}" in mail.text
    assert smtp.to(org.boss.email) == []  # Bob's self-assessment is not in


def test_a_rep_never_receives_an_email_about_another_rep(org, smtp, runner):
    """Every event of the workflow, then the reminders: each email a rep receives names no
    other person of the organisation who is a rep."""
    cycle = make_cycle(org, self_due=date.today() + timedelta(days=1))
    shared(review_of(org.rep), org.hr)
    self_done(review_of(org.rep2))
    from reviewapp.reviews import decisions

    decisions.request_conversation(org.rep, review_of(org.rep), "About the forecast note")
    db.session.commit()
    runner.invoke(args=["reminders", "send", "--no-deliver"])
    deliver(runner)
    reps = db.session.scalars(sa.select(User).where(User.role == Role.REP)).all()
    assert len(smtp.received) >= 8
    for mail in smtp.received:
        recipient = db.session.scalar(sa.select(User).where(User.email == mail.to))
        if recipient.role != Role.REP:
            continue
        for other in reps:
            if other.id != recipient.id:
                assert other.name not in mail.text and other.email not in mail.text, \
                    (mail.subject, other.name)
                assert other.name not in mail.html and other.email not in mail.html
    assert any(cycle.name in m.subject for m in smtp.to(org.rep.email))


def test_nothing_is_written_when_the_change_is_refused(org, smtp, client, login_as):
    make_cycle(org)
    review = review_of(org.rep)
    before = len(outbox())
    login_as(org.rep)
    # Submitting an empty self-assessment is refused: no transition, so no email either.
    response = client.post(f"/reviews/{review.id}/self", data={"action": "submit",
                                                               "confirm": "1",
                                                               "version": review.version})
    assert response.status_code in (200, 400, 422)
    assert len(outbox()) == before


def test_inline_delivery_runs_after_the_request_commits(org, smtp, client, login_as, app):
    app.config["MAIL_DELIVERY"] = "inline"
    make_cycle(org)  # committed: delivered at once
    assert len(smtp.received) == 3
    review = review_of(org.rep)
    self_done(review)
    from tests.notifications.flow import manager_done

    manager_done(review)
    before = len(smtp.received)
    login_as(org.hr)
    response = client.post(f"/reviews/{review.id}/share", data={"confirm": "1"})
    assert response.status_code == 302
    [mail] = [m for m in smtp.received[before:] if m.to == org.rep.email]
    assert "please read and acknowledge it" in mail.subject


def test_outbox_survives_a_failing_server_and_delivers_when_it_returns(org, smtp, runner, app,
                                                                       client, login_as):
    smtp.stop()  # the server is down
    make_cycle(org)
    result = deliver(runner)
    assert result.exit_code == 1 and "3 to retry" in result.output
    messages = outbox()
    assert {m.status for m in messages} == {OutboxStatus.PENDING}
    assert all(m.attempts == 1 and m.last_error for m in messages)
    first_retry = aware(messages[0].next_attempt_at)
    assert first_retry > delivery.now() + timedelta(seconds=30)
    # Back-off: running again straight away does not try them, but still exits 1 (it said
    # "0 sent, 0 to retry, 0 failed" and exited 0, which cron's check read as all well).
    between = deliver(runner)
    assert all(m.attempts == 1 for m in outbox())
    assert between.exit_code == 1 and "3 waiting to be retried" in between.output
    assert "no mail server" not in between.output
    # HR sees the failures on the outbox page.
    login_as(org.hr)
    page = client.get("/mail/outbox?show=failing")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert body.count("Retrying") == 3 and "ConnectionRefusedError" in body
    # Still down, forced: the second failure waits longer.
    deliver(runner, "--now")
    second = outbox()[0]
    assert second.attempts == 2
    assert aware(second.next_attempt_at) - delivery.now() > timedelta(seconds=250)
    # The server is back: the messages go out, once each.
    smtp.start()
    result = deliver(runner, "--now")
    assert result.exit_code == 0 and "3 sent" in result.output
    assert len(smtp.received) == 3
    assert {m.status for m in outbox()} == {OutboxStatus.SENT}
    assert all(m.last_error == "" for m in outbox())


def test_temporary_refusal_is_retried_and_a_permanent_one_waits_for_hr(org, smtp, runner,
                                                                       client, login_as):
    smtp.handler.reply = "451 4.3.0 Try again later"
    make_cycle(org)
    deliver(runner)
    assert {(m.status, m.attempts) for m in outbox()} == {(OutboxStatus.PENDING, 1)}
    smtp.handler.reply = "550 5.1.1 No such mailbox"
    result = deliver(runner, "--now")
    assert "3 failed" in result.output
    failed = outbox()
    assert {m.status for m in failed} == {OutboxStatus.FAILED}
    assert "550" in failed[0].last_error
    deliver(runner, "--now")  # a failed message is not tried again by itself
    assert all(m.attempts == 2 for m in outbox())
    smtp.handler.reply = None
    login_as(org.hr)
    response = client.post(f"/mail/outbox/{failed[0].id}/retry")
    assert response.status_code == 302
    deliver(runner)
    assert len(smtp.received) == 1 and outbox()[0].status == OutboxStatus.SENT
    response = client.post("/mail/outbox/retry")
    assert response.status_code == 302
    deliver(runner)
    assert len(smtp.received) == 3


def test_a_claimed_message_is_sent_once(org, smtp, app):
    make_cycle(org)
    first = outbox()[0]
    claimed = delivery._claim(first.id, delivery.now())
    assert claimed is not None
    assert delivery._claim(first.id, delivery.now()) is None  # a second run cannot take it
    report = delivery.deliver_due()
    assert report.sent == 2  # the claimed one belongs to the first run
    # A claim abandoned for longer than STALE_CLAIM is due again.
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == first.id).values(
        claimed_at=delivery.now() - delivery.STALE_CLAIM - timedelta(seconds=1)))
    db.session.commit()
    assert delivery.deliver_due().sent == 1
    assert len(smtp.received) == 3


def test_without_a_server_emails_go_to_the_log_and_the_outbox(org, app, runner, caplog,
                                                              client, login_as):
    app.config.update(MAIL_SERVER=None, MAIL_DELIVERY="manual")
    make_cycle(org)
    with caplog.at_level(logging.INFO, logger="reviewapp.mail"):
        result = deliver(runner)
    assert result.exit_code == 0 and "3 written to the log" in result.output
    lines = [r.getMessage() for r in caplog.records if r.name == "reviewapp.mail"]
    assert any("Rita Rep" in line and "self-assessment" in line for line in lines)
    assert {m.status for m in outbox()} == {OutboxStatus.LOGGED}
    login_as(org.hr)
    message = outbox()[0]
    page = client.get(f"/mail/outbox/{message.id}").get_data(as_text=True)
    assert "no mail server configured" in page and message.link in page


def test_the_header_of_an_email_cannot_be_injected(org, smtp, runner):
    from reviewapp.notifications.outbox import Email, enqueue

    email = Email(subject="Hello\r\nBcc: victim@example.test", what="x", link="https://x/",
                  action="Open")
    message = enqueue(org.rep, MailKind.GOAL_RETURNED, email)
    db.session.commit()
    assert "\n" not in message.subject
    deliver(runner)
    [mail] = smtp.received
    assert mail.rcpt_tos == [org.rep.email] and mail.message["Bcc"] is None


@pytest.mark.parametrize("kind", [MailKind.DIGEST])
def test_kinds_have_labels(kind):
    assert kind.label


def test_thread_delivery_starts_after_the_commit(org, smtp, app):
    import threading

    app.config["MAIL_DELIVERY"] = "thread"
    make_cycle(org)
    for thread in threading.enumerate():
        if thread.name == "reviewapp-mail":
            thread.join(timeout=20)
    assert sorted(m.to for m in smtp.received) == sorted(
        [org.rep.email, org.rep2.email, org.boss_rep.email])
    assert {m.status for m in outbox()} == {OutboxStatus.SENT}


def test_with_redis_delivery_is_a_background_job(org, smtp, app):
    """MAIL_DELIVERY=rq: the commit queues one job on the background jobs' RQ queue; a worker
    (as `flask records worker` runs it) delivers."""
    import uuid

    redis = pytest.importorskip("redis")
    from rq import Queue
    from rq.worker import SimpleWorker

    connection = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    queue_name = f"reviewapp-test-{uuid.uuid4().hex[:8]}"
    app.config.update(MAIL_DELIVERY="rq", REDIS_URL="redis://127.0.0.1:6379/0",
                      RECORDS_QUEUE=queue_name)
    queue = Queue(queue_name, connection=connection)
    try:
        make_cycle(org)
        assert smtp.received == [] and queue.count == 1
        SimpleWorker([queue], connection=connection).work(burst=True, with_scheduler=False)
        assert len(smtp.received) == 3
        assert {m.status for m in outbox()} == {OutboxStatus.SENT}
    finally:
        queue.delete(delete_jobs=True)
