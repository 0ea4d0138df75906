"""Who may do what. Every permission question in ReviewApp is a can_* function here.

Views ask these functions and never inspect roles themselves. Conventions:
- a record the actor must not even know about is answered with 404 (`visible_or_404`);
- an action on something the actor may know exists is answered with 403 (`require`);
- a list that the database filters asks the `*_clause` twin of the `can_view_*` function, kept
  beside it here (tests hold the two to the same answer).
"""

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import abort

from reviewapp.auth.models import Role, Team, User
from reviewapp.auth.scope import subordinate_ids
from reviewapp.errors import ActionUnavailable, NotAllowed, ServiceError
from reviewapp.extensions import db
from reviewapp.model_types import among
from reviewapp.reviews.states import ReviewState


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


def visible_people_clause(actor: User) -> sa.ColumnElement[bool]:
    """can_view_user as a WHERE clause on User, for lists paged in SQL (tests hold them equal)."""
    if not actor.is_authenticated:
        return sa.false()
    if _is_hr(actor):
        return sa.true()
    return among(User.id, people_scope_ids(actor))


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


def visible_runs_clause(actor: User) -> sa.ColumnElement[bool]:
    """can_view_validation_run as a WHERE clause on ValidationRun (tests hold them equal)."""
    # Imported here: the kpis package loads its views, and they import this module.
    from reviewapp.kpis.models import RunScope, ValidationRun

    if not can_use_kpi_lab(actor):
        return sa.false()
    if can_view_all_validation_runs(actor):
        return sa.true()
    led_teams = sa.select(Team.id).where(Team.manager_id == actor.id)
    return sa.or_(
        ValidationRun.scope == RunScope.ORGANISATION,
        ValidationRun.created_by_id == actor.id,
        sa.and_(ValidationRun.created_by_id.is_(None), ValidationRun.team_id.in_(led_teams)),
    )


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


def led_teams_clause(actor: User) -> sa.ColumnElement[bool]:
    """Teams led by the actor or by a manager below them, as a WHERE clause on Team
    (the teams can_create_team_goal allows)."""
    if not (actor.is_authenticated and actor.role == Role.MANAGER):
        return sa.false()
    return among(Team.manager_id, subordinate_ids(actor.id) | {actor.id})


def visible_goals_clause(actor: User) -> sa.ColumnElement[bool]:
    """can_view_goal as a WHERE clause on Goal (tests hold them to the same answer)."""
    # Imported here: the goals package loads its views, and they import this module.
    from reviewapp.goals.models import Goal, GoalScope

    if not actor.is_authenticated:
        return sa.false()
    if _is_hr(actor):
        return sa.true()
    teams = Goal.team_id.in_(sa.select(Team.id).where(led_teams_clause(actor)))
    if actor.team_id is not None:
        teams = sa.or_(Goal.team_id == actor.team_id, teams)
    return sa.or_(
        sa.and_(Goal.scope == GoalScope.INDIVIDUAL,
                among(Goal.owner_id, people_scope_ids(actor))),
        sa.and_(Goal.scope == GoalScope.TEAM, teams),
    )


def sees_everyone(actor: User) -> bool:
    """HR sees every person, team and goal: all teams in the filters, the organisation's
    dashboard."""
    return _is_hr(actor)


def is_reviewed(person: User) -> bool:
    """Reps are the people reviewed: each has a review, numbers and individual goals."""
    return person.is_authenticated and person.role == Role.REP


def sets_goals(actor: User) -> bool:
    """Managers set goals, for the teams they lead and the people below them."""
    return actor.is_authenticated and actor.role == Role.MANAGER


def proposes_goals(actor: User) -> bool:
    """A rep proposes goals for themselves; their manager agrees to them or returns them."""
    return is_reviewed(actor)


def can_create_goals(actor: User) -> bool:
    """Open the new-goal form: managers set goals, reps propose their own."""
    return sets_goals(actor) or proposes_goals(actor)


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


def managed_goals_clause(actor: User) -> sa.ColumnElement[bool]:
    """can_manage_goal as a WHERE clause on Goal (tests hold them to the same answer)."""
    from reviewapp.goals.models import Goal, GoalScope

    if not (actor.is_authenticated and actor.role == Role.MANAGER):
        return sa.false()
    return sa.or_(
        sa.and_(Goal.scope == GoalScope.INDIVIDUAL,
                among(Goal.owner_id, subordinate_ids(actor.id))),
        sa.and_(Goal.scope == GoalScope.TEAM,
                Goal.team_id.in_(sa.select(Team.id).where(led_teams_clause(actor)))),
    )


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
    return sets_goals(actor)


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
    """The rep, the reviewing manager, the managers above the rep, and HR (what they see varies
    by state: see REVIEW_ACTIONS)."""
    if not actor.is_authenticated:
        return False
    return actor.id == review.manager_id or in_scope(actor, review.rep_id)


