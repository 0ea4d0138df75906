"""Errors shared by services and the pages that show them."""

import sqlite3
import sys
from contextlib import contextmanager, suppress

import sqlalchemy as sa
from flask import Flask, current_app, flash, g, jsonify, render_template, request
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException
from werkzeug.exceptions import Conflict as HTTPConflict
from werkzeug.routing import IntegerConverter

from reviewapp.extensions import db, login_manager

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "You do not have permission to do that."),
    404: ("Not found", "There is nothing here, or you do not have access to it."),
    405: ("Not allowed", "That action is not available here."),
    409: ("Conflict", "Someone else changed this in the meantime."),
    413: ("File too large", "The upload is larger than the allowed size."),
    500: ("Something went wrong", "The error has been logged. Please try again."),
    503: ("Briefly unavailable", "The service is briefly unavailable. Please try again in a "
          "moment; if you were saving something, nothing of it was saved."),
    507: ("Out of storage", "The server has run out of storage space, so nothing was saved. "
          "Try again later, or tell your administrator."),
}
# What a refused import says when the database has no room left (page, API and CLI alike).
OUT_OF_STORAGE = ("The server has run out of storage space; nothing was imported. Try again "
                  "later, or tell your administrator.")


class ServiceError(Exception):
    """A business rule said no. `field` names the form field at fault, when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class FieldErrors(ServiceError):
    """Several fields are at fault at once: `errors` maps each field to its message, in the
    order the form shows them, so that a page can list every problem in one summary."""

    def __init__(self, errors: dict[str, str]):
        first_field, first = next(iter(errors.items()))
        super().__init__(first, field=first_field)
        self.errors = dict(errors)


class NotAllowed(ServiceError):
    """The actor may not do this at all (a page answers 403; the CLI prints the message)."""


class ActionUnavailable(ServiceError):
    """The actor could do this, but not now: the record is in the wrong state or a condition
    (such as a deadline) is not met. Shown to the user as a message."""


class Conflict(ServiceError):
    """Someone else changed the record after this user opened it (a page answers 409)."""


def claim_version(record, expected: int | None, conflict: Conflict) -> None:
    """A form opened at `expected` loses (`conflict`) when the record was saved since; else
    the record's version moves on for this change (goals, accounts, draft cycles)."""
    if expected is not None and int(expected) != record.version:
        raise conflict
    record.version = (record.version or 1) + 1


class OutOfStorage(ServiceError):
    """The database has no room left for what the actor wanted to write; nothing was written."""


# The database cannot serve us right now, or has no room left: these are the failures a retry
# (later) can cure, answered with 503 / 507. Anything else the database says is a bug: 500.
UNAVAILABLE, FULL = "unavailable", "full"
# SQLite's primary result codes: BUSY, LOCKED (past the busy timeout), IOERR, CANTOPEN, PROTOCOL.
SQLITE_UNAVAILABLE = {5, 6, 10, 14, 15}
SQLITE_FULL = 13
# PostgreSQL's SQLSTATE classes: connection exception, insufficient resources, operator
# intervention (shutdown, "the database system is starting up"), system error, and a
# serialisation failure or deadlock; 55P03 is a lock that could not be had at once.
PG_UNAVAILABLE_CLASSES = {"08", "53", "57", "58", "40"}
PG_DISK_FULL = "53100"


