"""Which cookies still log a person in: a per-user session generation.

Flask keeps the session in a signed cookie and Flask-Login's remember-me cookie is signed too,
so the server cannot delete a copy of either. Instead every login cookie names the user's
session generation and the time of the login ("<user id>.<generation>.<unix time>"); the loader
refuses a cookie whose generation is no longer the user's, or whose login is older than the
remember-me lifetime. Logging out, changing or setting a password, deactivation and HR's
"sign out everywhere" move the generation on, and with it every earlier cookie dies.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app

from reviewapp.auth.models import User
from reviewapp.extensions import db


def _now() -> datetime:
    return datetime.now(UTC)


def remember_lifetime() -> timedelta:
    """How long a remember-me login lasts (REMEMBER_COOKIE_DURATION: seconds or a timedelta)."""
    duration = current_app.config["REMEMBER_COOKIE_DURATION"]
    return duration if isinstance(duration, timedelta) else timedelta(seconds=int(duration))


def token_for(user: User) -> str:
    """What a login cookie stores for this user, issued now."""
    return f"{user.id}.{user.session_generation}.{int(_now().timestamp())}"


def user_for(token: str) -> User | None:
    """The active user a login cookie stands for, or None when the cookie is no longer good."""
    try:
        user_id, generation, issued = (int(part) for part in str(token).split("."))
    except ValueError:  # the old bare-id form, or anything forged
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_generation != generation:
        return None
    age = _now() - datetime.fromtimestamp(issued, UTC)
    if age > remember_lifetime() or age < -timedelta(minutes=5):
        return None
    return user


def end_all(user: User) -> None:
    """Make every cookie issued to this user so far stop working (flushes)."""
    user.session_generation = (user.session_generation or 0) + 1
    db.session.flush()