def visible_reviews_clause(actor: User) -> sa.ColumnElement[bool]:
    """can_view_review as a WHERE clause on Review, for lists paged in SQL (tests hold them
    equal)."""
    # Imported here: the reviews package imports this module.
    from reviewapp.reviews.models import Review

    if not actor.is_authenticated:
        return sa.false()
    if _is_hr(actor):
        return sa.true()
    return sa.or_(Review.manager_id == actor.id, among(Review.rep_id, people_scope_ids(actor)))


# The one table of review actions: for each action, which party may take it in which states,
# the state it moves the review to, and any further condition. Services refuse with it, views
# answer 403/404 with it, and templates show a button only when it allows the action.


class Party(enum.StrEnum):
    """How an actor stands to one review."""

    REVIEWEE = "reviewee"  # the rep being reviewed
    REVIEWER = "reviewer"  # the manager who writes the review (the rep's manager at launch)
    ABOVE = "above"        # a manager above the rep who is not the reviewer
    HR = "hr"
    # A colleague the review asked for feedback (an approved nomination; see reviewapp/peers).
    # Looked up only for the actions that name it, so that other checks cost no query. A peer
    # may not see the review: only the rules of peer actions name this party.
    PEER = "peer"


class ReviewAction(enum.StrEnum):
    SEE_SELF_ASSESSMENT = "see_self_assessment"
    SEE_MANAGER_SIDE = "see_manager_side"
    SAVE_SELF = "save_self"
    SUBMIT_SELF = "submit_self"
    SKIP_SELF = "skip_self"
    SAVE_MANAGER = "save_manager"
    OVERRIDE_KPI = "override_kpi"
    SUBMIT_MANAGER = "submit_manager"
    SET_POTENTIAL = "set_potential"
    ADJUST_RATING = "adjust_rating"
    RETURN_TO_MANAGER = "return_to_manager"
    SHARE = "share"
    ACKNOWLEDGE = "acknowledge"
    REQUEST_CONVERSATION = "request_conversation"
    FINALIZE = "finalize"
    REOPEN = "reopen"
    REASSIGN = "reassign"
    SEE_HISTORY = "see_history"
    NOMINATE_PEERS = "nominate_peers"
    DECIDE_PEERS = "decide_peers"  # approve, remove or add the peers asked
    ANSWER_PEER = "answer_peer"  # answer (or decline) a request for feedback
    SEE_PEER_REQUESTS = "see_peer_requests"  # who was nominated and asked (never who answered)
    SEE_PEER_AGGREGATE = "see_peer_aggregate"  # the answers per competency, without names
    SEE_PEER_AUTHORS = "see_peer_authors"  # who answered what, for abuse
    DOWNLOAD_DRAFT = "download_draft"
    DOWNLOAD_RECORD = "download_record"


S = ReviewState
EVERY_STATE = frozenset(S)
FROM_MANAGER_REVIEW = frozenset(s for s in S if s.rank >= S.MANAGER_REVIEW.rank)
FROM_CALIBRATION = frozenset(s for s in S if s.rank >= S.CALIBRATION.rank)
FROM_SHARED = frozenset(s for s in S if s.rank >= S.SHARED.rank)


def _self_deadline_passed(review, today: date) -> str | None:
    due = review.cycle.self_due
    if today <= due:
        return (f"The self-assessment is due on {due:%d %b %Y}; you can move on without it "
                "only after that.")
    return None


def _cycle_lets_managers_share(review, today: date) -> str | None:
    if review.cycle.managers_share:
        return None
    return "In this cycle HR shares the reviews after calibration."


def _acknowledged_or_past_deadline(review, today: date) -> str | None:
    due = review.cycle.acknowledgement_due
    if review.state != S.SHARED or today > due:
        return None
    return (f"{review.rep.name} has not acknowledged the review yet; you can finalise it "
            f"without the acknowledgement after {due:%d %b %Y}.")


def _peer_round_open(review, today: date) -> str | None:
    cycle = review.cycle
    if not cycle.peer_feedback:
        return "This cycle does not ask peers for feedback."
    if cycle.peer_due is not None and today > cycle.peer_due:
        return f"Peer feedback closed on {cycle.peer_due:%d %b %Y}."
    return None


