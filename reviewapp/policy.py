"""Who may do what. Every permission question in ReviewApp is a can_* function here.

Views ask these functions and never inspect roles themselves. Conventions:
- a record the actor must not even know about is answered with 404 (`visible_or_404`);
- an action on something the actor may know exists is answered with 403 (`require`).
"""

from flask import abort

from reviewapp.auth.models import Role, User
from reviewapp.auth.scope import subordinate_ids


def require(allowed: bool) -> None:
    """Abort with 403 unless allowed."""
    if not allowed:
        abort(403)


def visible_or_404(allowed: bool) -> None:
    """Abort with 404 (we do not reveal what exists) unless allowed."""
    if not allowed:
        abort(404)


def _is_hr(actor: User) -> bool:
    return actor.is_authenticated and actor.role == Role.HR_ADMIN


def in_scope(actor: User, user_id: int) -> bool:
    """The actor is the person, HR, or a manager above them."""
    if not actor.is_authenticated:
        return False
    if actor.id == user_id or _is_hr(actor):
        return True
    return actor.role == Role.MANAGER and user_id in subordinate_ids(actor.id)


# People and administration -------------------------------------------------------------------


def can_manage_users(actor: User) -> bool:
    """Create, edit, deactivate and import users; manage teams."""
    return _is_hr(actor)


def can_view_user(actor: User, user: User) -> bool:
    """See a person's page: themselves, their managers above them, HR."""
    return in_scope(actor, user.id)


def can_view_people_list(actor: User) -> bool:
    """See a list of people (a manager sees their scope; HR sees everyone)."""
    return actor.is_authenticated and actor.role in (Role.MANAGER, Role.HR_ADMIN)


def can_view_audit(actor: User) -> bool:
    """Read the organisation-wide audit log."""
    return _is_hr(actor)


def people_scope_ids(actor: User) -> frozenset[int] | None:
    """Ids the actor may see, or None for everyone (HR)."""
    if _is_hr(actor):
        return None
    if actor.role == Role.MANAGER:
        return subordinate_ids(actor.id) | {actor.id}
    return frozenset({actor.id})


# Metrics and imports -------------------------------------------------------------------------


def can_manage_metrics(actor: User) -> bool:
    """Add, edit and archive metrics in the catalogue."""
    return _is_hr(actor)


def can_view_metrics_catalogue(actor: User) -> bool:
    """Everyone logged in may read the catalogue."""
    return actor.is_authenticated


def can_import_metrics(actor: User) -> bool:
    """Managers import for people in their scope; HR for anyone."""
    return actor.is_authenticated and actor.role in (Role.MANAGER, Role.HR_ADMIN)


def can_undo_batch(actor: User, batch) -> bool:
    """The uploader or HR may undo an import batch."""
    return actor.is_authenticated and (_is_hr(actor) or batch.uploaded_by_id == actor.id)


def can_view_batch(actor: User, batch) -> bool:
    """The uploader and HR see a batch."""
    return can_undo_batch(actor, batch)


def can_view_rep_metrics(actor: User, rep: User) -> bool:
    """A rep's own numbers: the rep, their managers, HR."""
    return in_scope(actor, rep.id)


def can_view_team_metrics(actor: User) -> bool:
    """The rep × metric table of a team."""
    return actor.is_authenticated and actor.role in (Role.MANAGER, Role.HR_ADMIN)


def can_use_api(actor: User) -> bool:
    """Personal API tokens are for those who may import."""
    return can_import_metrics(actor)


# KPI validation ------------------------------------------------------------------------------


def can_use_kpi_lab(actor: User) -> bool:
    """The KPI lab, runs, results, metric histories and behaviour notes: managers and HR."""
    return actor.is_authenticated and actor.role in (Role.MANAGER, Role.HR_ADMIN)


def can_view_kpis(actor: User) -> bool:
    """The list of current KPIs with their one-sentence evidence: everyone logged in."""
    return actor.is_authenticated


