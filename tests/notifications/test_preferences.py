"""Preferences per kind on the person's account page, unsubscribe links that work without
logging in (signed, for one person and one kind, and good for nothing else), and the goal
emails."""

from __future__ import annotations

import sqlalchemy as sa

from reviewapp.audit.models import AuditEvent
from reviewapp.extensions import db
from reviewapp.goals.services import GoalDraft, create_goal, return_goal, update_goal
from reviewapp.notifications import preferences
from reviewapp.notifications.models import DeliveryMode, MailKind, MailPreference
from tests.notifications.conftest import make_cycle
from tests.notifications.flow import outbox, review_of, shared


def test_the_profile_links_to_the_preferences_page(org, client, login_as):
    login_as(org.rep)
    page = client.get(f"/people/{org.rep.id}").get_data(as_text=True)
    assert "/account/notifications" in page
    prefs = client.get("/account/notifications").get_data(as_text=True)
    assert MailKind.REVIEW_SHARED.label in prefs
    assert MailKind.GOAL_PROPOSAL_WAITING.label not in prefs  # a manager's kind


def test_preferences_are_saved_per_kind_and_audited(org, client, login_as):
    login_as(org.lead)
    response = client.post("/account/notifications", data={"self_submitted": "digest",
                                                          "calibration_open": "off"})
    assert response.status_code == 302
    modes = preferences.modes_of(org.lead)
    assert modes[MailKind.SELF_SUBMITTED] == DeliveryMode.DIGEST
    assert modes[MailKind.CALIBRATION_OPEN] == DeliveryMode.OFF
    assert modes[MailKind.REVIEW_RETURNED] == DeliveryMode.IMMEDIATE
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "mail.preferences"))
    assert event.after == {"self_submitted": "digest", "calibration_open": "off"}


def test_a_bad_choice_is_refused_and_changes_nothing(org, client, login_as):
    login_as(org.rep)
    response = client.post("/account/notifications", data={"review_shared": "off",
                                                          "deadline_reminder": "immediate"})
    assert response.status_code == 400
    assert "cannot be right away" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MailPreference)) == 0
    response = client.post("/account/notifications", data={"review_shared": "sometimes"})
    assert response.status_code == 400


def test_a_required_kind_still_arrives_when_turned_off(org, smtp, runner, client, login_as):
    login_as(org.rep)
    client.post("/account/notifications", data={"review_shared": "off",
                                                "self_assessment_open": "off"})
    make_cycle(org)  # requires "review shared" by default; the self-assessment email is off
    assert [m.kind for m in outbox() if m.user_id == org.rep.id] == []
    shared(review_of(org.rep), org.hr)
    runner.invoke(args=["mail", "deliver"])
    [mail] = smtp.to(org.rep.email)
    assert "please read and acknowledge it" in mail.subject


def test_unsubscribe_link_works_without_logging_in(org, smtp, runner, client):
    make_cycle(org)
    runner.invoke(args=["mail", "deliver"])
    [mail] = smtp.to(org.rep.email)
    url = mail.message["List-Unsubscribe"].strip("<>")
    path = url.removeprefix("https://reviews.example.test")
    page = client.get(path)
    assert page.status_code == 200
    assert MailKind.SELF_ASSESSMENT_OPEN.label in page.get_data(as_text=True)
    assert preferences.modes_of(org.rep)[MailKind.SELF_ASSESSMENT_OPEN] == \
        DeliveryMode.IMMEDIATE  # a GET changes nothing (mail scanners follow links)
    # The one-click POST of RFC 8058, as a mail client sends it: no session, no CSRF token.
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    modes = preferences.modes_of(org.rep)
    assert modes[MailKind.SELF_ASSESSMENT_OPEN] == DeliveryMode.OFF
    assert modes[MailKind.REVIEW_SHARED] == DeliveryMode.IMMEDIATE  # that kind only
    assert db.session.scalar(sa.select(AuditEvent.action).where(
        AuditEvent.entity_id == org.rep.id, AuditEvent.action == "mail.unsubscribe"))


