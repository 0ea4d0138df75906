"""One transaction per request, committed in one place.

The view parses input and calls a service; the service flushes and raises a ServiceError when
it refuses. After the view returns, the request commits once if it succeeded (a 2xx or 3xx
answer to a POST, PUT, PATCH or DELETE) and rolls back otherwise: a GET never writes, an error
page never keeps half a change, and a refused service call undoes whatever it had flushed.
A commit the database cannot take (it went away, is locked or full) becomes the same 503 / 507
answer as a failure inside the view: the transaction is gone whole, never half written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

import click
from flask import Flask, Response, g, request
from sqlalchemy.exc import IntegrityError

from reviewapp.errors import (
    FULL,
    OUT_OF_STORAGE,
    Conflict,
    NotAllowed,
    ServiceError,
    database_fault,
    database_unavailable,
    rollback_quietly,
)
from reviewapp.extensions import db

T = TypeVar("T")
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Outcome(Generic[T]):
    """What a service call gave: its value, or the refusal (and then nothing it did is kept)."""

    value: T | None = None
    error: ServiceError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def attempt(service: Callable[..., T], *args, **kwargs) -> Outcome[T]:
    """Call one service; a refusal rolls back what it flushed and marks the request failed."""
    return _call(service, args, kwargs, refuse)


def attempt_keeping_earlier(service: Callable[..., T], *args, **kwargs) -> Outcome[T]:
    """Call a service that refuses before it changes anything, after an earlier call in the same
    request succeeded: a refusal keeps the earlier change (a saved draft whose submission was
    refused is still saved, and the answer says what is missing)."""
    return _call(service, args, kwargs, _keep)


def _call(service, args, kwargs, on_refusal: Callable[[], None]) -> Outcome:
    try:
        return Outcome(value=service(*args, **kwargs))
    except NotAllowed:
        refuse()
        raise  # answered with 403 by the error handler, never shown as a form error
    except ServiceError as exc:
        on_refusal()
        return Outcome(error=exc)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        # Two requests both found the name (or the pair) free, and this one's insert lost:
        # a double click, a second tab, a colleague. Nothing of this request is kept.
        refuse()
        return Outcome(error=Conflict(SAVED_TWICE))


SAVED_TWICE = ("This was saved a moment ago, by a second click, another tab or someone else, "
               "so it was not saved twice: reload the page to see it.")


def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether the database refused a duplicate of a unique key (not some other constraint)."""
    code = getattr(exc.orig, "sqlstate", None)
    return code == "23505" or "UNIQUE constraint failed" in str(exc.orig)


def _keep() -> None:
    g.transaction_kept = True


def refuse() -> None:
    """Undo everything this request flushed; nothing of it will be committed."""
    db.session.rollback()
    g.transaction_refused = True


def _finish(response: Response) -> Response:
    writes = request.method not in READ_ONLY_METHODS
    succeeded = response.status_code < 400 or g.get("transaction_kept")
    if writes and succeeded and not g.get("transaction_refused"):
        try:
            db.session.commit()
        except Exception as exc:
            if database_fault(exc) is None:
                raise
            return database_unavailable(exc)  # rolled back: the answer says nothing was saved
    else:
        try:
            db.session.rollback()
        except Exception as exc:
            if database_fault(exc) is None:
                raise
            rollback_quietly()  # nothing was to be kept; the answer stands
    return response


@contextmanager
def command_transaction(*, keep: bool = True) -> Iterator[None]:
    """One commit per CLI command: a refusal becomes the command's error, and nothing of it is
    written; `keep=False` (a dry run) rolls back even a success."""
    try:
        yield
        if keep:
            db.session.commit()
        else:
            db.session.rollback()
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    except Exception as exc:
        fault = database_fault(exc)
        if fault is None:
            raise
        rollback_quietly()
        raise click.ClickException(
            OUT_OF_STORAGE if fault == FULL else
            "The database is unavailable or busy at the moment; nothing was written. "
            f"Try again in a moment. ({str(exc).splitlines()[0][:200]})") from exc


def init_app(app: Flask) -> None:
    """Commit each successful writing request once, after its view; roll back everything else."""
    app.after_request(_finish)
