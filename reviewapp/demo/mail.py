"""Demo email: the reminders the demo's deadlines call for today (one digest per person), and,
with no mail server configured, every email of the demo marked as written to the log, so that
HR can read them all on the outbox page (Outbox in the menu) straight after `flask demo load`.
Loading twice adds nothing: each reminder is given once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import current_app

from reviewapp.extensions import db
from reviewapp.notifications.delivery import log
from reviewapp.notifications.models import OutboxMessage, OutboxStatus
from reviewapp.notifications.outbox import delivered_in_transaction
from reviewapp.notifications.reminders import send_digests


def load_mail(seed: int, today: date | None = None) -> dict:
    """Write today's reminder digests; without a server, log the demo's emails right away."""
    run = send_digests(today)
    if not current_app.config.get("MAIL_SERVER"):
        pending = list(db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.PENDING)))
        at = datetime.now(UTC)
        for message in pending:
            message.status, message.sent_at, message.attempts = OutboxStatus.LOGGED, at, 1
        if pending:
            log.info("Demo: %d emails written to the outbox and not sent (no "
                     "REVIEWAPP_MAIL_SERVER configured); HR reads them under Outbox.",
                     len(pending))
        delivered_in_transaction(db.session)  # nothing is left for a delivery run
        db.session.flush()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) or 0
    return {"Emails": f"{total} in HR's outbox, {run.emails} reminder digests today"
            + ("" if current_app.config.get("MAIL_SERVER")
               else " (no mail server configured: written to the log, not sent)")}
