"""Goal templates, and assigning one to many reps in one action (all or nothing).

The preview and the assignment run the very same code: every goal is created and checked with
the same rules as one entered by hand. A preview is that run rolled back by the view; an
assignment with any problem raises AssignmentError and the view rolls it all back, so either
every rep gets the goal or nobody does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from reviewapp import policy
from reviewapp.audit.services import record
from reviewapp.auth.models import Role, Team, User
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.goals.alerts import GoalWarning
from reviewapp.goals.models import Goal, GoalKind, GoalScope, GoalTemplate
from reviewapp.goals.periods import describe_period, resolve_period
from reviewapp.goals.services import GoalDraft, create_goal
from reviewapp.model_types import among


@dataclass
class AssignmentRow:
    rep_id: int
    rep_name: str
    goal_id: int | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[GoalWarning] = field(default_factory=list)


@dataclass
class AssignmentPlan:
    template_title: str
    period: str
    start_value: float | None
    target_value: float | None
    rows: list[AssignmentRow]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not any(r.errors for r in self.rows)

    @property
    def error_count(self) -> int:
        return sum(1 for r in self.rows if r.errors)


class AssignmentError(ServiceError):
    """At least one rep could not get the goal; nothing may be kept."""

    def __init__(self, plan: AssignmentPlan):
        super().__init__(f"{plan.error_count} of {len(plan.rows)} reps cannot get this goal; "
                         "nothing was assigned.")
        self.plan = plan


def save_template(actor: User, goal: Goal, title: str | None = None) -> GoalTemplate:
    """Keep a goal's measure and wording as a template (without owner and period)."""
    template = GoalTemplate(
        title=(title or goal.title).strip(), description=goal.description, kind=goal.kind,
        metric=goal.metric, start_value=goal.start_value, target_value=goal.target_value,
        milestones=[m.title for m in goal.milestones], weight=goal.weight, created_by=actor)
    db.session.add(template)
    db.session.flush()
    record(actor, "goal_template.create", "goal_template", template.id,
           after={"title": template.title, "from_goal": goal.id})
    return template


def delete_template(actor: User, template: GoalTemplate) -> None:
    """Remove a template; goals made from it stay."""
    record(actor, "goal_template.delete", "goal_template", template.id,
           before={"title": template.title})
    db.session.delete(template)
    db.session.flush()


def chosen_reps(actor: User, rep_ids: list[int], team_id: int | None) -> list[User]:
    """The selected reps plus every active rep of the chosen team, each in the actor's people."""
    reps: dict[int, User] = {}
    if team_id:
        team = db.session.get(Team, team_id)
        if team is None or not policy.can_create_team_goal(actor, team):
            raise ServiceError("Choose one of your teams.", field="team")
        for rep in db.session.scalars(sa.select(User).where(
                User.team_id == team.id, User.role == Role.REP, User.active)):
            reps[rep.id] = rep
    for rep_id in rep_ids:
        rep = db.session.get(User, rep_id)
        if rep is None or not policy.can_set_goals_for(actor, rep):
            raise ServiceError("Choose reps from your people.", field="reps")
        reps[rep.id] = rep
    if not reps:
        raise ServiceError("Choose reps, or a whole team.", field="reps")
    return sorted(reps.values(), key=lambda r: r.name)


def _already_has(title: str, rep_ids: list[int], start: date, end: date) -> set[int]:
    """Reps who already have a goal of this title overlapping the period."""
    return set(db.session.scalars(sa.select(Goal.owner_id).where(
        among(Goal.owner_id, rep_ids), Goal.title == title, Goal.start_date <= end,
        Goal.end_date >= start)))


def _has_from_template(template_id: int, rep_ids: list[int], start: date,
                       end: date) -> set[int]:
    """Reps who already have a goal made from this template overlapping the period: a second
    assignment is a resubmitted page or a double click, not a second goal."""
    return set(db.session.scalars(sa.select(Goal.owner_id).where(
        among(Goal.owner_id, rep_ids), Goal.template_id == template_id,
        Goal.start_date <= end, Goal.end_date >= start)))


def assign_template(actor: User, template: GoalTemplate, *, rep_ids: list[int],
                    team_id: int | None, quarter: str | None, start_date: date | None,
                    end_date: date | None, parent_id: int | None = None,
                    start_value: float | None = None,
                    target_value: float | None = None) -> AssignmentPlan:
    """Give each chosen rep a goal from the template; raise AssignmentError if any cannot."""
    label, start, end = resolve_period(quarter, start_date, end_date)
    reps = chosen_reps(actor, rep_ids, team_id)
    if template.kind == GoalKind.METRIC:
        start_value = template.start_value if start_value is None else start_value
        target_value = template.target_value if target_value is None else target_value
    plan = AssignmentPlan(template.title, describe_period(label, start, end), start_value,
                          target_value, rows=[])
    already = _already_has(template.title, [r.id for r in reps], start, end)
    assigned = _has_from_template(template.id, [r.id for r in reps], start, end)
    for rep in reps:
        row = AssignmentRow(rep.id, rep.name)
        if rep.id in assigned:
            row.errors.append(f"{rep.name} already has this template's goal in this period "
                              "(assigned before): leave them out.")
            plan.rows.append(row)
            continue
        draft = GoalDraft(
            scope=GoalScope.INDIVIDUAL.value, title=template.title, kind=template.kind.value,
            description=template.description, owner_id=rep.id, quarter=label,
            start_date=start, end_date=end, parent_id=parent_id, weight=template.weight,
            metric_id=template.metric_id, start_value=start_value, target_value=target_value,
            milestones="\n".join(template.milestones or []), template_id=template.id)
        try:
            goal, row.warnings = create_goal(actor, draft)
        except ServiceError as exc:
            row.errors.append(exc.message)
        else:
            row.goal_id = goal.id
            if rep.id in already:
                row.warnings.append(GoalWarning(
                    "duplicate", f"{rep.name} already has a goal “{template.title}” in this "
                    "period."))
        plan.rows.append(row)
    if not plan.ok:
        raise AssignmentError(plan)
    record(actor, "goal_template.assign", "goal_template", template.id,
           after={"goals": [r.goal_id for r in plan.rows], "period": plan.period})
    return plan
