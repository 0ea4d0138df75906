"""Delivering the outbox: SMTP from REVIEWAPP_MAIL_* settings, or the log when no server is
configured. Each message is claimed, sent and marked in a commit of its own, so two delivery
runs never send one message twice and a crash loses nothing. A failure is retried with
back-off (MAIL_RETRY_DELAYS, the last delay repeating); only a recipient the server refuses
for good stops the retries, and HR can retry that one from the outbox page.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import joinedload

from reviewapp.errors import ActionUnavailable
from reviewapp.extensions import db
from reviewapp.notifications.models import OutboxMessage, OutboxStatus
from reviewapp.notifications.outbox import written

log = logging.getLogger("reviewapp.mail")
log.setLevel(logging.INFO)
BATCH = 200
# A claim older than this belongs to a run that died: the message is due again.
STALE_CLAIM = timedelta(minutes=15)


@dataclass
class DeliveryReport:
    sent: int = 0
    logged: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        logged = f", {self.logged} written to the log (no mail server)" if self.logged else ""
        return f"{self.sent} sent{logged}, {self.retrying} to retry, {self.failed} failed"


def failing_counts() -> tuple[int, int]:
    """(emails waiting for a retry after a failed attempt, emails failed for good)."""
    waiting = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts > 0)) or 0
    failed = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.FAILED)) or 0
    return waiting, failed


class PermanentFailure(Exception):
    """The server refused the recipient for good (a 5xx reply to RCPT TO)."""


def now() -> datetime:
    return datetime.now(UTC)


def build(message: OutboxMessage) -> EmailMessage:
    """The MIME message: plain text with an HTML alternative, and a one-click unsubscribe."""
    config = current_app.config
    sender_name, sender = parseaddr(config["MAIL_FROM"])
    email = EmailMessage()
    email["From"] = formataddr((sender_name, sender))
    email["To"] = formataddr((message.user.name if message.user else "", message.to_address))
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at.astimezone(UTC)
                                    if message.created_at.tzinfo else
                                    message.created_at.replace(tzinfo=UTC))
    if not message.message_id:
        message.message_id = make_msgid(idstring=f"outbox{message.id}",
                                        domain=sender.rpartition("@")[2] or "localhost")
    email["Message-ID"] = message.message_id
    email["Auto-Submitted"] = "auto-generated"
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    return email


class SmtpTransport:
    """One SMTP connection, opened on the first message of a run."""

    def __init__(self, config) -> None:
        self.config = config
        self.conn: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        c = self.config
        host, port, timeout = c["MAIL_SERVER"], int(c["MAIL_PORT"]), float(c["MAIL_TIMEOUT"])
        if c.get("MAIL_USE_SSL"):
            conn = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                    context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(host, port, timeout=timeout)
            if c.get("MAIL_USE_TLS"):
                conn.starttls(context=ssl.create_default_context())
        if c.get("MAIL_USERNAME"):
            conn.login(c["MAIL_USERNAME"], c.get("MAIL_PASSWORD") or "")
        return conn

    def send(self, email: EmailMessage) -> None:
        if self.conn is None:
            self.conn = self._open()
        try:
            self.conn.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(_describe(exc)) from exc
            raise
        except smtplib.SMTPServerDisconnected:
            self.conn = None
            raise

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self.conn = None


class LogTransport:
    """No server configured: the email goes to the log; the outbox page shows all of it."""

    def send(self, email: EmailMessage) -> None:
        log.info("Email not sent (no REVIEWAPP_MAIL_SERVER configured) to %s: %s",
                 email["To"], email["Subject"])
        log.debug("%s", email.get_body(("plain",)).get_content())

    def close(self) -> None:
        pass


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{addr}: {code} {reply.decode(errors='replace')}"
                         for addr, (code, reply) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        return f"{exc.smtp_code} {reply}"
    return f"{type(exc).__name__}: {exc}"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the given number of failed attempts."""
    delays = current_app.config["MAIL_RETRY_DELAYS"]
    return timedelta(seconds=delays[min(attempts, len(delays)) - 1])


def _due_ids(at: datetime, ignore_backoff: bool) -> list[int]:
    due = OutboxMessage.status == OutboxStatus.PENDING
    if not ignore_backoff:
        due = sa.and_(due, OutboxMessage.next_attempt_at <= at)
    stale = sa.and_(OutboxMessage.status == OutboxStatus.SENDING,
                    OutboxMessage.claimed_at < at - STALE_CLAIM)
    return list(db.session.scalars(sa.select(OutboxMessage.id).where(sa.or_(due, stale))
                                   .order_by(OutboxMessage.id).limit(BATCH)))


