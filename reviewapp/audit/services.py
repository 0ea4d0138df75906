"""Recording audit events; callers flush/commit with their own unit of work."""

import difflib
import hashlib
import re
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
    """Add one audit event to the current session (long texts as what changed)."""
    before, after = _compact_long_texts(before, after)
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


# A text longer than this is recorded as its length and fingerprint (before) and the words
# that changed (after): a 10,000-character review saved twenty times must not copy itself
# into twenty audit events.
LONG_TEXT = 500
DIFF_LIMIT = 480
_WORDS = re.compile(r"\S+|\s+")


def _summary(text: str) -> str:
    return f"{len(text)} characters, sha256 {hashlib.sha256(text.encode()).hexdigest()[:12]}"


def _changed_words(old: str, new: str) -> str:
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        removed, added = "".join(a[i1:i2]).strip(), "".join(b[j1:j2]).strip()
        parts.append(" ".join(p for p in (f"[-{removed}-]" if removed else "",
                                          f"{{+{added}+}}" if added else "") if p))
    text = " … ".join(parts)
    return text if len(text) <= DIFF_LIMIT else text[:DIFF_LIMIT] + " …"


def _compact_long_texts(before: dict | None, after: dict | None):
    if not before and not after:
        return before, after
    before, after = dict(before or {}) or None, dict(after or {}) or None
    for key in set(before or {}) | set(after or {}):
        old = (before or {}).get(key)
        new = (after or {}).get(key)
        long = [v for v in (old, new) if isinstance(v, str) and len(v) > LONG_TEXT]
        if not long:
            continue
        if isinstance(old, str) and before is not None:
            before[key] = _summary(old)
        if isinstance(new, str) and after is not None:
            diff = _changed_words(old if isinstance(old, str) else "", new)
            after[key] = f"{_summary(new)}; changed: {diff}"
    return before, after
