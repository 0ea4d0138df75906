"""Rate limits against password guessing and API floods (Flask-Limiter).

Logins count failures twice: per account (the email as typed, normalised, whether or not
such an account exists, so that the lockout tells nothing about who has one) and per address.
Password changes count failed current-password checks per user. The API counts requests per
token and failed authentications per address. The storage is RATELIMIT_STORAGE_URI: memory by
default (one process), Redis when several app servers must share the counts.
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from reviewapp.extensions import limiter

LOCKOUT_MESSAGE = "Too many failed attempts. Wait a few minutes, then try again."


def _setting(name: str):
    return lambda: current_app.config[name]


def note_failed_attempt() -> None:
    """Count this request against the failure limits (a wrong password)."""
    g.failed_attempt = True


def _failed(_response: Response) -> bool:
    return bool(g.get("failed_attempt"))


def _account_key() -> str:
    from reviewapp.auth.models import normalise_email  # auth's views import this module

    return "account:" + (normalise_email(request.form.get("email", "")) or "-")


def _address_key() -> str:
    return "address:" + (get_remote_address() or "-")


def _user_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else _address_key()


def _token_key() -> str:
    # Keyed by a hash of the token as the API reads it, so that "bearer  x" and "Bearer x" are
    # one count (keyed by the header's spelling, each spelling got a fresh allowance); the
    # secret never reaches the limiter's storage.
    from reviewapp.api.services import bearer_token  # the API's views import this module

    presented = bearer_token(request.headers.get("Authorization")) or \
        request.headers.get("Authorization", "")
    return "token:" + hashlib.sha256(presented.encode()).hexdigest()


def _unauthenticated(response: Response) -> bool:
    return response.status_code == 401


def login_limits(view):
    """Failed logins per account and per address; the right password is refused too once
    either limit is reached."""
    for setting, key, scope in (("LOGIN_LIMIT_PER_ACCOUNT", _account_key, "login-account"),
                                ("LOGIN_LIMIT_PER_ADDRESS", _address_key, "login-address")):
        view = limiter.limit(_setting(setting), key_func=key, scope=scope, methods=["POST"],
                             deduct_when=_failed, error_message=LOCKOUT_MESSAGE)(view)
    return view


def password_limits(view):
    """Failed current-password checks per user (a stolen session guessing the password)."""
    return limiter.limit(_setting("PASSWORD_LIMIT_PER_USER"), key_func=_user_key,
                         scope="password-change", methods=["POST"], deduct_when=_failed,
                         error_message=LOCKOUT_MESSAGE)(view)


def limit_api(bp) -> None:
    """Requests per token, and failed authentications per address, over the whole blueprint:
    shared limits, one count across every endpoint (a plain limit on a blueprint counts each
    endpoint apart, so 600 a minute per token was 600 per endpoint)."""
    limiter.shared_limit(_setting("API_LIMIT_PER_TOKEN"), key_func=_token_key,
                         scope="api-token",
                         error_message="too many requests with this token; retry after the "
                                       "number of seconds in Retry-After")(bp)
    limiter.shared_limit(_setting("API_AUTH_FAILURES_PER_ADDRESS"), key_func=_address_key,
                         scope="api-auth", deduct_when=_unauthenticated,
                         error_message="too many requests without a valid token from this "
                                       "address; retry after the number of seconds in "
                                       "Retry-After")(bp)


def init_app(app: Flask) -> None:
    """Bind the limiter to the app (settings in config.py: RATELIMIT_*, *_LIMIT_*)."""
    limiter.init_app(app)
