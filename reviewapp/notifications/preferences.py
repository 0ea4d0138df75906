"""Email preferences: per person and kind, right away, in the daily digest, or off, except the
kinds a cycle requires. Unsubscribe links are signed for one person and one kind, and only for
unsubscribing, so they work without logging in and can do nothing else.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from reviewapp import policy
from reviewapp.audit.services import record
from reviewapp.auth.models import Role, User
from reviewapp.errors import NotAllowed, ServiceError
from reviewapp.extensions import db
from reviewapp.notifications.models import (
    CycleMailRule,
    DeliveryMode,
    MailKind,
    MailPreference,
)

K = MailKind
# Which kinds each role can receive (and so sees on the preferences page), in page order.
AUDIENCE = {
    Role.REP: [K.SELF_ASSESSMENT_OPEN, K.REVIEW_SHARED, K.GOAL_RETURNED,
               K.PEER_FEEDBACK_REQUESTED, K.DEADLINE_REMINDER],
    Role.MANAGER: [K.SELF_SUBMITTED, K.REVIEW_RETURNED, K.REVIEW_REASSIGNED,
                   K.CALIBRATION_OPEN, K.CONVERSATION_REQUESTED, K.GOAL_PROPOSAL_WAITING,
                   K.PEER_FEEDBACK_REQUESTED, K.DEADLINE_REMINDER],
    Role.HR_ADMIN: [K.CALIBRATION_OPEN, K.PEER_FEEDBACK_REQUESTED, K.DEADLINE_REMINDER],
}
# Reminders always travel in the daily digest: for them "right away" means the same.
MODES = {kind: [DeliveryMode.IMMEDIATE, DeliveryMode.DIGEST, DeliveryMode.OFF] for kind in K}
MODES[K.DEADLINE_REMINDER] = [DeliveryMode.DIGEST, DeliveryMode.OFF]
# Kinds about a review cycle: only these can be required by a cycle.
CYCLE_KINDS = [K.SELF_ASSESSMENT_OPEN, K.SELF_SUBMITTED, K.REVIEW_RETURNED,
               K.REVIEW_REASSIGNED, K.CALIBRATION_OPEN, K.REVIEW_SHARED,
               K.CONVERSATION_REQUESTED, K.PEER_FEEDBACK_REQUESTED, K.DEADLINE_REMINDER]
# A cycle nobody has set requires that a shared review reaches its rep.
DEFAULT_REQUIRED = [K.REVIEW_SHARED]
ALL_KINDS = "*"


def default_mode(kind: MailKind) -> DeliveryMode:
    return MODES[kind][0]


def modes_of(user: User) -> dict[MailKind, DeliveryMode]:
    """The person's choice for every kind (defaults where they chose nothing)."""
    chosen = dict(db.session.execute(
        sa.select(MailPreference.kind, MailPreference.mode)
        .where(MailPreference.user_id == user.id)).all())
    return {kind: chosen.get(kind, default_mode(kind)) for kind in K}


def required_kinds(cycle_id: int | None) -> list[MailKind]:
    """The kinds the cycle requires (DEFAULT_REQUIRED until HR sets them)."""
    if cycle_id is None:
        return []
    rule = db.session.get(CycleMailRule, cycle_id)
    if rule is None:
        return list(DEFAULT_REQUIRED)
    return [MailKind(k) for k in rule.required_kinds]


def effective_mode(user: User, kind: MailKind, cycle_id: int | None = None) -> DeliveryMode:
    """How this email reaches the person: their choice, but never off when the cycle
    requires the kind (then it comes as the kind's default)."""
    chosen = db.session.get(MailPreference, (user.id, kind))
    mode = chosen.mode if chosen else default_mode(kind)
    if mode == DeliveryMode.OFF and kind in required_kinds(cycle_id):
        return default_mode(kind)
    return mode