def can_run_org_validation(actor: User) -> bool:
    """An organisation-wide run (the only kind that can change KPI statuses): HR."""
    return _is_hr(actor)


def can_run_team_validation(actor: User, team) -> bool:
    """An exploratory run on a team: HR any team; a manager a team led by them or below them."""
    if _is_hr(actor):
        return True
    if not (actor.is_authenticated and actor.role == Role.MANAGER) or team.manager_id is None:
        return False
    return team.manager_id == actor.id or team.manager_id in subordinate_ids(actor.id)


def can_view_all_validation_runs(actor: User) -> bool:
    """Every run, including other managers' exploratory runs: HR."""
    return _is_hr(actor)


def can_view_validation_run(actor: User, run) -> bool:
    """Org-wide runs: HR and managers. Exploratory runs: HR and the manager who ran them
    (a command-line team run: that team's manager); never other managers."""
    if not can_use_kpi_lab(actor):
        return False
    if _is_hr(actor) or run.scope == "organisation":
        return True
    if run.created_by_id is not None:
        return run.created_by_id == actor.id
    return run.team is not None and run.team.manager_id == actor.id


def can_manage_kpi_settings(actor: User) -> bool:
    """Choose the organisation's primary outcome: HR."""
    return _is_hr(actor)


def can_change_kpi_status(actor: User) -> bool:
    """Retire or reinstate a metric by hand, with a written reason: HR."""
    return _is_hr(actor)


def can_write_behaviour_note(actor: User, rep: User) -> bool:
    """A note on a teachable-moment rep: their managers above them, HR."""
    return can_use_kpi_lab(actor) and actor.id != rep.id and in_scope(actor, rep.id)


def can_view_behaviour_note(actor: User, note) -> bool:
    """HR, the author, and managers above the rep."""
    if not can_use_kpi_lab(actor):
        return False
    return note.author_id == actor.id or in_scope(actor, note.rep_id)


def can_decide_metric_proposal(actor: User) -> bool:
    """Accept a proposed metric into the catalogue, or decline it: HR."""
    return can_manage_metrics(actor)


# Goals ---------------------------------------------------------------------------------------
# Goals give direction; HR sees them all but sets none. A team goal belongs to the team's
# manager (and the managers above them); an individual goal to the rep's managers above them.


def _leads_team(actor: User, team) -> bool:
    if not (actor.is_authenticated and actor.role == Role.MANAGER) or team is None:
        return False
    if team.manager_id is None:
        return False
    return team.manager_id == actor.id or team.manager_id in subordinate_ids(actor.id)


def _manages_person(actor: User, user_id: int | None) -> bool:
    return (actor.is_authenticated and actor.role == Role.MANAGER and user_id is not None
            and user_id in subordinate_ids(actor.id))


def can_view_goals(actor: User) -> bool:
    """The goal list and the goal tree (each shows only what the actor may see)."""
    return actor.is_authenticated


def can_view_goal(actor: User, goal) -> bool:
    """Individual goals: the owner, their managers above, HR. Team goals: the team's members,
    its manager and the managers above, HR."""
    if not actor.is_authenticated:
        return False
    if _is_hr(actor):
        return True
    if goal.scope == "individual":
        return in_scope(actor, goal.owner_id)
    return actor.team_id == goal.team_id or _leads_team(actor, goal.team)


def can_create_goals(actor: User) -> bool:
    """Open the new-goal form: managers set goals, reps propose their own."""
    return actor.is_authenticated and actor.role in (Role.MANAGER, Role.REP)


def can_create_team_goal(actor: User, team) -> bool:
    """A manager sets goals for a team led by them or by a manager below them."""
    return _leads_team(actor, team)


def can_set_goals_for(actor: User, person: User) -> bool:
    """A manager sets individual goals for the people below them."""
    return _manages_person(actor, person.id)


