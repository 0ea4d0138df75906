"""API tokens (create, revoke, authenticate) and the observation import behind the JSON API.

A token is shown once, when it is created; only its SHA-256 hash and a short prefix are stored.
The import goes through the same all-or-nothing service as the upload page and the CLI.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from reviewapp import policy
from reviewapp.api.models import ApiToken
from reviewapp.audit.services import record
from reviewapp.auth.models import User
from reviewapp.errors import OutOfStorage, ServiceError
from reviewapp.extensions import db
from reviewapp.metrics.importer import apply_import, prepare_import
from reviewapp.metrics.layout import normalise_header
from reviewapp.metrics.models import ImportBatch, Metric
from reviewapp.model_types import utcnow

TOKEN_PREFIX = "ra_"
SHOWN_PREFIX_LENGTH = 10  # "ra_" and 7 random characters: enough to tell tokens apart
MAX_TOKEN_LENGTH = 200  # anything longer is not one of ours; do not bother hashing it
DEFAULT_SOURCE_NAME = "api"
MAX_SOURCE_NAME_LENGTH = 255
# The JSON answer lists at most this many errors; error_count always has the true total.
MAX_ERRORS_RETURNED = 1000
BODY_KEYS = frozenset({"rows", "replace", "source_name"})


# Tokens ----------------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """SHA-256 hex of a token, the only form in which tokens are stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(actor: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal token for the actor; return it with the secret, which is never stored."""
    policy.require(policy.can_use_api(actor))
    name = (name or "").strip()
    if not name:
        raise ServiceError("Enter a name.", field="name")
    if len(name) > 80:
        raise ServiceError("Use at most 80 characters.", field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, name=name, prefix=secret[:SHOWN_PREFIX_LENGTH],
                     token_hash=hash_token(secret))
    db.session.add(token)
    db.session.flush()
    record(actor, "api_token.create", "api_token", token.id,
           after={"name": token.name, "prefix": token.prefix, "user_id": actor.id})
    return token, secret


def revoke_token(actor: User, token: ApiToken) -> bool:
    """Revoke one of the actor's own tokens; False when it was already revoked."""
    policy.visible_or_404(token.user_id == actor.id)
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    db.session.flush()
    record(actor, "api_token.revoke", "api_token", token.id,
           after={"name": token.name, "prefix": token.prefix, "user_id": token.user_id})
    return True


def tokens_of(user: User) -> list[ApiToken]:
    """A person's tokens, newest first, revoked ones included."""
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials or len(credentials) > MAX_TOKEN_LENGTH:
        return None
    return credentials


def find_active_token(secret: str) -> ApiToken | None:
    """The unrevoked token with this secret, or None."""
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    return token if token is not None and token.revoked_at is None else None


def mark_used(token: ApiToken) -> None:
    """Note that the token was presented just now, in a transaction of its own.

    The one write outside the request's transaction, on purpose: the owner should see every use
    of their token, including requests that then fail and roll back.
    """
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(sa.update(ApiToken).where(ApiToken.id == token.id)
                     .values(last_used_at=now))
    token.last_used_at = now
    db.session.flush()


# The observation import ------------------------------------------------------------------------


class PayloadError(ValueError):
    """The request body is not JSON of the documented shape (answered with 400)."""


class ValidationFailed(Exception):
    """The rows have errors; nothing was written (answered with 422)."""

    def __init__(self, errors: list[dict[str, Any]], error_count: int):
        super().__init__(f"{error_count} error(s)")
        self.errors = errors
        self.error_count = error_count


class ImportConflict(Exception):
    """The rows clash with what is stored; nothing was written (answered with 409)."""

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details


@dataclass(frozen=True)
class ImportRequest:
    """A parsed request body: the rows in the long layout and what to do with them."""

    rows: list[dict[str, Any]]
    replace: bool = False
    source_name: str = DEFAULT_SOURCE_NAME


def _keep_constant(name: str) -> str:
    # NaN and Infinity are not JSON, but Python would read them as floats and the importer would
    # then see an empty cell; as text they get the precise "not a finite number" error.
    return name


class _RepeatedKey(ValueError):
    pass


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # {"value": 10, "value": 12} is valid JSON that keeps the last: a generator's bug, or two
    # fields mapped to one key, would import a value nobody chose.
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _RepeatedKey(twice)
    return out


def parse_body(data: bytes) -> ImportRequest:
    """Read the body: a JSON array of row objects, or {"rows": [...], "replace", "source_name"}."""
    try:
        body = json.loads(data, parse_constant=_keep_constant,
                          object_pairs_hook=_no_repeated_keys)
    except _RepeatedKey as exc:
        raise PayloadError(f'the key "{exc}" appears twice in one object; give each field '
                           "once") from None
    except (ValueError, RecursionError):
        raise PayloadError("the body is not valid JSON") from None
    if isinstance(body, list):
        return ImportRequest(rows=_rows(body))
    if not isinstance(body, dict):
        raise PayloadError('the body must be a JSON array of rows or an object with "rows"')
    unknown = sorted(set(body) - BODY_KEYS)
    if unknown:
        raise PayloadError(f"unknown field(s): {', '.join(unknown)}; the body may have "
                           '"rows", "replace" and "source_name"')
    if "rows" not in body:
        raise PayloadError('the body has no "rows"')
    replace = body.get("replace", False)
    if not isinstance(replace, bool):
        raise PayloadError('"replace" must be true or false')
    source_name = body.get("source_name")
    if source_name is None:
        source_name = DEFAULT_SOURCE_NAME
    if not isinstance(source_name, str) or not source_name.strip():
        raise PayloadError('"source_name" must be a non-empty string')
    if "\x00" in source_name:
        raise PayloadError('"source_name" contains a NUL character, which is not allowed')
    if len(source_name) > MAX_SOURCE_NAME_LENGTH:
        raise PayloadError(f'"source_name" may have at most {MAX_SOURCE_NAME_LENGTH} characters')
    return ImportRequest(rows=_rows(body["rows"]), replace=replace,
                         source_name=source_name.strip())


def _rows(rows: Any) -> list[dict[str, Any]]:
    if not isinstance(rows, list):
        raise PayloadError('"rows" must be a JSON array of objects')
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise PayloadError(f"row {i} is not an object")
    return rows


def _error_row(line: int | None, field: str | None, value: Any, message: str) -> dict[str, Any]:
    # read_records numbers records from 1; the API speaks of 0-based indexes into "rows", and
    # so do its messages ("duplicate of line 1" is "duplicate of row 0" here).
    return {"row": None if line is None else line - 1, "field": field, "value": value,
            "message": _LINE_IN_TEXT.sub(lambda m: f"row {int(m.group(1)) - 1}", message)}


_LINE_IN_TEXT = re.compile(r"\bline (\d+)\b")


def _require_long_layout(rows: list[dict[str, Any]]) -> None:
    """The API takes the long layout only; without both metric and value the importer reads wide."""
    keys = {normalise_header(k) for row in rows for k in row}
    missing = [name for name in ("metric", "value") if name not in keys]
    if not rows or not missing:
        return
    errors = [_error_row(None, name, None, f"required field '{name}' is missing from every row")
              for name in missing]
    raise ValidationFailed(errors, len(errors))


def import_observations(actor: User, request: ImportRequest) -> ImportBatch:
    """Validate and write the rows as one batch, or write nothing (flushes; the caller commits)."""
    _require_long_layout(request.rows)
    plan = prepare_import(actor, request.rows, request.source_name, source="api")
    if not plan.ok:
        raise ValidationFailed(
            [_error_row(e.line, e.column, e.value, e.message)
             for e in plan.errors[:MAX_ERRORS_RETURNED]],
            plan.error_count)
    if plan.duplicate_of is not None:
        raise ImportConflict(
            f"these rows were already imported as batch #{plan.duplicate_of}; nothing was written",
            duplicate_of=plan.duplicate_of)
    if plan.writes_nothing:
        raise ImportConflict(f"every value is already stored ({plan.unchanged_count} "
                             "unchanged); nothing was written", unchanged=plan.unchanged_count)
    if plan.changed_count and not request.replace:
        raise ImportConflict(
            f"{plan.changed_count} stored value(s) would change; send \"replace\": true to "
            "replace them; nothing was written", changed=plan.changed_count)
    try:
        return apply_import(actor, plan, replace=request.replace)
    except OutOfStorage:
        raise  # answered with 507 by the view
    except ServiceError as exc:  # the checks above, lost to an import that finished meanwhile
        message = exc.message.rstrip(".")
        if "nothing was written" not in message:
            message += "; nothing was written"
        raise ImportConflict(f"another import finished meanwhile: {message}") from exc


def batch_summary(batch: ImportBatch) -> dict[str, int]:
    """What a finished import did, as the API reports it."""
    return {"batch_id": batch.id, "rows": batch.row_count, "new": batch.new_count,
            "changed": batch.changed_count, "unchanged": batch.unchanged_count}


def metric_entry(metric: Metric) -> dict[str, Any]:
    """One metric of the catalogue as the API shows it."""
    return {"key": metric.key, "name": metric.name, "unit": metric.unit,
            "kind": metric.kind.value, "direction": metric.direction.value,
            "rollup": metric.rollup.value,
            "kpi_status": metric.kpi_status.value if metric.kpi_status else None,
            "archived": metric.archived}