def set_modes(actor: User, user: User, choices: dict[str, str]) -> list[MailKind]:
    """Store the person's choices (only the kinds their role receives); returns those changed."""
    if actor.id != user.id:
        raise ServiceError("People choose their own email preferences.")
    kinds = AUDIENCE.get(user.role, [])
    current = modes_of(user)
    parsed: dict[MailKind, DeliveryMode] = {}
    for kind in kinds:
        value = choices.get(kind.value)
        if value is None:
            continue
        try:
            mode = DeliveryMode(value)
        except ValueError:
            raise ServiceError(f"Choose how you get “{kind.label}”.", field=kind.value) from None
        if mode not in MODES[kind]:
            raise ServiceError(f"“{kind.label}” cannot be {mode.label.lower()}.",
                               field=kind.value)
        parsed[kind] = mode
    changed = [k for k, m in parsed.items() if current[k] != m]
    for kind in changed:
        _store(user, kind, parsed[kind])
    if changed:
        db.session.flush()
        record(actor, "mail.preferences", "user", user.id,
               before={k.value: current[k].value for k in changed},
               after={k.value: parsed[k].value for k in changed})
    return changed


def _store(user: User, kind: MailKind, mode: DeliveryMode) -> None:
    row = db.session.get(MailPreference, (user.id, kind))
    if row is None:
        db.session.add(MailPreference(user_id=user.id, kind=kind, mode=mode))
    else:
        row.mode = mode


def set_required(actor: User, cycle, kinds: list[str]) -> list[MailKind]:
    """HR sets which kinds of email people of the cycle cannot turn off."""
    if not policy.can_manage_cycles(actor):
        raise NotAllowed("Only HR sets what a cycle requires.")
    try:
        chosen = [MailKind(k) for k in kinds]
    except ValueError:
        raise ServiceError("Choose kinds of email from the list.", field="required") from None
    if any(k not in CYCLE_KINDS for k in chosen):
        raise ServiceError("Only emails about the cycle can be required.", field="required")
    chosen = [k for k in CYCLE_KINDS if k in chosen]
    before = required_kinds(cycle.id)
    rule = db.session.get(CycleMailRule, cycle.id)
    if rule is None:
        rule = CycleMailRule(cycle_id=cycle.id)
        db.session.add(rule)
    rule.required_kinds = [k.value for k in chosen]
    db.session.flush()
    record(actor, "cycle.required_mail", "cycle", cycle.id,
           before={"required": [k.value for k in before]},
           after={"required": rule.required_kinds})
    return chosen


# Unsubscribe links ---------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="mail-unsubscribe")


def unsubscribe_token(user: User, kind: MailKind | str) -> str:
    """Signed for this person and kind ("*": every kind), good only for unsubscribing."""
    value = kind.value if isinstance(kind, MailKind) else kind
    return _serializer().dumps({"u": user.id, "k": value})


def unsubscribe_url(user: User, kind: MailKind | str) -> str:
    from reviewapp.notifications.outbox import page_url

    return page_url("notifications.unsubscribe", token=unsubscribe_token(user, kind))


def read_unsubscribe_token(token: str) -> tuple[User, list[MailKind]]:
    """The person and the kinds a link unsubscribes from; ServiceError when it is not ours."""
    try:
        data = _serializer().loads(token)
    except BadSignature as exc:
        raise ServiceError("This unsubscribe link is not valid.") from exc
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None:
        raise ServiceError("This unsubscribe link is not valid.")
    value = data.get("k")
    if value == ALL_KINDS:
        return user, list(AUDIENCE.get(user.role, []))
    try:
        return user, [MailKind(value)]
    except ValueError:
        raise ServiceError("This unsubscribe link is not valid.") from None


def unsubscribe(token: str) -> tuple[User, list[MailKind]]:
    """Turn the link's kinds off for its person (no login: the signature is the proof)."""
    user, kinds = read_unsubscribe_token(token)
    before = modes_of(user)
    changed = [k for k in kinds if before[k] != DeliveryMode.OFF]
    for kind in changed:
        _store(user, kind, DeliveryMode.OFF)
    if changed:
        db.session.flush()
        record(None, "mail.unsubscribe", "user", user.id,
               before={k.value: before[k].value for k in changed},
               after={k.value: "off" for k in changed})
    return user, kinds
