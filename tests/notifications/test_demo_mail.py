"""The demo's email step: today's reminder digests, and with no mail server every email of the
demo kept in the outbox as written to the log; loading again adds nothing."""

from datetime import date, timedelta

import sqlalchemy as sa

from reviewapp.demo.mail import load_mail
from reviewapp.extensions import db
from reviewapp.notifications.models import MailKind, OutboxMessage, OutboxStatus
from tests.notifications.conftest import make_cycle


def test_demo_leaves_readable_emails_in_the_outbox(org, app, client, login_as):
    app.config["MAIL_SERVER"] = None
    make_cycle(org, self_due=date.today() - timedelta(days=3))
    summary = load_mail(7)
    db.session.commit()
    messages = db.session.scalars(sa.select(OutboxMessage)).all()
    assert {m.status for m in messages} == {OutboxStatus.LOGGED}
    assert sum(m.kind == MailKind.DIGEST for m in messages) == 3  # the three overdue reps
    assert "no mail server configured" in summary["Emails"]
    load_mail(7)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == \
        len(messages)
    login_as(org.hr)
    page = client.get("/mail/outbox").get_data(as_text=True)
    assert "Your self-assessment for 2026 Q3 review is open" in page
