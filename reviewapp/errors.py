"""Errors shared by services and the pages that show them."""

from flask import Flask, flash, jsonify, render_template, request
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Conflict as HTTPConflict
from werkzeug.exceptions import Forbidden, HTTPException

from reviewapp.extensions import db

MESSAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "You do not have permission to do that."),
    404: ("Not found", "There is nothing here, or you do not have access to it."),
    405: ("Not allowed", "That action is not available here."),
    409: ("Conflict", "Someone else changed this in the meantime."),
    413: ("File too large", "The upload is larger than the allowed size."),
    500: ("Something went wrong", "The error has been logged. Please try again."),
}


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


def show_on_form(form, exc: ServiceError, extra: dict[str, str] | None = None) -> None:
    """Put a service's refusal on the form field it names; else in `extra`, else flash it."""
    target = getattr(form, exc.field, None) if exc.field else None
    if target is not None and hasattr(target, "errors"):
        target.errors = list(target.errors) + [exc.message]
    elif extra is not None and exc.field:
        extra[exc.field] = exc.message
    else:
        flash(exc.message, "error")


def init_app(app: Flask) -> None:
    """Render our own page for HTTP errors; never leak a traceback or internals."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        title, text = MESSAGES.get(code, (error.name, "The request could not be completed."))
        if request.path.startswith("/api/"):  # machines get JSON, with the same reticence
            return jsonify({"error": title.lower(), "message": text}), code
        return render_template("errors/error.html", code=code, title=title, text=text), code

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
        app.logger.exception("Unhandled error")
        db.session.rollback()
        title, text = MESSAGES[500]
        return render_template("errors/error.html", code=500, title=title, text=text), 500
