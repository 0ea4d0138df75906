"""Telling people: services add notifications with the change that causes them (flush only)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from reviewapp.auth.models import User
from reviewapp.extensions import db
from reviewapp.notifications.models import Notification


def notify(user_id: int | None, message: str, link: str = "") -> None:
    """Add a notification for one person (nobody: nothing)."""
    if user_id is None:
        return
    db.session.add(Notification(user_id=user_id, message=message, link=link))


def unread(user: User, limit: int = 10) -> list[Notification]:
    """The person's unread notifications, newest first."""
    return list(db.session.scalars(
        sa.select(Notification).where(Notification.user_id == user.id,
                                      Notification.read_at.is_(None))
        .order_by(Notification.id.desc()).limit(limit)))


def unread_count(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one (or every) unread notification of the person read; returns how many."""
    query = sa.update(Notification).where(Notification.user_id == user.id,
                                          Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    result = db.session.execute(query.values(read_at=datetime.now(UTC)))
    return result.rowcount or 0
