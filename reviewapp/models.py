"""Import every area's models so that Alembic and create_all see the whole schema."""

from reviewapp.audit.models import AuditEvent
from reviewapp.auth.models import Team, User

__all__ = ["AuditEvent", "Team", "User"]
