"""Recording audit events; callers flush/commit with their own unit of work."""

from typing import Any

from reviewapp.audit.models import AuditEvent
from reviewapp.auth.models import User
from reviewapp.extensions import db


def record(
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: int | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Add one audit event to the current session."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        reason=reason,
    )
    db.session.add(event)
    return event


def history(entity_type: str, entity_id: int) -> list[AuditEvent]:
    """Events for one record, oldest first."""
    return list(
        db.session.scalars(
            db.select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )
