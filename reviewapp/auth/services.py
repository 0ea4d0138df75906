"""Accounts: loading, authenticating, passwords and set-password tokens."""

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from reviewapp.auth import sessions
from reviewapp.auth.models import User, normalise_email
from reviewapp.errors import ServiceError
from reviewapp.extensions import db

MIN_PASSWORD_LENGTH = 10
# A hash to compare against when the email is unknown, so timing does not reveal who exists:
# scrypt with werkzeug's parameters for real passwords, of a random password nobody kept. A
# literal, because hashing at import cost every app start 0.1 s.
_DUMMY_HASH = ("scrypt:32768:8:1$rwe66I8cljIFwDyQ$73d4b6a91938aefa748ac786e984f35488c40d"
               "d60cf704664a776a72631eb8399862a6aadf91699faff46912889fe644f979fd41db5f5f"
               "d51afa11eaf653f7a9")


def load_user(token: str) -> User | None:
    """Flask-Login's loader: the user behind a session or remember-me cookie, if still good."""
    return sessions.user_for(token)


def find_by_email(email: str) -> User | None:
    """The user with this email (case-insensitive)."""
    return db.session.scalar(db.select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None without saying which part was wrong."""
    user = find_by_email(email)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user if user.active else None


def validate_password(password: str) -> None:
    """Reject passwords too weak to keep review records safe."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            f"Use at least {MIN_PASSWORD_LENGTH} characters.", field="new_password"
        )


def set_password(user: User, password: str) -> None:
    """Hash and store a new password (scrypt); every earlier login cookie stops working."""
    validate_password(password)
    user.password_hash = generate_password_hash(password, method="scrypt")
    sessions.end_all(user)


def change_password(user: User, current: str, new: str) -> None:
    """Change one's own password after checking the current one."""
    if not user.password_hash or not check_password_hash(user.password_hash, current):
        raise ServiceError("That is not your current password.", field="current_password")
    set_password(user, new)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="set-password")


def _password_stamp(user: User) -> str:
    # Binding the token to the current hash makes it one-time: setting a password voids it.
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def make_set_password_token(user: User) -> str:
    """A signed, expiring, one-time token for setting this user's password. Making one voids
    every earlier link of the user (HR makes a fresh one when the last was lost or leaked)."""
    user.password_link_generation = (user.password_link_generation or 0) + 1
    db.session.flush()
    return _serializer().dumps({"uid": user.id, "stamp": _password_stamp(user),
                                "link": user.password_link_generation})


def user_from_token(token: str) -> User:
    """The user a set-password token was made for; ServiceError when invalid or used."""
    max_age = current_app.config["SET_PASSWORD_TOKEN_MAX_AGE"]
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise ServiceError("This link has expired. Ask HR for a new one.") from exc
    except BadSignature as exc:
        raise ServiceError("This link is not valid.") from exc
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.active or data.get("stamp") != _password_stamp(user):
        raise ServiceError("This link has already been used or is no longer valid.")
    if data.get("link", 0) != user.password_link_generation:
        raise ServiceError("A newer link has been made for this account; use that one, or ask "
                           "HR for a new one.")
    return user
