"""Goals, their milestones, check-ins, comments, adjustments (history) and templates.

A goal gives direction; nothing here is a score. Progress is computed when it is shown (see
tracking.py), never stored as a number that a review could pick up.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviewapp.auth.models import Team, User
from reviewapp.extensions import db
from reviewapp.metrics.models import Metric
from reviewapp.model_types import enum_column, utcnow


class GoalScope(enum.StrEnum):
    TEAM = "team"
    INDIVIDUAL = "individual"


class GoalKind(enum.StrEnum):
    METRIC = "metric"  # linked to a metric: start value → target
    PERCENT = "percent"  # a percentage, updated by check-ins
    CHECKLIST = "checklist"  # milestones ticked off

    @property
    def label(self) -> str:
        return {"metric": "Linked to a metric", "percent": "Manual percentage",
                "checklist": "Checklist of milestones"}[self.value]


class GoalState(enum.StrEnum):
    """Where the goal stands in agreement; tracking status is separate (GoalStatus)."""

    PROPOSED = "proposed"  # a rep proposed it; waits for the manager
    RETURNED = "returned"  # the manager sent it back with a comment
    ACTIVE = "active"  # agreed (created by a manager, or approved)

    @property
    def label(self) -> str:
        return {"proposed": "Proposed", "returned": "Returned", "active": "Agreed"}[self.value]


class GoalStatus(enum.StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    DONE = "done"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def tone(self) -> str:
        """The pill class that shows it."""
        return {"on_track": "ok", "at_risk": "warn", "off_track": "bad", "done": "info"}[
            self.value]


NEEDS_ATTENTION = (GoalStatus.AT_RISK, GoalStatus.OFF_TRACK)  # what panels count as at risk


def owner_label(scope: GoalScope, team_name: str | None, person_name: str | None) -> str:
    """Whose a goal is, in words: the team's name for a team goal, else the person's."""
    return (team_name if scope == GoalScope.TEAM else person_name) or "—"


class Goal(db.Model):
    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[GoalScope] = mapped_column(enum_column(GoalScope, "goal_scope"))
    team_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # The quarter label when the goal is set for a quarter ("2026-Q3"); the dates always hold.
    quarter: Mapped[str | None] = mapped_column(sa.String(7))
    start_date: Mapped[date]
    end_date: Mapped[date]
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("goals.id", ondelete="SET NULL"), index=True)
    weight: Mapped[float] = mapped_column(sa.Float, default=1.0)
    kind: Mapped[GoalKind] = mapped_column(enum_column(GoalKind, "goal_kind"))
    metric_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("metrics.id", ondelete="RESTRICT"), index=True)
    start_value: Mapped[float | None] = mapped_column(sa.Float)
    target_value: Mapped[float | None] = mapped_column(sa.Float)
    manual_percent: Mapped[float | None] = mapped_column(sa.Float)
    state: Mapped[GoalState] = mapped_column(enum_column(GoalState, "goal_state"))
    # The owner or manager may override the suggested status, always with a note.
    status_override: Mapped[GoalStatus | None] = mapped_column(
        enum_column(GoalStatus, "goal_status"))
    status_note: Mapped[str | None] = mapped_column(sa.Text)
    status_set_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    status_set_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    template_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("goal_templates.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Moved on by every edit, adjustment and decision: a form opened at an older version loses
    # (409), and so does a write racing another one (the UPDATE checks the version it read).
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    team: Mapped[Team | None] = relationship(foreign_keys=[team_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    metric: Mapped[Metric | None] = relationship()
    parent: Mapped[Goal | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Goal]] = relationship(back_populates="parent", order_by="Goal.title")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    status_set_by: Mapped[User | None] = relationship(foreign_keys=[status_set_by_id])
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="goal", cascade="all, delete-orphan", order_by="Milestone.position")
    check_ins: Mapped[list[CheckIn]] = relationship(
        back_populates="goal", cascade="all, delete-orphan",
        order_by=lambda: (CheckIn.held_on, CheckIn.id))
    comments: Mapped[list[GoalComment]] = relationship(
        back_populates="goal", cascade="all, delete-orphan", order_by="GoalComment.id")
    adjustments: Mapped[list[GoalAdjustment]] = relationship(
        back_populates="goal", cascade="all, delete-orphan", order_by="GoalAdjustment.id")

    # The services move the version on (check_version); the mapper adds "AND version = <read>"
    # to every UPDATE and DELETE, so of two writes from the same version one fails.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    __table_args__ = (
        sa.CheckConstraint(
            "(scope = 'team' AND team_id IS NOT NULL AND owner_id IS NULL) OR "
            "(scope = 'individual' AND owner_id IS NOT NULL)", "owner_matches_scope"),
        sa.CheckConstraint(
            "kind <> 'metric' OR (metric_id IS NOT NULL AND start_value IS NOT NULL AND "
            "target_value IS NOT NULL AND target_value <> start_value)", "metric_target"),
        sa.CheckConstraint("end_date >= start_date", "dates_ordered"),
        sa.CheckConstraint("weight > 0", "weight_positive"),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", "not_own_parent"),
        sa.CheckConstraint("status_override IS NULL OR status_note IS NOT NULL",
                           "override_has_note"),
    )

    @property
    def owner_name(self) -> str:
        return owner_label(self.scope, self.team.name if self.team else None,
                           self.owner.name if self.owner else None)

    @property
    def is_active(self) -> bool:
        return self.state == GoalState.ACTIVE

    def __repr__(self) -> str:
        return f"<Goal {self.id} {self.title!r}>"


class Milestone(db.Model):
    __tablename__ = "goal_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("goals.id", ondelete="CASCADE"),
                                         index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(200))
    due: Mapped[date | None]
    done: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    goal: Mapped[Goal] = relationship(back_populates="milestones")


class CheckIn(db.Model):
    __tablename__ = "goal_check_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("goals.id", ondelete="CASCADE"),
                                         index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    held_on: Mapped[date]
    # Progress as it stood (percent); for metric goals also the metric's value then, so the
    # chart can redraw old points against the current target.
    progress: Mapped[float | None] = mapped_column(sa.Float)
    metric_id: Mapped[int | None] = mapped_column(sa.ForeignKey("metrics.id", ondelete="SET NULL"))
    metric_value: Mapped[float | None] = mapped_column(sa.Float)
    confidence: Mapped[int]
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    goal: Mapped[Goal] = relationship(back_populates="check_ins")
    author: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("confidence BETWEEN 1 AND 5", "confidence"),
    )


class GoalComment(db.Model):
    __tablename__ = "goal_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("goals.id", ondelete="CASCADE"),
                                         index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    goal: Mapped[Goal] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship()


class GoalAdjustment(db.Model):
    """A mid-period change of target, metric or period: old and new values, who, when, why."""

    __tablename__ = "goal_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("goals.id", ondelete="CASCADE"),
                                         index=True)
    changed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # The day the change counts from on the progress chart.
    effective_on: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.Text)
    before: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any]] = mapped_column(sa.JSON)

    goal: Mapped[Goal] = relationship(back_populates="adjustments")
    changed_by: Mapped[User | None] = relationship()


class GoalTemplate(db.Model):
    """A reusable goal without owner or period, assigned to many reps at once."""

    __tablename__ = "goal_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    kind: Mapped[GoalKind] = mapped_column(enum_column(GoalKind, "goal_kind"))
    metric_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("metrics.id", ondelete="RESTRICT"))
    start_value: Mapped[float | None] = mapped_column(sa.Float)
    target_value: Mapped[float | None] = mapped_column(sa.Float)
    milestones: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    weight: Mapped[float] = mapped_column(sa.Float, default=1.0)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    metric: Mapped[Metric | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "kind <> 'metric' OR (metric_id IS NOT NULL AND start_value IS NOT NULL AND "
            "target_value IS NOT NULL AND target_value <> start_value)",
            "metric_target"),
        sa.CheckConstraint("weight > 0", "weight_positive"),
    )
