"""Telling people: services add notifications with the change that causes them (flush only)."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Inbox:
    """The newest unread notifications a page shows, and how many are unread in all."""

    items: list[Notification]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def unread(user: User, limit: int = 10) -> Inbox:
    """The person's newest unread notifications (newest first), with the count of all."""
    items = list(db.session.scalars(
        sa.select(Notification).where(Notification.user_id == user.id,
                                      Notification.read_at.is_(None))
        .order_by(Notification.id.desc()).limit(limit)))
    total = len(items) if len(items) < limit else unread_count(user)
    return Inbox(items, total)


def unread_count(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(user: User, notification_id: int | None = None, *,
              shown: tuple[int, int] | None = None) -> int:
    """Mark one, the ones a page showed (ids from first to last), or every unread notification
    of the person read; returns how many. Marking what was shown leaves older ones, and any
    that came since, to be read next."""
    query = sa.update(Notification).where(Notification.user_id == user.id,
                                          Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    if shown is not None:
        query = query.where(Notification.id.between(min(shown), max(shown)))
    result = db.session.execute(query.values(read_at=datetime.now(UTC)))
    return result.rowcount or 0


def settle(user_id: int | None, link: str) -> int:
    """Mark read the person's unread notifications that point at `link` (or a part of that
    page, `link#...`): the step they asked for is done. A rep whose review was finalised still
    had "Your review has been shared: read and acknowledge it" under *New for you*."""
    if user_id is None or not link:
        return 0
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None),
               sa.or_(Notification.link == link, Notification.link.startswith(link + "#")))
        .values(read_at=datetime.now(UTC)).execution_options(synchronize_session=False))
    return result.rowcount or 0