def _cycle_not_closed(review, today: date) -> str | None:
    if review.cycle.status.value != "closed":
        return None
    return (f"{review.cycle.name} is closed: a closed cycle takes no more changes, so its "
            "records stay as they are.")


def _self_submitted(review, today: date) -> str | None:
    return None if review.self_submitted_at is not None else "Not submitted yet."


@dataclass(frozen=True)
class ReviewRule:
    who: dict  # Party -> the states in which that party may take the action
    to: ReviewState | None = None  # the state the action moves the review to
    unless: Callable | None = None  # (review, today) -> a refusal message, or None
    unless_for: frozenset = frozenset(Party)  # the parties the extra condition applies to


REVIEW_ACTIONS: dict[ReviewAction, ReviewRule] = {
    ReviewAction.SEE_SELF_ASSESSMENT: ReviewRule(
        {Party.REVIEWEE: EVERY_STATE, Party.REVIEWER: EVERY_STATE, Party.ABOVE: EVERY_STATE,
         Party.HR: EVERY_STATE},
        unless=_self_submitted, unless_for=frozenset({Party.REVIEWER, Party.ABOVE, Party.HR})),
    ReviewAction.SEE_MANAGER_SIDE: ReviewRule(
        {Party.REVIEWEE: FROM_SHARED, Party.REVIEWER: FROM_MANAGER_REVIEW,
         Party.ABOVE: FROM_CALIBRATION, Party.HR: FROM_CALIBRATION}),
    ReviewAction.SAVE_SELF: ReviewRule({Party.REVIEWEE: {S.SELF_REVIEW}}),
    ReviewAction.SUBMIT_SELF: ReviewRule({Party.REVIEWEE: {S.SELF_REVIEW}},
                                         to=S.MANAGER_REVIEW),
    ReviewAction.SKIP_SELF: ReviewRule({Party.REVIEWER: {S.SELF_REVIEW}}, to=S.MANAGER_REVIEW,
                                       unless=_self_deadline_passed),
    ReviewAction.SAVE_MANAGER: ReviewRule({Party.REVIEWER: {S.MANAGER_REVIEW}}),
    ReviewAction.OVERRIDE_KPI: ReviewRule({Party.REVIEWER: {S.MANAGER_REVIEW}}),
    ReviewAction.SUBMIT_MANAGER: ReviewRule({Party.REVIEWER: {S.MANAGER_REVIEW}},
                                            to=S.CALIBRATION),
    ReviewAction.SET_POTENTIAL: ReviewRule(
        {Party.REVIEWER: {S.MANAGER_REVIEW, S.CALIBRATION}, Party.HR: {S.CALIBRATION}}),
    ReviewAction.ADJUST_RATING: ReviewRule({Party.HR: {S.CALIBRATION}}),
    ReviewAction.RETURN_TO_MANAGER: ReviewRule({Party.HR: {S.CALIBRATION}},
                                               to=S.MANAGER_REVIEW),
    ReviewAction.SHARE: ReviewRule(
        {Party.HR: {S.CALIBRATION}, Party.REVIEWER: {S.CALIBRATION}}, to=S.SHARED,
        unless=_cycle_lets_managers_share, unless_for=frozenset({Party.REVIEWER})),
    ReviewAction.ACKNOWLEDGE: ReviewRule({Party.REVIEWEE: {S.SHARED}}, to=S.ACKNOWLEDGED),
    ReviewAction.REQUEST_CONVERSATION: ReviewRule({Party.REVIEWEE: {S.SHARED}}),
    ReviewAction.FINALIZE: ReviewRule({Party.HR: {S.SHARED, S.ACKNOWLEDGED}}, to=S.FINALIZED,
                                      unless=_acknowledged_or_past_deadline),
    ReviewAction.REOPEN: ReviewRule({Party.HR: {S.FINALIZED}}, to=S.MANAGER_REVIEW,
                                    unless=_cycle_not_closed),
    ReviewAction.REASSIGN: ReviewRule({Party.HR: EVERY_STATE - {S.FINALIZED}}),
    ReviewAction.SEE_HISTORY: ReviewRule({Party.HR: EVERY_STATE, Party.REVIEWER: EVERY_STATE}),
    # Peer feedback: the rep nominates and the manager decides while the review is being
    # written; the peers answer until the review is finalised (answers freeze with it) or the
    # cycle's peer deadline passes. Nobody but HR ever learns who answered.
    ReviewAction.NOMINATE_PEERS: ReviewRule({Party.REVIEWEE: {S.SELF_REVIEW, S.MANAGER_REVIEW}},
                                            unless=_peer_round_open),
    ReviewAction.DECIDE_PEERS: ReviewRule({Party.REVIEWER: {S.SELF_REVIEW, S.MANAGER_REVIEW}},
                                          unless=_peer_round_open),
    ReviewAction.ANSWER_PEER: ReviewRule(
        {Party.PEER: EVERY_STATE - {S.NOT_STARTED, S.FINALIZED}}, unless=_peer_round_open),
    ReviewAction.SEE_PEER_REQUESTS: ReviewRule(
        {Party.REVIEWEE: EVERY_STATE, Party.REVIEWER: EVERY_STATE, Party.HR: EVERY_STATE}),
    ReviewAction.SEE_PEER_AGGREGATE: ReviewRule(
        {Party.REVIEWEE: FROM_SHARED, Party.REVIEWER: FROM_MANAGER_REVIEW,
         Party.ABOVE: FROM_CALIBRATION, Party.HR: FROM_CALIBRATION}),
    ReviewAction.SEE_PEER_AUTHORS: ReviewRule({Party.HR: EVERY_STATE}),
    # A draft PDF (watermarked, never stored) shows only what its reader may see on the page.
    ReviewAction.DOWNLOAD_DRAFT: ReviewRule(
        {p: EVERY_STATE - {S.FINALIZED} for p in Party if p != Party.PEER}),
    # The stored record of a finalised review; HR also keeps the records of reopened ones
    # (superseded records: HR only, see can_download_record).
    ReviewAction.DOWNLOAD_RECORD: ReviewRule(
        {Party.REVIEWEE: {S.FINALIZED}, Party.REVIEWER: {S.FINALIZED},
         Party.ABOVE: {S.FINALIZED}, Party.HR: EVERY_STATE}),
}

