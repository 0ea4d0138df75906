"""Writing email: a message is rendered and added to the outbox with the change that causes it
(flush only, never commit). Delivery starts after that transaction commits (see dispatch), so a
change that is rolled back never sends anything, and a message written is never lost.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app, render_template
from sqlalchemy.orm import Session

from reviewapp.auth.models import User
from reviewapp.extensions import db
from reviewapp.notifications import preferences
from reviewapp.notifications.models import (
    DeliveryMode,
    MailKind,
    OutboxMessage,
    OutboxStatus,
)

_PENDING_FLAG = "reviewapp_outbox_written"


def page_path(endpoint: str, **values) -> str:
    """The path of one of our pages, with or without a request."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def absolute(path: str) -> str:
    """A link for an email: BASE_URL and the path (never the host a request named)."""
    return current_app.config["BASE_URL"].rstrip("/") + path


def page_url(endpoint: str, **values) -> str:
    """An absolute link to one of our pages."""
    return absolute(page_path(endpoint, **values))


@dataclass
class Email:
    """What one email says: what happened, for whom, by when, and the one page to open."""

    subject: str
    what: str
    link: str
    action: str  # the link's words: "Open the review"
    facts: list[tuple[str, str]] = field(default_factory=list)  # ("For", "Ana Lima"), ...
    due: date | None = None
    note: str = ""  # a reason or comment someone wrote, quoted

    @property
    def due_text(self) -> str:
        return self.due.strftime("%-d %b %Y") if self.due else ""


def _one_line(text: str, limit: int = 300) -> str:
    """Header-safe: no line breaks (a header injection), and not too long."""
    return re.sub(r"\s+", " ", text).strip()[:limit]


def render(user: User, email: Email, *, unsubscribe_url: str, template: str = "notification",
           items: list | None = None) -> tuple[str, str]:
    """The plain-text and HTML bodies of one email to one person."""
    context = {"user": user, "email": email, "items": items or [],
               "unsubscribe_url": unsubscribe_url,
               "preferences_url": page_url("notifications.preferences"),
               "organisation": current_app.config.get("ORGANISATION_NAME", "ReviewApp")}
    return (render_template(f"email/{template}.txt", **context),
            render_template(f"email/{template}.html", **context))


def enqueue(user: User | None, kind: MailKind, email: Email, *, actor: User | None = None,
            cycle_id: int | None = None, dedupe_key: str | None = None,
            mode: DeliveryMode | None = None) -> OutboxMessage | None:
    """Add one email to the outbox, as the person's preference for its kind says (right away,
    held for the daily digest, or not at all unless the cycle requires it). Nobody is told of
    their own action; an inactive person gets nothing; a dedupe key already used sends nothing."""
    if user is None or not user.active or (actor is not None and actor.id == user.id):
        return None
    if dedupe_key and db.session.scalar(
            sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    mode = mode or preferences.effective_mode(user, kind, cycle_id)
    if mode == DeliveryMode.OFF:
        return None
    unsubscribe = preferences.unsubscribe_url(user, kind)
    text, html = render(user, email, unsubscribe_url=unsubscribe)
    message = OutboxMessage(
        kind=kind, user_id=user.id, to_address=user.email, subject=_one_line(email.subject),
        body_text=text, body_html=html, link=email.link, unsubscribe_url=unsubscribe,
        cycle_id=cycle_id, dedupe_key=dedupe_key,
        status=OutboxStatus.HELD if mode == DeliveryMode.DIGEST else OutboxStatus.PENDING)
    db.session.add(message)
    db.session.flush()
    written()
    return message


def written(session: Session | None = None) -> None:
    """Mark the transaction as one that wrote email: delivery starts once it commits."""
    (session or db.session).info[_PENDING_FLAG] = True


def delivered_in_transaction(session: Session) -> None:
    """The transaction dealt with its emails itself (the demo): no delivery after the commit."""
    session.info.pop(_PENDING_FLAG, None)


# After the commit ----------------------------------------------------------------------------


def _after_commit(session: Session) -> None:
    if not session.info.pop(_PENDING_FLAG, False):
        return
    try:
        app = current_app._get_current_object()
    except RuntimeError:  # no app: `flask mail deliver` will find the messages
        return
    dispatch(app)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_FLAG, None)


def delivery_mode(app) -> str:
    """Where delivery runs: the configured mode, with "auto" worked out."""
    mode = (app.config.get("MAIL_DELIVERY") or "auto").lower()
    if mode != "auto":
        return mode
    if app.config.get("TESTING"):
        return "manual"
    return "rq" if app.config.get("REDIS_URL") else "thread"


def dispatch(app) -> None:
    """Start delivering what is due: the one switch between the ways delivery can run."""
    mode = delivery_mode(app)
    if mode == "manual":
        return
    if mode == "inline":
        _deliver_in_new_context(app)
    elif mode == "rq":
        try:
            _rq_enqueue()
        except Exception:  # Redis away: the messages wait in the outbox; deliver here instead
            app.logger.exception("Could not queue email delivery; delivering in process")
            _DeliveryThread.kick(app)
    else:
        _DeliveryThread.kick(app)


def _rq_enqueue() -> None:
    # The background jobs' queue (the records area's RQ queue on REDIS_URL); its workers run
    # `delivery.deliver_job` like a rendering job. Email is light work: without Redis a thread
    # of this process delivers it, where records use a process pool.
    from reviewapp.records.jobs import rq_queue

    rq_queue().enqueue("reviewapp.notifications.delivery.deliver_job", job_timeout=300,
                       result_ttl=3600, failure_ttl=7 * 24 * 3600,
                       description="deliver the email outbox")


def _deliver_in_new_context(app) -> None:
    # A fresh app context has its own session: the one that just committed may not emit SQL.
    from reviewapp.notifications.delivery import deliver_due

    with app.app_context():
        try:
            deliver_due()
        except Exception:  # delivery problems never fail the change that was committed
            app.logger.exception("Email delivery failed; the outbox keeps the messages")


class _DeliveryThread:
    """At most one delivery thread per process; a kick while it runs makes it go round again."""

    _lock = threading.Lock()
    _running = False
    _again = False

    @classmethod
    def kick(cls, app) -> None:
        with cls._lock:
            if cls._running:
                cls._again = True
                return
            cls._running, cls._again = True, False
        threading.Thread(target=cls._run, args=(app,), name="reviewapp-mail",
                         daemon=False).start()

    @classmethod
    def _run(cls, app) -> None:
        while True:
            _deliver_in_new_context(app)
            with cls._lock:
                if not cls._again:
                    cls._running = False
                    return
                cls._again = False


def init_app(app) -> None:
    """Start delivery after each commit that wrote email (and never after a rollback)."""
    if not sa.event.contains(Session, "after_commit", _after_commit):
        sa.event.listen(Session, "after_commit", _after_commit)
        sa.event.listen(Session, "after_rollback", _after_rollback)