def _driver_errors() -> tuple[tuple[type[Exception], ...], tuple[type[Exception], ...]]:
    """(every driver error, the drivers' operational ones: connection lost, server gone...).
    psycopg counts once it is loaded: until then none of its errors can have been raised, and
    not importing it keeps it out of a SQLite app's start."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is None:
        return (sqlite3.Error,), ()
    return (sqlite3.Error, psycopg.Error), (psycopg.OperationalError, psycopg.InterfaceError)


def database_fault(error: BaseException) -> str | None:
    """FULL when the database has no room left, UNAVAILABLE when it cannot be reached, went
    away, is busy past its timeout or refuses work for now; None for any other error.

    Takes SQLAlchemy's wrapped errors and the driver's own (the bulk import writes through the
    driver's connection, so its errors arrive unwrapped).
    """
    if isinstance(error, sa.exc.TimeoutError):  # no pooled connection came free in time
        return UNAVAILABLE
    dbapi_errors, dbapi_operational = _driver_errors()
    if isinstance(error, sa.exc.DBAPIError):
        if error.connection_invalidated:
            return UNAVAILABLE
        orig = error.orig
    elif isinstance(error, dbapi_errors):
        orig = error
    else:
        return None
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        primary = code & 0xFF if code is not None else None
        if primary == SQLITE_FULL:
            return FULL
        return UNAVAILABLE if primary in SQLITE_UNAVAILABLE else None
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == PG_DISK_FULL:
        return FULL
    if not isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError,
                              *dbapi_operational)):
        return None
    if sqlstate is None or sqlstate[:2] in PG_UNAVAILABLE_CLASSES or sqlstate == "55P03":
        return UNAVAILABLE  # no SQLSTATE: the driver lost or never had the connection
    return None


@contextmanager
def refused_when_full():
    """Turn "the database has no room left" into a refusal the page, API and CLI can show."""
    try:
        yield
    except Exception as exc:
        if database_fault(exc) == FULL:
            raise OutOfStorage(OUT_OF_STORAGE) from exc
        raise


def rollback_quietly() -> None:
    """Roll the session back after the database failed; a dead connection cannot even roll
    back (the server already dropped the transaction), so then just let the session go."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the pool replaces the connection on its next checkout
        with suppress(Exception):
            db.session.close()


def error_page(code: int, title: str, text: str, **context) -> str:
    """The error page; should the database fail while the page asks who is logged in (a 404
    or a refused form in the middle of an outage), it is drawn as to a visitor instead."""
    try:
        return render_template("errors/error.html", code=code, title=title, text=text,
                               **context)
    except Exception as exc:
        if database_fault(exc) is None:
            raise
    rollback_quietly()
    g._login_user = login_manager.anonymous_user()
    return render_template("errors/error.html", code=code, title=title, text=text, **context)


def database_unavailable(error: BaseException):
    """The answer when the database failed us: 503 (with Retry-After) or 507, as a page or
    JSON under /api/; the session is rolled back, so nothing of the request is kept."""
    fault = database_fault(error) or UNAVAILABLE
    rollback_quietly()
    current_app.logger.warning("Database %s: %s", fault, str(error).splitlines()[0][:300])
    code = 507 if fault == FULL else 503
    title, text = MESSAGES[code]
    if request.path.startswith("/api/"):
        response = jsonify({"error": title.lower(), "message": text})
    else:
        # The page must not ask the database who is logged in: show it as to a visitor.
        g._login_user = login_manager.anonymous_user()
        retry = None
        if request.method == "GET":  # the same address again; never "//host/…" (another site)
            retry = request.script_root + "/" + request.full_path.rstrip("?").lstrip("/")
        response = current_app.make_response(render_template(
            "errors/error.html", code=code, title=title, text=text, retry_url=retry))
    response.status_code = code
    if code == 503:
        response.headers["Retry-After"] = str(current_app.config["DATABASE_RETRY_AFTER"])
    return response


def show_on_form(form, exc: ServiceError, extra: dict[str, str] | None = None) -> None:
    """Put a service's refusal on the form field it names; else in `extra`, else flash it."""
    target = getattr(form, exc.field, None) if exc.field else None
    if target is not None and hasattr(target, "errors"):
        target.errors = list(target.errors) + [exc.message]
    elif extra is not None and exc.field:
        extra[exc.field] = exc.message
    else:
        flash(exc.message, "error")


# The largest id a table holds (PostgreSQL's integer): /<int:id> above it matches no route.
MAX_ID = 2**31 - 1


class BoundedInt(IntegerConverter):
    """The <int:...> of our routes: an id no table can hold is a 404 without asking the
    database (SQLite cannot even bind one above 2**63 - 1: OverflowError, a 500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def out_of_range(error: BaseException) -> bool:
    """A number in the request too large for the database: SQLite's OverflowError while
    binding it, PostgreSQL's numeric_value_out_of_range (22003)."""
    if isinstance(error, OverflowError):
        return "SQLite INTEGER" in str(error) or "too large to convert" in str(error)
    orig = getattr(error, "orig", error)
    return getattr(orig, "sqlstate", None) == "22003"


def init_app(app: Flask) -> None:
    """Render our own page for HTTP errors; never leak a traceback or internals."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        title, text = MESSAGES.get(code, (error.name, "The request could not be completed."))
        # What the error itself says beyond its page: a 405's Allow, a 429's Retry-After.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if request.path.startswith("/api/"):  # machines get JSON, with the same reticence
            return jsonify({"error": title.lower(), "message": text}), code, headers
        return error_page(code, title, text), code, headers

    @app.errorhandler(NotAllowed)
    def not_allowed(error: NotAllowed):
        return http_error(Forbidden())

    @app.errorhandler(StaleDataError)
    def stale(error: StaleDataError):
        # Two saves of one record collided at the same moment: the later one lost.
        db.session.rollback()
        return http_error(HTTPConflict())

    @app.errorhandler(Exception)
    def unhandled(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        if database_fault(error) is not None:  # down, restarting, locked or full: not a bug
            return database_unavailable(error)
        if out_of_range(error):  # ?owner=10**23, a form's id: what it names cannot exist
            rollback_quietly()
            return http_error(BadRequest("A number in the request is too large."))
        app.logger.exception("Unhandled error")
        rollback_quietly()
        title, text = MESSAGES[500]
        return error_page(500, title, text), 500