def test_unsubscribe_tokens_are_single_purpose(org, client, app):
    from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

    from reviewapp.auth.services import make_set_password_token

    forged = URLSafeSerializer("another-key", salt="mail-unsubscribe").dumps(
        {"u": org.rep.id, "k": "review_shared"})
    assert client.post(f"/mail/unsubscribe/{forged}").status_code == 400
    # A set-password token (same key, another purpose) is no unsubscribe token, and back.
    assert client.get(f"/mail/unsubscribe/{make_set_password_token(org.rep)}").status_code \
        == 400
    token = preferences.unsubscribe_token(org.rep, MailKind.REVIEW_SHARED)
    assert client.get(f"/auth/set-password/{token}").status_code == 400
    other_salt = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="set-password")
    assert client.get(f"/mail/unsubscribe/{other_salt.dumps({'u': org.rep.id})}").status_code \
        == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MailPreference)) == 0


def test_the_digest_link_unsubscribes_from_everything_that_can_be_turned_off(org, client):
    token = preferences.unsubscribe_token(org.lead, preferences.ALL_KINDS)
    client.post(f"/mail/unsubscribe/{token}")
    modes = preferences.modes_of(org.lead)
    assert all(modes[k] == DeliveryMode.OFF for k in preferences.AUDIENCE[org.lead.role])


def _proposal(org):
    draft = GoalDraft(scope="individual", title="Run two customer workshops", kind="checklist",
                      owner_id=org.rep.id, quarter="2026-Q3", milestones="First workshop")
    goal, _ = create_goal(org.rep, draft)
    db.session.commit()
    return goal, draft


def test_a_goal_proposal_reaches_the_manager_and_its_return_the_rep(org, smtp, runner):
    goal, draft = _proposal(org)
    runner.invoke(args=["mail", "deliver"])
    [mail] = smtp.to(org.lead.email)
    assert mail.subject == "Rita Rep proposes a goal: Run two customer workshops"
    assert f"/goals/{goal.id}" in mail.text
    assert smtp.to(org.boss.email) == []  # the direct manager decides
    return_goal(org.lead, goal, "Make the second workshop a named customer.")
    db.session.commit()
    runner.invoke(args=["mail", "deliver"])
    [back] = smtp.to(org.rep.email)
    assert back.subject == "Your goal proposal was returned: Run two customer workshops"
    assert "Make the second workshop a named customer." in back.text
    update_goal(org.rep, goal, draft)  # sent back for approval
    db.session.commit()
    runner.invoke(args=["mail", "deliver"])
    assert len(smtp.to(org.lead.email)) == 2


def test_the_calibration_email_goes_to_each_person_once_per_cycle(org, smtp, runner):
    from tests.notifications.flow import manager_done, self_done

    make_cycle(org)
    for rep in (org.rep, org.rep2):
        review = review_of(rep)
        self_done(review)
        manager_done(review)
    runner.invoke(args=["mail", "deliver"])
    subject = "Calibration of 2026 Q3 review is open"
    assert [m.subject for m in smtp.to(org.hr.email)] == [subject]
    assert [m.subject for m in smtp.to(org.lead.email)].count(subject) == 1
    hr_mail = smtp.to(org.hr.email)[0]
    assert "Rita" not in hr_mail.text and "Ravi" not in hr_mail.text
    from reviewapp.notifications.models import Notification

    for person in (org.hr, org.lead):  # and once in the in-app list
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
            Notification.user_id == person.id,
            Notification.message.like("Calibration of%"))) == 1


def test_a_cycle_can_require_only_its_own_kinds_of_email(org, client, login_as):
    from reviewapp.notifications.models import CycleMailRule

    cycle = make_cycle(org)
    login_as(org.hr)
    page = client.get(f"/cycles/{cycle.id}/emails").get_data(as_text=True)
    assert 'value="review_shared" checked' in page  # the default
    for bad in (["goal_returned"], ["nonsense"]):
        response = client.post(f"/cycles/{cycle.id}/emails", data={"required": bad})
        assert response.status_code == 400
        assert db.session.get(CycleMailRule, cycle.id) is None
    response = client.post(f"/cycles/{cycle.id}/emails", data={})
    assert response.status_code == 302
    assert preferences.required_kinds(cycle.id) == []  # HR may require nothing at all
    login_as(org.lead)
    assert client.post(f"/cycles/{cycle.id}/emails",
                       data={"required": ["review_shared"]}).status_code == 403
