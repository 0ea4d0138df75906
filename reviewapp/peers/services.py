"""Peer feedback on a review: the rep nominates colleagues, the manager approves, removes or
adds, each peer answers per competency (or declines with a reason).

Every action asks policy.REVIEW_ACTIONS; services flush and never commit. Answering never
touches the review's own row (its "saved by" would name the peer), sends no notification (its
time would point at the peer) and is audited on the request, which only HR can read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from reviewapp import policy, text_limits
from reviewapp.audit.services import record
from reviewapp.auth.models import Role, User
from reviewapp.errors import ActionUnavailable, NotAllowed, ServiceError
from reviewapp.extensions import db
from reviewapp.model_types import among
from reviewapp.notifications.services import notify, settle
from reviewapp.pagination import MAX_QUERY_LENGTH, search_clause
from reviewapp.peers.aggregate import Round
from reviewapp.peers.models import HOLDING, PeerAnswer, PeerRequest, PeerRequestState
from reviewapp.policy import ReviewAction
from reviewapp.reviews.models import Review
from reviewapp.reviews.states import ReviewState

S = PeerRequestState
MAX_REVIEWERS = 12  # the database allows at most this many peers per review
MIN_RESPONSES = 3  # below three, each of two peers could work out the other's answer


# The cycle's settings ------------------------------------------------------------------------


@dataclass(frozen=True)
class PeerSettings:
    """HR's per-cycle choices: whether peers are asked, how many, how many answers must be in
    before any is shown, and the last day to answer."""

    enabled: bool = False
    reviewers: int = 5
    min_responses: int = MIN_RESPONSES
    due: date | None = None


def check_settings(settings: PeerSettings, manager_due: date | None) -> None:
    """Refuse settings that could not keep answers anonymous or arrive in time."""
    if not MIN_RESPONSES <= settings.min_responses <= MAX_REVIEWERS:
        raise ServiceError(f"The minimum is between {MIN_RESPONSES} and {MAX_REVIEWERS}: with "
                           "fewer than three answers a peer could work out another's.",
                           field="peer_min_responses")
    if not settings.min_responses <= settings.reviewers <= MAX_REVIEWERS:
        raise ServiceError(f"Ask between {settings.min_responses} (the minimum of answers) and "
                           f"{MAX_REVIEWERS} peers.", field="peer_reviewers")
    if settings.enabled and settings.due is None:
        raise ServiceError("Enter the last day peers can answer.", field="peer_due")
    if settings.enabled and manager_due is not None and settings.due > manager_due:
        raise ServiceError("Peers must answer by the manager review deadline, so that the "
                           "manager reads their answers while reviewing.", field="peer_due")


def apply_settings(cycle, settings: PeerSettings) -> None:
    """Store checked settings on a cycle (the caller audits the cycle's save)."""
    check_settings(settings, cycle.manager_due)
    cycle.peer_feedback, cycle.peer_reviewers = settings.enabled, settings.reviewers
    cycle.peer_min_responses, cycle.peer_due = settings.min_responses, settings.due


def settings_of(cycle) -> PeerSettings:
    return PeerSettings(bool(cycle.peer_feedback), cycle.peer_reviewers,
                        cycle.peer_min_responses, cycle.peer_due)


# Reading -------------------------------------------------------------------------------------


def requests_of(review: Review) -> list[PeerRequest]:
    """The review's requests with their peers, by the peer's name."""
    return list(db.session.scalars(
        sa.select(PeerRequest).join(User, User.id == PeerRequest.peer_id)
        .where(PeerRequest.review_id == review.id)
        .options(sa.orm.contains_eager(PeerRequest.peer)).order_by(User.name)))


def was_finalised(review: Review) -> bool:
    """Whether the review is or has been finalised (a record of it exists)."""
    from reviewapp.records.models import ReviewRecord

    return review.state == ReviewState.FINALIZED or bool(db.session.scalar(
        sa.select(sa.exists().where(ReviewRecord.review_id == review.id))))


def round_of(review: Review, requests: list[PeerRequest] | None = None) -> Round:
    """Counts of the review's requests (from the requests if given, else one query)."""
    if requests is None:
        counts = dict(db.session.execute(
            sa.select(PeerRequest.state, sa.func.count()).where(
                PeerRequest.review_id == review.id).group_by(PeerRequest.state)).all())
    else:
        counts = {s: sum(1 for r in requests if r.state == s) for s in S}
    pending, answered = counts.get(S.REQUESTED, 0), counts.get(S.ANSWERED, 0)
    return Round(asked=pending + answered + counts.get(S.DECLINED, 0), pending=pending,
                 answered=answered, minimum=review.cycle.peer_min_responses,
                 due=review.cycle.peer_due, finalised=was_finalised(review))


CANDIDATES_SHOWN = 50  # the picker's length; a search finds anyone else


@dataclass(frozen=True)
class Candidates:
    """Colleagues the picker offers: the rep's own team first, then by name, at most
    CANDIDATES_SHOWN of `total` who could be asked (matching `q` when searched)."""

    people: list[User]
    total: int
    q: str = ""

    @property
    def more(self) -> int:
        return self.total - len(self.people)


def candidates(review: Review, requests: list[PeerRequest], q: str = "") -> Candidates:
    """Active colleagues who could still be asked: not the rep, the reviewer or the managers
    above the rep, not already nominated, asked, removed or declined. An organisation of
    thousands is not one drop-down of thousands: the list holds the nearest CANDIDATES_SHOWN
    and `q` (name or email words) finds the rest, both in SQL."""
    taken = {r.peer_id for r in requests} | {review.rep_id, review.manager_id}
    boss = review.rep.manager  # the managers above the rep read the aggregate: never peers
    while boss is not None and boss.id not in taken:
        taken.add(boss.id)
        boss = boss.manager
    q = " ".join(q.split())[:MAX_QUERY_LENGTH]
    query = sa.select(User).where(User.active, ~among(User.id, {t for t in taken if t}),
                                  search_clause(q, [User.name, User.email]))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    team_first = sa.case((User.team_id == review.rep.team_id, 0), else_=1) \
        if review.rep.team_id else sa.literal(0)
    people = list(db.session.scalars(
        query.options(sa.orm.selectinload(User.team))
        .order_by(team_first, User.name, User.id).limit(CANDIDATES_SHOWN)))
    return Candidates(people=people, total=total, q=q)


# The rep nominates, the manager decides ------------------------------------------------------


def _link(review: Review) -> str:
    return f"/reviews/{review.id}#peers"


def _refuse_if_closed(review: Review, requests: list[PeerRequest], today: date) -> None:
    if round_of(review, requests).closed(today):
        raise ActionUnavailable(
            "The peer answers for this review are complete and shown; asking anyone else now "
            "would let the aggregate before and after their answer be compared.")


def _peer(review: Review, requests: list[PeerRequest], peer_id: int | None, field: str, *,
          by_manager: bool = False) -> User:
    """A colleague who may be asked about this review (one the manager removed only by the
    manager)."""
    user = db.session.get(User, peer_id) if peer_id is not None else None
    if user is None or not user.active:
        raise ServiceError("Choose active colleagues from the list.", field=field)
    if user.id == review.rep_id:
        raise ServiceError("You cannot give feedback on your own review.", field=field)
    if user.id == review.manager_id:
        raise ServiceError(f"{user.name} writes this review; peers are other colleagues.",
                           field=field)
    if user.role == Role.MANAGER and policy.in_scope(user, review.rep_id):
        # They read the aggregate from calibration on: their own answer taken out of it
        # would show the others'.
        raise ServiceError(f"{user.name} is one of {review.rep.name}'s managers and reads "
                           "the peers' answers together; peers are other colleagues.",
                           field=field)
    earlier = next((r for r in requests if r.peer_id == user.id), None)
    if earlier is not None and earlier.state == S.REMOVED and not by_manager:
        raise ServiceError(f"{user.name} was removed by the manager; choose someone else.",
                           field=field)
    if earlier is not None and earlier.state != S.REMOVED:
        raise ServiceError(f"{user.name} is already {earlier.state.label}.", field=field)
    return user


def _room(review: Review, requests: list[PeerRequest], adding: int, field: str) -> None:
    holding = sum(1 for r in requests if r.state in HOLDING)
    limit = review.cycle.peer_reviewers
    if holding + adding > limit:
        raise ServiceError(f"At most {limit} peers per review in this cycle ({holding} "
                           "already).", field=field)


def _ask(review: Review, requests: list[PeerRequest], user: User, actor: User,
         state: PeerRequestState) -> PeerRequest:
    request = next((r for r in requests if r.peer_id == user.id), None)
    if request is None:
        request = PeerRequest(review_id=review.id, peer_id=user.id, nominated_by_id=actor.id)
        db.session.add(request)
        requests.append(request)
    request.state = state
    if state == S.REQUESTED:
        request.decided_by_id = actor.id
    return request


def _tell_peer(actor: User, review: Review, request: PeerRequest) -> None:
    from reviewapp.notifications import events

    events.peer_feedback_requested(actor, review, request)


def nominate(actor: User, review: Review, peer_ids: Iterable[int], *,
             today: date | None = None) -> list[PeerRequest]:
    """The rep proposes colleagues; the manager then approves, removes or adds."""
    today = today or date.today()
    policy.authorize_review_action(actor, review, ReviewAction.NOMINATE_PEERS, today)
    requests = requests_of(review)
    _refuse_if_closed(review, requests, today)
    wanted = list(dict.fromkeys(peer_ids))
    if not wanted:
        raise ServiceError("Choose the colleagues you would like to hear from.", field="peers")
    people = [_peer(review, requests, peer_id, "peers") for peer_id in wanted]
    _room(review, requests, len(people), "peers")
    holding = sum(1 for r in requests if r.state in HOLDING)
    minimum = review.cycle.peer_min_responses
    if holding + len(people) < minimum:
        raise ServiceError(f"Nominate at least {minimum} colleagues: fewer answers than that "
                           "are never shown, to keep them anonymous.", field="peers")
    made = [_ask(review, requests, user, actor, S.PROPOSED) for user in people]
    db.session.flush()
    record(actor, "review.peer_nominate", "review", review.id,
           after={"peers": [u.name for u in people]})
    colleagues = "1 colleague" if len(people) == 1 else f"{len(people)} colleagues"
    notify(review.manager_id, f"{review.rep.name} nominated {colleagues} for peer "
           "feedback: approve or change them.", _link(review))
    return made


def approve(actor: User, review: Review, *, today: date | None = None) -> list[PeerRequest]:
    """The manager asks every colleague the rep nominated (and not removed)."""
    today = today or date.today()
    policy.authorize_review_action(actor, review, ReviewAction.DECIDE_PEERS, today)
    requests = requests_of(review)
    _refuse_if_closed(review, requests, today)
    proposed = [r for r in requests if r.state == S.PROPOSED]
    if not proposed:
        raise ActionUnavailable("No nomination is waiting for your approval.")
    for request in proposed:
        request.state, request.decided_by_id = S.REQUESTED, actor.id
    db.session.flush()
    for request in proposed:
        _tell_peer(actor, review, request)
    record(actor, "review.peer_approve", "review", review.id,
           after={"peers": [r.peer.name for r in proposed]})
    return proposed


def remove(actor: User, review: Review, request_id: int, *, today: date | None = None) -> None:
    """The manager takes a nomination off before the peer is asked (an asked peer stays asked:
    only they can decline)."""
    policy.authorize_review_action(actor, review, ReviewAction.DECIDE_PEERS, today)
    request = next((r for r in requests_of(review) if r.id == request_id), None)
    if request is None:
        raise ServiceError("That nomination is not part of this review.")
    if request.state != S.PROPOSED:
        raise ActionUnavailable(f"{request.peer.name} has been asked already; only a "
                                "nomination that is still waiting can be removed.")
    request.state, request.decided_by_id = S.REMOVED, actor.id
    db.session.flush()
    record(actor, "review.peer_remove", "review", review.id,
           after={"peer": request.peer.name})


def add(actor: User, review: Review, peer_id: int | None, *,
        today: date | None = None) -> PeerRequest:
    """The manager asks a colleague of their own choosing."""
    today = today or date.today()
    policy.authorize_review_action(actor, review, ReviewAction.DECIDE_PEERS, today)
    requests = requests_of(review)
    _refuse_if_closed(review, requests, today)
    user = _peer(review, requests, peer_id, "peer", by_manager=True)
    _room(review, requests, 1, "peer")
    request = _ask(review, requests, user, actor, S.REQUESTED)
    db.session.flush()
    _tell_peer(actor, review, request)
    record(actor, "review.peer_add", "review", review.id, after={"peer": user.name})
    return request


# The peer answers ----------------------------------------------------------------------------


CLOSED_AT_FINALISING = ("This review was finalised with the answers given by then, so peer "
                        "feedback on it is closed.")


def is_open(request: PeerRequest, actor: User, today: date | None = None) -> bool:
    """Whether the actor may still answer or decline this request."""
    return (request.state == S.REQUESTED and request.peer_id == actor.id
            and policy.may(actor, request.review, ReviewAction.ANSWER_PEER, today)
            and not was_finalised(request.review))


def _own_open_request(actor: User, request: PeerRequest, today: date) -> None:
    if request.peer_id != actor.id:
        raise NotAllowed("Only the colleague asked may answer this request.")
    policy.authorize_review_action(actor, request.review, ReviewAction.ANSWER_PEER, today)
    _own_open_request_state(request)
    if was_finalised(request.review):
        raise ActionUnavailable(CLOSED_AT_FINALISING)


def _own_open_request_state(request: PeerRequest) -> None:
    if request.state == S.ANSWERED:
        raise ActionUnavailable("You have answered this request; answers cannot be changed.")
    if request.state == S.DECLINED:
        raise ActionUnavailable("You declined this request.")


def _claim(request: PeerRequest, to: PeerRequestState, **values: object) -> None:
    """Move the request from asked to answered or declined, only if nobody moved it since it was
    read: an answer and a decline sent at once (two tabs, a double click) leave one of them,
    never a declined request with answers that the summary would count."""
    claimed = db.session.execute(
        sa.update(PeerRequest)
        .where(PeerRequest.id == request.id, PeerRequest.state == S.REQUESTED)
        .values(state=to, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.refresh(request)
        _own_open_request_state(request)
        raise ActionUnavailable("This request is no longer open.")
    db.session.refresh(request)


def answer(actor: User, request: PeerRequest, ratings: dict[int, tuple[int | None, str]], *,
           today: date | None = None) -> None:
    """The peer's answer: per competency of the cycle a 1–5 rating with one concrete example,
    or "not observed" (None). At least one competency must be rated. Final once given."""
    today = today or date.today()
    _own_open_request(actor, request, today)
    competencies = request.review.cycle.competencies
    rows, rated = [], 0
    for competency in competencies:
        rating, example = ratings.get(competency.id, (None, ""))
        example = text_limits.check(example, text_limits.NOTE, f"example_{competency.id}",
                                    f"Your example for {competency.name}")
        if rating is not None:
            if not 1 <= int(rating) <= 5:
                raise ServiceError("Ratings run from 1 to 5.", field=f"rating_{competency.id}")
            if not example:
                raise ServiceError(f"Give one concrete example for your rating of "
                                   f"{competency.name}: what did you see them do?",
                                   field=f"example_{competency.id}")
            rated += 1
        rows.append(PeerAnswer(review_id=request.review_id, request_id=request.id,
                               cycle_competency_id=competency.id,
                               rating=None if rating is None else int(rating),
                               example=example if rating is not None else ""))
    if not rated:
        raise ServiceError("Rate at least one competency you have seen, or decline the "
                           "request if you have not worked with them.", field="form")
    _claim(request, S.ANSWERED)
    db.session.add_all(rows)
    db.session.flush()
    record(actor, "peer.answer", "peer_request", request.id)
    settle(actor.id, f"/peers/requests/{request.id}")  # "would value your feedback": done


def decline(actor: User, request: PeerRequest, reason: str, *,
            today: date | None = None) -> None:
    """The peer says no, with a reason the manager reads (they may ask someone else)."""
    today = today or date.today()
    _own_open_request(actor, request, today)
    reason = text_limits.check(reason, text_limits.NOTE, "reason", "Your reason")
    if not reason:
        raise ServiceError("Say why you decline (for example: we have not worked together "
                           "this quarter).", field="reason")
    _claim(request, S.DECLINED, decline_reason=reason)
    record(actor, "peer.decline", "peer_request", request.id, after={"reason": reason})
    settle(actor.id, f"/peers/requests/{request.id}")
    review = request.review
    notify(review.manager_id, f"{actor.name} declined to give feedback on {review.rep.name}'s "
           f"work: “{reason}”. You can ask someone else.", _link(review))
