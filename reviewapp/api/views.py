"""The API tokens page (logged in, CSRF) and the JSON API (bearer token only, no cookies)."""

import sqlalchemy as sa
from flask import (
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException

from reviewapp import errors, policy, throttle
from reviewapp.api import account_bp, bp, services
from reviewapp.api.forms import TokenForm
from reviewapp.api.models import ApiToken
from reviewapp.api.openapi import document as openapi_document
from reviewapp.auth.models import User
from reviewapp.extensions import db
from reviewapp.metrics.catalogue import list_metrics
from reviewapp.transaction import attempt, refuse

REALM = 'Bearer realm="ReviewApp API"'
throttle.limit_api(bp)


# The API tokens page ---------------------------------------------------------------------------


@account_bp.before_request
@login_required
def _may_use_api():
    policy.require(policy.can_use_api(current_user))


@account_bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        outcome = attempt(services.create_token, current_user, form.name.data)
        if outcome.ok:
            _token, secret = outcome.value
            form = TokenForm(formdata=None)
        else:
            form.name.errors = list(form.name.errors) + [outcome.error.message]
    response = make_response(render_template(
        "api/tokens.html", form=form, tokens=services.tokens_of(current_user), secret=secret,
        api_url=url_for("api.observations", _external=True),
        openapi_url=url_for("api.openapi", _external=True)))
    # The page may show a secret: keep it out of every cache and the browser history.
    response.headers["Cache-Control"] = "no-store"
    return response


@account_bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
def token_revoke(token_id: int):
    token = db.session.get(ApiToken, token_id)
    policy.visible_or_404(token is not None and token.user_id == current_user.id)
    if services.revoke_token(current_user, token):
        flash(f"Token “{token.name}” ({token.prefix}…) was revoked; it no longer works.",
              "success")
    else:
        flash(f"Token “{token.name}” was already revoked.", "info")
    return redirect(url_for("account.tokens"))


# The JSON API ----------------------------------------------------------------------------------


def _problem(status: int, error: str, **details):
    response = jsonify({"error": error, **details})
    response.status_code = status
    return response


def _unauthorized(error: str, invalid: bool):
    response = _problem(401, error)
    challenge = REALM + (', error="invalid_token"' if invalid else "")
    response.headers["WWW-Authenticate"] = challenge
    return response


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return _problem(error.code or 500, error.description or error.name)


@bp.errorhandler(Exception)
def _unhandled(error: Exception):
    if errors.database_fault(error) is not None:  # down, restarting, locked or full: 503 / 507
        return errors.database_unavailable(error)
    current_app.logger.exception("Unhandled API error")
    return _problem(500, "internal error; nothing was written")


@bp.before_request
def _authenticate():
    """Bearer token only: a session cookie on its own never authenticates the API."""
    if request.endpoint == "api.openapi":  # the contract is public: it holds no data
        return None
    secret = services.bearer_token(request.headers.get("Authorization"))
    if secret is None:
        return _unauthorized("send your API token as 'Authorization: Bearer <token>'",
                             invalid=False)
    token = services.find_active_token(secret)
    if token is None:
        return _unauthorized("the API token is not valid or has been revoked", invalid=True)
    services.mark_used(token)
    user = db.session.get(User, token.user_id)
    if not user.active:
        return _problem(403, "the account this token belongs to is deactivated")
    if not policy.can_use_api(user):
        return _problem(403, "the account this token belongs to may not import data")
    g.api_user = user


@bp.route("/openapi.json")
def openapi():
    return jsonify(openapi_document(url_for("api.metrics", _external=True).rsplit("/", 1)[0]))


@bp.route("/metrics")
def metrics():
    return jsonify({"metrics": [services.metric_entry(m) for m in list_metrics()]})


@bp.route("/observations", methods=["POST"])
def observations():
    limit = current_app.config["IMPORT_MAX_BYTES"]
    too_large = f"the body is larger than the limit of {limit} bytes; send the rows in parts"
    if request.content_length is not None and request.content_length > limit:
        return _problem(413, too_large)
    data = request.get_data(cache=False)
    if len(data) > limit:
        return _problem(413, too_large)
    try:
        payload = services.parse_body(data)
    except services.PayloadError as exc:
        return _problem(400, str(exc))
    try:
        batch = services.import_observations(g.api_user, payload)
        summary = services.batch_summary(batch)
    except services.ValidationFailed as exc:
        return _problem(422, "validation failed", error_count=exc.error_count,
                        errors=exc.errors)
    except services.ImportConflict as exc:
        return _problem(409, exc.message, **exc.details)
    except errors.OutOfStorage as exc:
        refuse()
        return _problem(507, exc.message)
    except sa.exc.IntegrityError:
        refuse()
        return _problem(409, "another import wrote some of these values at the same time; "
                             "nothing was written, send the rows again")
    response = jsonify(summary)
    response.status_code = 201
    response.headers["Location"] = url_for("metrics.batch", batch_id=summary["batch_id"])
    return response
