"""People: users with a role, a manager and a team; teams with a manager."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviewapp import text_limits
from reviewapp.extensions import db
from reviewapp.model_types import enum_column, utcnow


class Role(enum.StrEnum):
    HR_ADMIN = "hr_admin"
    MANAGER = "manager"
    REP = "rep"

    @property
    def label(self) -> str:
        return {"hr_admin": "HR admin", "manager": "Manager", "rep": "Sales rep"}[self.value]


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    # use_alter: users and teams point at each other, so one FK is added after both tables exist.
    manager_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", use_alter=True, ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    # post_update: a new team and its new manager can be flushed together.
    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id], post_update=True)
    members: Mapped[list[User]] = relationship(
        back_populates="team", foreign_keys="User.team_id", order_by="User.name"
    )

    def __repr__(self) -> str:
        return f"<Team {self.name}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (stripped, lower-case), so the unique index is case-insensitive.
    email: Mapped[str] = mapped_column(sa.String(text_limits.EMAIL), unique=True)
    name: Mapped[str] = mapped_column(sa.String(text_limits.NAME))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    manager_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    team_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    # Moves on at logout, password change, deactivation and "sign out everywhere": every login
    # cookie names the generation it was issued under (see auth/sessions.py).
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # Moves on with every set-password link made: only the newest link works.
    password_link_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # Moves on with every edit of the account (admin.services.update_user): an edit form
    # opened before another one was saved loses instead of putting the old values back.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    manager: Mapped[User | None] = relationship(
        remote_side=[id], foreign_keys=[manager_id], back_populates="reports"
    )
    reports: Mapped[list[User]] = relationship(
        back_populates="manager", foreign_keys=[manager_id], order_by="User.name"
    )
    team: Mapped[Team | None] = relationship(back_populates="members", foreign_keys=[team_id])

    __table_args__ = (
        sa.CheckConstraint("manager_id IS NULL OR manager_id <> id", "not_own_manager"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """What Flask-Login stores in the session and the remember-me cookie."""
        from reviewapp.auth.sessions import token_for

        return token_for(self)

    # UserMixin compares users by get_id(), which now carries a login time: compare by id.
    def __eq__(self, other: object) -> bool:
        if isinstance(other, User):
            return self.id is not None and self.id == other.id
        return NotImplemented

    __hash__ = object.__hash__

    @property
    def is_hr(self) -> bool:
        return self.role == Role.HR_ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_rep(self) -> bool:
        return self.role == Role.REP

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


def normalise_email(email: str) -> str:
    """The stored form of an email address."""
    return (email or "").strip().lower()