ACTION_WORDS = {
    ReviewAction.SAVE_SELF: "Changing the self-assessment",
    ReviewAction.SUBMIT_SELF: "Submitting the self-assessment",
    ReviewAction.SKIP_SELF: "Moving on without a self-assessment",
    ReviewAction.SAVE_MANAGER: "Changing the manager's review",
    ReviewAction.OVERRIDE_KPI: "Overriding a KPI score",
    ReviewAction.SUBMIT_MANAGER: "Sending the review to calibration",
    ReviewAction.SET_POTENTIAL: "Rating potential",
    ReviewAction.ADJUST_RATING: "Adjusting a rating",
    ReviewAction.RETURN_TO_MANAGER: "Returning the review to the manager",
    ReviewAction.SHARE: "Sharing the review",
    ReviewAction.ACKNOWLEDGE: "Acknowledging the review",
    ReviewAction.REQUEST_CONVERSATION: "Asking for a conversation",
    ReviewAction.FINALIZE: "Finalising the review",
    ReviewAction.REOPEN: "Reopening the review",
    ReviewAction.REASSIGN: "Reassigning the reviewer",
    ReviewAction.NOMINATE_PEERS: "Nominating peers",
    ReviewAction.DECIDE_PEERS: "Approving or changing the peers asked",
    ReviewAction.ANSWER_PEER: "Answering a request for feedback",
    ReviewAction.DOWNLOAD_DRAFT: "A draft PDF",
    ReviewAction.DOWNLOAD_RECORD: "Downloading the record",
}


def review_parties(actor: User, review) -> frozenset[Party]:
    """Every way the actor stands to the review (none: they may not even see it)."""
    if not actor.is_authenticated:
        return frozenset()
    parties = set()
    if actor.id == review.rep_id:
        parties.add(Party.REVIEWEE)
    if actor.id == review.manager_id:
        parties.add(Party.REVIEWER)
    elif actor.role == Role.MANAGER and review.rep_id in subordinate_ids(actor.id):
        parties.add(Party.ABOVE)
    if _is_hr(actor):
        parties.add(Party.HR)
    return frozenset(parties)


def is_peer(actor: User, review) -> bool:
    """The actor was asked for feedback on the review (a nomination the manager approved)."""
    # Imported here: the peers package imports this module.
    from reviewapp.peers.models import ASKED, PeerRequest

    if not actor.is_authenticated:
        return False
    return db.session.scalar(sa.select(PeerRequest.id).where(
        PeerRequest.review_id == review.id, PeerRequest.peer_id == actor.id,
        PeerRequest.state.in_(ASKED))) is not None


def _parties_for(actor: User, review, rule: ReviewRule) -> set[Party]:
    """The actor's parties to the review that the rule names (PEER only when it names it)."""
    parties = set(review_parties(actor, review) & set(rule.who))
    if Party.PEER in rule.who and is_peer(actor, review):
        parties.add(Party.PEER)
    return parties