def _claimable(at: datetime):
    return sa.or_(OutboxMessage.status == OutboxStatus.PENDING,
                  sa.and_(OutboxMessage.status == OutboxStatus.SENDING,
                          OutboxMessage.claimed_at < at - STALE_CLAIM))


def _claim_many(message_ids: list[int], at: datetime) -> list[int]:
    """Take these messages for this run in one statement; returns the ids it got (another
    run may have taken some first)."""
    rows = db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id.in_(message_ids), _claimable(at))
        .values(status=OutboxStatus.SENDING, claimed_at=at).returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)).scalars().all()
    db.session.commit()
    return sorted(rows)


def _claim(message_id: int, at: datetime) -> OutboxMessage | None:
    """Take one message for this run; None when another run took it first."""
    if not _claim_many([message_id], at):
        return None
    return db.session.get(OutboxMessage, message_id)


def deliver_due(*, ignore_backoff: bool = False) -> DeliveryReport:
    """Deliver every message that is due (one commit per message); returns what happened."""
    report = DeliveryReport()
    configured = bool(current_app.config.get("MAIL_SERVER"))
    transport = SmtpTransport(current_app.config) if configured else LogTransport()
    try:
        while True:
            ids = _due_ids(now(), ignore_backoff)
            if not ids:
                break
            claimed = _claim_many(ids, now())
            messages = db.session.scalars(sa.select(OutboxMessage).where(
                OutboxMessage.id.in_(claimed)).options(joinedload(OutboxMessage.user))
                .order_by(OutboxMessage.id)).all()
            for message in messages:
                _deliver_one(transport, message, configured, report)
            if not claimed or ignore_backoff:
                break
    finally:
        transport.close()
    return report


def _deliver_one(transport, message: OutboxMessage, configured: bool,
                 report: DeliveryReport) -> None:
    at = now()
    try:
        transport.send(build(message))
    except PermanentFailure as exc:
        message.status, message.last_error = OutboxStatus.FAILED, str(exc)
        message.attempts += 1
        report.failed += 1
        report.errors.append(f"#{message.id}: {exc}")
    except (smtplib.SMTPException, OSError) as exc:
        message.attempts += 1
        message.status, message.last_error = OutboxStatus.PENDING, _describe(exc)
        message.next_attempt_at = at + retry_delay(message.attempts)
        report.retrying += 1
        report.errors.append(f"#{message.id}: {message.last_error}")
        if isinstance(transport, SmtpTransport):
            transport.close()  # a broken connection is not reused
    else:
        message.status = OutboxStatus.SENT if configured else OutboxStatus.LOGGED
        message.sent_at, message.last_error = at, ""
        message.attempts += 1
        if configured:
            report.sent += 1
        else:
            report.logged += 1
    message.claimed_at = None
    db.session.commit()


def retry(message: OutboxMessage) -> None:
    """Put a failed or waiting message back in line now (flush; the caller commits)."""
    if message.status not in (OutboxStatus.FAILED, OutboxStatus.PENDING):
        raise ActionUnavailable(f"Message #{message.id} is {message.status.label.lower()}; "
                                "only a failed or waiting message can be retried.")
    message.status, message.next_attempt_at = OutboxStatus.PENDING, now()
    db.session.flush()
    written()


def retry_all_failing() -> int:
    """Put every failed message and every message waiting after a failure back in line now."""
    result = db.session.execute(
        sa.update(OutboxMessage).where(sa.or_(
            OutboxMessage.status == OutboxStatus.FAILED,
            sa.and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts > 0)))
        .values(status=OutboxStatus.PENDING, next_attempt_at=now())
        .execution_options(synchronize_session=False))
    if result.rowcount:
        written()
    return result.rowcount or 0


_APP = None


def deliver_job() -> str:
    """The background job (RQ imports it by name): deliver what is due in a fresh app context."""
    global _APP
    if has_app_context():
        app = current_app._get_current_object()
    else:  # a plain worker process: an app from the environment, made once
        if _APP is None:
            from reviewapp import create_app

            _APP = create_app()
        app = _APP
    with app.app_context():
        return str(deliver_due())
