"""Route × role expectations for the email pages (see tests/test_route_matrix.py): the outbox,
reminders and a cycle's required emails are HR's; everyone has their own preferences page; an
unsubscribe link works for anyone who holds it, logged in or not, and a forged one for nobody.
Records are made lazily by the URL functions."""

from reviewapp.extensions import db
from reviewapp.notifications.models import MailKind, OutboxStatus
from reviewapp.notifications.outbox import Email, enqueue
from reviewapp.notifications.preferences import unsubscribe_token
from tests.reviews.cycle_routes import _launched_id
from tests.test_route_matrix import LOGIN, Case

HR_PAGE = {"anon": LOGIN, "*": 403, "hr": 200}
HR_POST = {"anon": LOGIN, "*": 403, "hr": 302}
HR_NOT_FOUND = {"anon": LOGIN, "*": 403, "hr": 404}


def _message_id(org, status: OutboxStatus = OutboxStatus.PENDING) -> int:
    message = enqueue(org.rep, MailKind.GOAL_RETURNED,
                      Email(subject="Your goal proposal was returned: Matrix goal",
                            what="Returned.", link="http://127.0.0.1:5000/goals/1",
                            action="Edit the goal"))
    message.status = status
    db.session.commit()
    return message.id


ROUTES = {
    "notifications.outbox": [
        Case("GET", lambda o: "/mail/outbox", HR_PAGE),
        Case("GET", lambda o: "/mail/outbox?show=failing&kind=digest&q=rita&page=2", HR_PAGE),
    ],
    "notifications.outbox_message": [
        Case("GET", lambda o: f"/mail/outbox/{_message_id(o)}", HR_PAGE),
        Case("GET", lambda o: "/mail/outbox/999999", HR_NOT_FOUND),
    ],
    "notifications.outbox_retry": [
        Case("POST", lambda o: f"/mail/outbox/{_message_id(o, OutboxStatus.FAILED)}/retry",
             HR_POST)],
    "notifications.outbox_retry_all": [Case("POST", lambda o: "/mail/outbox/retry", HR_POST)],
    "notifications.preferences": [
        Case("GET", lambda o: "/account/notifications", {"anon": LOGIN, "*": 200}),
        Case("POST", lambda o: "/account/notifications", {"anon": LOGIN, "*": 302},
             data={"deadline_reminder": "off"}),
    ],
    "notifications.unsubscribe": [
        Case("GET", lambda o: f"/mail/unsubscribe/{unsubscribe_token(o.rep, 'review_shared')}",
             {"*": 200}),
        Case("GET", lambda o: "/mail/unsubscribe/forged", {"*": 400}),
        Case("POST", lambda o: f"/mail/unsubscribe/{unsubscribe_token(o.rep, 'review_shared')}",
             {"*": 200}),
        Case("POST", lambda o: "/mail/unsubscribe/forged", {"*": 400}),
    ],
    "notifications.remind_person": [
        Case("POST", lambda o: f"/cycles/{_launched_id(o)}/remind/{o.rep.id}", HR_POST)],
    "notifications.remind_overdue": [
        Case("POST", lambda o: f"/cycles/{_launched_id(o)}/remind-overdue", HR_POST)],
    "notifications.cycle_emails": [
        Case("GET", lambda o: f"/cycles/{_launched_id(o)}/emails", HR_PAGE),
        Case("POST", lambda o: f"/cycles/{_launched_id(o)}/emails", HR_POST,
             data={"required": "review_shared"}),
    ],
}