def review_action_refusal(actor: User, review, action: ReviewAction,
                          today: date | None = None) -> ServiceError | None:
    """Why the actor may not take the action now (NotAllowed or ActionUnavailable), or None."""
    rule = REVIEW_ACTIONS[action]
    parties = _parties_for(actor, review, rule)
    if not parties:
        return NotAllowed("You may not do that on this review.")
    in_state = {p for p in parties if review.state in rule.who[p]}
    if not in_state:
        states = sorted({s for p in parties for s in rule.who[p]}, key=lambda s: s.rank)
        words = [s.phrase for s in states]
        where = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
        return ActionUnavailable(
            f"{ACTION_WORDS.get(action, 'That')} is only possible while the review is {where}; "
            f"this one is {review.state.phrase}.")
    if rule.unless is not None and in_state <= rule.unless_for:
        message = rule.unless(review, today or date.today())
        if message:
            return ActionUnavailable(message)
    return None


def may(actor: User, review, action: ReviewAction, today: date | None = None) -> bool:
    """The actor may take the action on the review now."""
    return review_action_refusal(actor, review, action, today) is None


def may_attempt(actor: User, review, action: ReviewAction) -> bool:
    """The actor is someone who may take the action in some state (so a refusal now is about
    the state, not about who they are)."""
    return bool(_parties_for(actor, review, REVIEW_ACTIONS[action]))


def allowed_review_actions(actor: User, review, today: date | None = None) -> frozenset:
    """Every action the actor may take on the review now (for buttons and sections)."""
    return frozenset(a for a in REVIEW_ACTIONS if may(actor, review, a, today))


def authorize_review_action(actor: User | None, review, action: ReviewAction,
                            today: date | None = None) -> ReviewState | None:
    """Raise NotAllowed or ActionUnavailable unless the actor may act; return the target state."""
    refusal = review_action_refusal(actor, review, action, today)
    if refusal is not None:
        raise refusal
    return REVIEW_ACTIONS[action].to


def can_see_self_assessment(actor: User, review) -> bool:
    """The rep always; everyone else once it has been submitted (a draft stays private)."""
    return may(actor, review, ReviewAction.SEE_SELF_ASSESSMENT)


def can_see_manager_side(actor: User, review) -> bool:
    """The reviewing manager from manager review on; HR and higher managers from calibration
    (until then it is the manager's draft); the rep only once the review is shared."""
    return may(actor, review, ReviewAction.SEE_MANAGER_SIDE)


def can_see_review_scores(actor: User, review) -> bool:
    """Scores in a cycle's overview: whoever may see the manager's side (the KPI side before
    the manager's review is written is shown to the reviewer too)."""
    if Party.REVIEWER in review_parties(actor, review):
        return True
    return can_see_manager_side(actor, review)


# Email: the outbox and reminders -------------------------------------------------------------


def can_read_outbox(actor: User) -> bool:
    """Every email ReviewApp wrote, its delivery and its failures; retry them: HR."""
    return _is_hr(actor)


def can_send_reminders(actor: User) -> bool:
    """Remind one person, or everyone overdue, of their open steps in a cycle: HR."""
    return _is_hr(actor)


# Review records (PDF) ------------------------------------------------------------------------


def can_download_record(actor: User, record) -> bool:
    """A stored record: as REVIEW_ACTIONS says for DOWNLOAD_RECORD; a superseded one (of a
    review that was reopened) only HR."""
    if not may(actor, record.review, ReviewAction.DOWNLOAD_RECORD):
        return False
    return not record.superseded or _is_hr(actor)


def can_download_cycle_records(actor: User) -> bool:
    """The ZIP of a cycle's records: HR all of them, a manager those of their people."""
    return actor.is_authenticated and actor.role in (Role.MANAGER, Role.HR_ADMIN)


def can_manage_records(actor: User) -> bool:
    """Render what is missing and retry failed renderings: HR."""
    return _is_hr(actor)


def cycle_records_clause(actor: User, rep_id_column, manager_id_column) -> sa.ColumnElement[bool]:
    """Whose records the actor's cycle ZIP holds, as a WHERE clause on Review's columns: HR
    everyone's; a manager those of the reps below them and of the reviews they wrote."""
    if _is_hr(actor):
        return sa.true()
    if not can_download_cycle_records(actor):
        return sa.false()
    return sa.or_(among(rep_id_column, subordinate_ids(actor.id)), manager_id_column == actor.id)