def can_manage_goal(actor: User, goal) -> bool:
    """The owner's manager: edit, adjust (with a reason), approve or return, delete."""
    if goal.scope == "individual":
        return _manages_person(actor, goal.owner_id)
    return _leads_team(actor, goal.team)


def can_edit_goal(actor: User, goal) -> bool:
    """The manager; the owner while the goal is a proposal (or returned to them)."""
    if can_manage_goal(actor, goal):
        return True
    return (actor.is_authenticated and goal.owner_id == actor.id
            and goal.state in ("proposed", "returned"))


def can_check_in(actor: User, goal) -> bool:
    """Check-ins, milestones and status overrides: the owner or their manager."""
    return can_manage_goal(actor, goal) or (actor.is_authenticated
                                            and goal.owner_id == actor.id)


def can_comment_on_goal(actor: User, goal) -> bool:
    """Everyone who can see a goal may comment on it."""
    return can_view_goal(actor, goal)


def can_delete_goal(actor: User, goal) -> bool:
    """The manager; the owner may withdraw a proposal that is not agreed yet."""
    return can_edit_goal(actor, goal)


def can_use_goal_templates(actor: User) -> bool:
    """Save goals as templates and assign them to many reps: managers."""
    return actor.is_authenticated and actor.role == Role.MANAGER


def can_use_goal_template(actor: User, template) -> bool:
    """A template belongs to the manager who saved it."""
    return can_use_goal_templates(actor) and template.created_by_id == actor.id


# Review cycles and reviews -------------------------------------------------------------------


def can_manage_cycles(actor: User) -> bool:
    """Create, edit and launch cycles; maintain competencies and weight bounds."""
    return _is_hr(actor)


def can_view_cycle_overview(actor: User) -> bool:
    """A cycle's overview: managers see their people, HR everyone."""
    return actor.is_authenticated and actor.role in (Role.MANAGER, Role.HR_ADMIN)


def can_view_review(actor: User, review) -> bool:
    """The rep, the managers above them, and HR may open a review (what they see varies)."""
    return in_scope(actor, review.rep_id)


def can_act_as_reviewee(actor: User, review) -> bool:
    """The person being reviewed."""
    return actor.is_authenticated and actor.id == review.rep_id


def can_write_self_assessment(actor: User, review) -> bool:
    """Only the rep, only while the review is in self-review."""
    return can_act_as_reviewee(actor, review) and review.state.value == "self_review"


def can_see_self_assessment(actor: User, review) -> bool:
    """The rep always; everyone else once it has been submitted (a draft stays private)."""
    if not can_view_review(actor, review):
        return False
    return actor.id == review.rep_id or review.self_submitted_at is not None


def can_write_manager_side(actor: User, review) -> bool:
    """The reviewing manager (the rep's manager at launch)."""
    return actor.is_authenticated and actor.id == review.manager_id


def can_write_manager_review(actor: User, review) -> bool:
    """The reviewing manager, while the review is in manager review."""
    return can_write_manager_side(actor, review) and review.state.value == "manager_review"


def can_see_manager_side(actor: User, review) -> bool:
    """The reviewing manager from manager review on; HR and higher managers from calibration
    (until then it is the manager's draft); the rep only once the review is shared."""
    if not can_view_review(actor, review):
        return False
    state = review.state.value
    if actor.id == review.rep_id:
        return state in ("shared", "acknowledged", "finalized")
    if actor.id == review.manager_id:
        return state not in ("not_started", "self_review")
    return state in ("calibration", "shared", "acknowledged", "finalized")


def can_see_review_scores(actor: User, review) -> bool:
    """Scores in a cycle's overview: the reviewing manager; HR and the managers above from
    calibration on (until then the manager's ratings are a draft); the rep once shared."""
    if not can_view_review(actor, review):
        return False
    if actor.id == review.rep_id:
        return review.state.value in ("shared", "acknowledged", "finalized")
    if actor.id == review.manager_id:
        return True
    return review.state.value in ("calibration", "shared", "acknowledged", "finalized")
