"""`flask reminders send`: one digest per person, 7 days and 1 day before each deadline they own
and once overdue, each reminder once however often it runs; HR's reminders from the cycle
page, once a day per person and audited."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from reviewapp.audit.models import AuditEvent
from reviewapp.extensions import db
from reviewapp.notifications.models import MailKind, Notification, OutboxStatus, ReminderSent
from tests.notifications.conftest import make_cycle
from tests.notifications.flow import outbox, review_of, self_done


def remind_run(runner, day: date):
    result = runner.invoke(args=["reminders", "send", "--today", day.isoformat()])
    assert result.exit_code == 0, result.output
    return result


def digests_to(smtp, user):
    return [m for m in smtp.to(user.email) if m.subject.startswith("ReviewApp:")]


def test_a_reminder_run_twice_sends_once(org, smtp, runner):
    today = date.today()
    cycle = make_cycle(org, self_due=today + timedelta(days=7))
    runner.invoke(args=["mail", "deliver"])  # the launch emails
    launch_mails = len(smtp.received)
    first = remind_run(runner, today)
    assert "3 digests written: 3 reminders" in first.output
    second = remind_run(runner, today)
    assert "0 digests written" in second.output
    assert len(smtp.received) == launch_mails + 3
    [mail] = digests_to(smtp, org.rep)
    assert mail.subject == "ReviewApp: 1 thing for you"
    assert f"Write your self-assessment ({cycle.name})" in mail.text
    assert "due in 7 days" in mail.text
    assert f"/reviews/{review_of(org.rep).id}" in mail.text
    # A day later: still the week's reminder already given; nothing new.
    assert "0 digests" in remind_run(runner, today + timedelta(days=1)).output
    # The day before: the 1-day reminder, once.
    assert "3 digests" in remind_run(runner, today + timedelta(days=6)).output
    assert "0 digests" in remind_run(runner, today + timedelta(days=6)).output
    # Overdue: once.
    assert "3 digests" in remind_run(runner, today + timedelta(days=8)).output
    assert "0 digests" in remind_run(runner, today + timedelta(days=9)).output
    rita = digests_to(smtp, org.rep)
    assert len(rita) == 3
    assert "overdue" in rita[-1].subject and "overdue since" in rita[-1].text


def test_each_owner_is_reminded_of_their_own_step(org, smtp, runner):
    today = date.today()
    cycle = make_cycle(org, self_due=today - timedelta(days=1))  # self-assessment overdue
    self_done(review_of(org.rep))  # Rita's review waits for Leo, due in 6 days
    remind_run(runner, today)
    [leo] = digests_to(smtp, org.lead)
    assert f"Review Rita Rep ({cycle.name})" in leo.text and "due in 6 days" in leo.text
    assert "Ravi" not in leo.text  # Ravi's self-assessment is Ravi's to write
    [ravi] = digests_to(smtp, org.rep2)
    assert "overdue since" in ravi.text and "Rita" not in ravi.text
    assert digests_to(smtp, org.rep) == []  # Rita has nothing due
    assert digests_to(smtp, org.outsider) == []


def test_a_past_first_stage_is_not_sent_late(org, smtp, runner):
    """A run that first happens the day before the deadline gives the 1-day reminder only."""
    today = date.today()
    make_cycle(org, self_due=today + timedelta(days=1))
    remind_run(runner, today)
    remind_run(runner, today)
    stages = db.session.scalars(sa.select(ReminderSent.stage).where(
        ReminderSent.user_id == org.rep.id)).all()
    assert stages == ["day"]


def test_hr_reminds_one_person_once_a_day_audited(org, smtp, runner, client, login_as):
    today = date.today()
    cycle = make_cycle(org, self_due=today - timedelta(days=2))
    login_as(org.hr)
    page = client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert f"/cycles/{cycle.id}/remind/{org.rep.id}" in page
    assert f"/cycles/{cycle.id}/remind-overdue" in page
    response = client.post(f"/cycles/{cycle.id}/remind/{org.rep.id}", follow_redirects=True)
    assert "Reminded by email: Rita Rep." in response.get_data(as_text=True)
    runner.invoke(args=["mail", "deliver"])
    [mail] = [m for m in smtp.to(org.rep.email) if m.subject.startswith("Reminder from HR")]
    assert "overdue since" in mail.text and "Ravi" not in mail.text
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "reminder.send"))
    assert event.actor_id == org.hr.id and event.entity_id == org.rep.id
    assert db.session.scalar(sa.select(Notification.message).where(
        Notification.user_id == org.rep.id, Notification.message.like("HR reminds%")))
    again = client.post(f"/cycles/{cycle.id}/remind/{org.rep.id}", follow_redirects=True)
    assert "Already reminded today, not again: Rita Rep." in again.get_data(as_text=True)
    runner.invoke(args=["mail", "deliver"])
    assert len([m for m in smtp.to(org.rep.email)
                if m.subject.startswith("Reminder from HR")]) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "reminder.send")) == 1


def test_hr_reminds_everyone_overdue(org, smtp, runner, client, login_as):
    today = date.today()
    cycle = make_cycle(org, self_due=today - timedelta(days=2))
    self_done(review_of(org.rep))  # Rita's review is with Leo, not overdue
    login_as(org.hr)
    response = client.post(f"/cycles/{cycle.id}/remind-overdue", follow_redirects=True)
    text = response.get_data(as_text=True)
    [line] = [x for x in text.splitlines() if "Reminded by email: " in x]
    assert "Ravi Rep" in line and "Bob Direct" in line
    assert "Leo Lead" not in line and "Rita Rep" not in line
    runner.invoke(args=["mail", "deliver"])
    hr_mails = [m for m in smtp.received if m.subject.startswith("Reminder from HR")]
    assert sorted(m.to for m in hr_mails) == sorted([org.rep2.email, org.boss_rep.email])
    again = client.post(f"/cycles/{cycle.id}/remind-overdue", follow_redirects=True)
    assert "Already reminded today" in again.get_data(as_text=True)


def test_reminding_someone_with_nothing_open_is_refused(org, smtp, client, login_as):
    cycle = make_cycle(org)
    login_as(org.hr)
    response = client.post(f"/cycles/{cycle.id}/remind/{org.outsider.id}",
                           follow_redirects=True)
    assert "has nothing open in" in response.get_data(as_text=True)
    assert not db.session.scalar(sa.select(ReminderSent.id))
    response = client.post(f"/cycles/{cycle.id}/remind-overdue", follow_redirects=True)
    assert "Nobody is overdue" in response.get_data(as_text=True)
    response = client.post(f"/cycles/{cycle.id}/remind/{org.hr.id}", follow_redirects=True)
    assert "You cannot remind yourself." in response.get_data(as_text=True)


def test_digest_carries_the_emails_held_for_it(org, smtp, runner, client, login_as):
    login_as(org.rep)
    response = client.post("/account/notifications",
                           data={"self_assessment_open": "digest", "review_shared": "immediate",
                                 "goal_returned": "off", "deadline_reminder": "digest"})
    assert response.status_code == 302
    make_cycle(org)  # self_due in 7 days
    held = [m for m in outbox() if m.user_id == org.rep.id]
    assert [m.status for m in held] == [OutboxStatus.HELD]
    runner.invoke(args=["mail", "deliver"])
    assert smtp.to(org.rep.email) == []
    remind_run(runner, date.today())
    [digest] = smtp.to(org.rep.email)
    assert "Your self-assessment for 2026 Q3 review is open" in digest.text
    assert "Write your self-assessment" in digest.text
    assert digest.subject == "ReviewApp: 2 things for you"
    assert [m.status for m in outbox() if m.id == held[0].id] == [OutboxStatus.DIGESTED]
    remind_run(runner, date.today())
    assert len(smtp.to(org.rep.email)) == 1


def test_reminders_off_means_none_unless_the_cycle_requires_them(org, smtp, runner, client,
                                                                 login_as):
    login_as(org.rep)
    client.post("/account/notifications", data={"deadline_reminder": "off",
                                                "self_assessment_open": "off"})
    cycle = make_cycle(org)
    remind_run(runner, date.today())
    assert smtp.to(org.rep.email) == []
    assert smtp.to(org.rep2.email)  # Ravi keeps the defaults
    login_as(org.hr)
    response = client.post(f"/cycles/{cycle.id}/emails",
                           data={"required": ["deadline_reminder", "review_shared"]})
    assert response.status_code == 302
    remind_run(runner, date.today() + timedelta(days=6))
    [mail] = smtp.to(org.rep.email)
    assert "due tomorrow" in mail.text
    assert MailKind.DEADLINE_REMINDER.value in db.session.scalar(
        sa.select(AuditEvent.after).where(AuditEvent.action == "cycle.required_mail"))["required"]


def test_reminding_a_crowd_names_a_few_and_counts_the_rest(org, smtp, client, login_as):
    """Remind everyone overdue flashed one sentence naming all 322 reps."""
    from reviewapp.auth.models import Role
    from tests.factories import create_user

    for i in range(12):
        create_user(Role.REP, name=f"Late Rep {i:02d}", manager=org.lead, team=org.team)
    cycle = make_cycle(org, self_due=date.today() - timedelta(days=2))
    login_as(org.hr)
    text = client.post(f"/cycles/{cycle.id}/remind-overdue",
                       follow_redirects=True).get_data(as_text=True)
    [line] = [x for x in text.splitlines() if "Reminded by email: " in x]
    assert "and 5 more (15 people)" in line and line.count("Late Rep") < 12
