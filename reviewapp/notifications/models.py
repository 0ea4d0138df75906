"""A notification: one person, one sentence, one link; read when they mark it so. And email:
the outbox each message is written to with the change that causes it, preferences per kind,
the reminders given (each once), and the kinds a cycle requires."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviewapp.auth.models import User
from reviewapp.extensions import db
from reviewapp.model_types import enum_column, utcnow


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)


# Email: kinds, the outbox, preferences, reminders sent, and what a cycle requires ------------


class MailKind(enum.StrEnum):
    """Every event that sends email. A person chooses per kind how they get it."""

    SELF_ASSESSMENT_OPEN = "self_assessment_open"
    SELF_SUBMITTED = "self_submitted"
    REVIEW_RETURNED = "review_returned"
    REVIEW_REASSIGNED = "review_reassigned"
    CALIBRATION_OPEN = "calibration_open"
    REVIEW_SHARED = "review_shared"
    CONVERSATION_REQUESTED = "conversation_requested"
    GOAL_PROPOSAL_WAITING = "goal_proposal_waiting"
    GOAL_RETURNED = "goal_returned"
    PEER_FEEDBACK_REQUESTED = "peer_feedback_requested"
    DEADLINE_REMINDER = "deadline_reminder"
    DIGEST = "digest"  # the daily email that carries reminders and held messages

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    MailKind.SELF_ASSESSMENT_OPEN: "Your self-assessment is open",
    MailKind.SELF_SUBMITTED: "A self-assessment is in and the review waits for you",
    MailKind.REVIEW_RETURNED: "A review is returned or reopened for you to rework",
    MailKind.REVIEW_REASSIGNED: "A review is reassigned to you",
    MailKind.CALIBRATION_OPEN: "A calibration is open",
    MailKind.REVIEW_SHARED: "Your review is shared and waits for your acknowledgement",
    MailKind.CONVERSATION_REQUESTED: "A rep asks for a conversation about their review",
    MailKind.GOAL_PROPOSAL_WAITING: "A goal proposal waits for your approval",
    MailKind.GOAL_RETURNED: "Your goal proposal is returned to you",
    MailKind.PEER_FEEDBACK_REQUESTED: "You are asked for feedback on a colleague's work",
    MailKind.DEADLINE_REMINDER: "Reminders: 7 days and 1 day before a deadline, and when overdue",
    MailKind.DIGEST: "The daily digest",
}


class DeliveryMode(enum.StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"  # held for the next daily digest
    OFF = "off"

    @property
    def label(self) -> str:
        return {"immediate": "Right away", "digest": "In the daily digest",
                "off": "Off"}[self.value]


class OutboxStatus(enum.StrEnum):
    HELD = "held"            # waits for the recipient's daily digest
    PENDING = "pending"      # to be delivered (again, after a failure) at next_attempt_at
    SENDING = "sending"      # claimed by a delivery run
    SENT = "sent"            # accepted by the SMTP server
    LOGGED = "logged"        # no server configured: written to the log, readable here
    FAILED = "failed"        # the server refused the recipient for good; HR can retry
    DIGESTED = "digested"    # went out inside a digest (digest_id)

    @property
    def label(self) -> str:
        return {"held": "Held for the daily digest", "pending": "Waiting to be sent",
                "sending": "Being sent", "sent": "Sent", "failed": "Failed",
                "logged": "Not sent: no mail server configured (written to the log)",
                "digested": "Sent in a digest"}[self.value]


class OutboxMessage(db.Model):
    """One email, written in the transaction of the change that causes it; delivered after the
    commit and kept for good (HR reads the outbox page)."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MailKind] = mapped_column(enum_column(MailKind, "mail_kind"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    to_address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str] = mapped_column(sa.String(500), default="")
    unsubscribe_url: Mapped[str] = mapped_column(sa.String(500), default="")
    cycle_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cycles.id", ondelete="SET NULL"))
    # Some events tell each person once (a calibration opening); the key makes that a rule.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True),
                                                      default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    digest_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outbox_messages.id", ondelete="SET NULL"))
    message_id: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        sa.Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        sa.CheckConstraint("status != 'digested' OR digest_id IS NOT NULL", "digested_has_digest"),
        sa.CheckConstraint("attempts >= 0", "attempts_not_negative"),
    )


class MailPreference(db.Model):
    """How one person wants one kind of email; no row means the kind's default (right away)."""

    __tablename__ = "mail_preferences"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    kind: Mapped[MailKind] = mapped_column(enum_column(MailKind, "mail_kind"), primary_key=True)
    mode: Mapped[DeliveryMode] = mapped_column(enum_column(DeliveryMode, "delivery_mode"))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)


class ReminderSent(db.Model):
    """One reminder given to one person: each (person, deadline, stage) once. HR's reminders
    use the stage "hr" and the day as their key, which limits them to one a day per person."""

    __tablename__ = "reminders_sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(200))
    stage: Mapped[str] = mapped_column(sa.String(16))
    cycle_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cycles.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outbox_messages.id", ondelete="SET NULL"))
    sent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "key", "stage", name="uq_reminders_sent_once"),
        sa.CheckConstraint("stage IN ('week', 'day', 'overdue', 'hr')", "stage_known"),
    )


class CycleMailRule(db.Model):
    """The kinds of email a cycle requires: people cannot turn them off for that cycle."""

    __tablename__ = "cycle_mail_rules"

    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycles.id", ondelete="CASCADE"),
                                          primary_key=True)
    required_kinds: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
