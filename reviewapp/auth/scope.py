"""Reporting lines: who sits below whom."""

import sqlalchemy as sa
from flask import has_request_context, request

from reviewapp.auth.models import User
from reviewapp.extensions import db


def subordinate_ids(manager_id: int) -> frozenset[int]:
    """Ids of everyone below a manager (direct reports and their reports, any depth)."""
    cache = _request_cache()
    if cache is not None:
        if manager_id in cache:
            return cache[manager_id]
    below = (
        sa.select(User.id).where(User.manager_id == manager_id).cte("below", recursive=True)
    )
    below = below.union(sa.select(User.id).join(below, User.manager_id == below.c.id))
    ids = frozenset(db.session.scalars(sa.select(below.c.id)))
    if cache is not None:
        cache[manager_id] = ids
    return ids


def _request_cache() -> dict[int, frozenset[int]] | None:
    # Per request, not per app context: tests and CLI commands keep one app context for long.
    if not has_request_context():
        return None
    return request.environ.setdefault("reviewapp.subordinate_ids", {})


def forget_scope_cache() -> None:
    """Drop cached reporting lines after a change to them in this request."""
    if has_request_context():
        request.environ.pop("reviewapp.subordinate_ids", None)


def would_form_cycle(user_id: int | None, new_manager_id: int | None) -> bool:
    """True when making new_manager_id the manager of user_id would close a reporting loop."""
    if user_id is None or new_manager_id is None:
        return False
    if user_id == new_manager_id:
        return True
    return new_manager_id in subordinate_ids(user_id)
