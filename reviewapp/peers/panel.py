"""What the review page shows of peer feedback to the person looking at it.

The rep and the manager see who was nominated and asked (asked and answered look the same:
"asked"), counts, and, once the round is shown, the aggregate per competency. HR also gets a
link to who answered. Built once per request and review (the page asks per competency).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import g, request
from flask_login import current_user

from reviewapp import policy
from reviewapp.auth.models import User
from reviewapp.extensions import db
from reviewapp.peers.aggregate import CompetencyAggregate, Round, summarise
from reviewapp.peers.evidence import CustomerVoice, customer_voice, is_customer_competency
from reviewapp.peers.models import PeerAnswer, PeerRequestState
from reviewapp.peers.services import Candidates, candidates, requests_of, round_of
from reviewapp.policy import ReviewAction
from reviewapp.reviews.models import Review

S = PeerRequestState
# What the rep and the manager read about a request: answering never shows.
SHOWN_STATE = {S.PROPOSED: "waiting for the manager's approval", S.REQUESTED: "asked",
               S.ANSWERED: "asked", S.DECLINED: "declined", S.REMOVED: "removed"}


@dataclass(frozen=True)
class RequestLine:
    id: int
    name: str
    label: str
    reason: str  # a decline's reason, for the manager and HR only
    removable: bool


@dataclass
class PeerPanel:
    review: Review
    today: date
    round: Round
    requests: list[RequestLine] | None  # None: the viewer may not see who was asked
    aggregates: dict[int, CompetencyAggregate] | None  # None: not shown to this viewer
    can_nominate: bool
    can_decide: bool
    can_see_authors: bool
    waiting: int  # nominations waiting for the manager
    candidates: Candidates | None = None
    voice: CustomerVoice | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.review.cycle.peer_feedback)

    @property
    def status(self) -> str:
        """One sentence on where the answers stand, with no count below the minimum."""
        minimum = self.round.minimum
        if not self.round.enough():
            return (f"Not enough responses to keep them anonymous: peers' answers are shown "
                    f"once at least {minimum} have answered.")
        if not self.round.closed(self.today):
            due = self.round.due
            return ("Enough peers have answered. Their answers are shown once everyone asked "
                    "has answered or declined" + (f", or after {due:%d %b %Y}." if due else "."))
        return f"{self.round.answered} peers answered (of {self.round.asked} asked)."

    @property
    def closed(self) -> bool:
        """No one more may be asked (the answers are complete, or the deadline passed)."""
        return self.round.closed(self.today)

    def aggregate(self, competency_id: int) -> CompetencyAggregate | None:
        return (self.aggregates or {}).get(competency_id)

    def voice_for(self, competency) -> CustomerVoice | None:
        return self.voice if is_customer_competency(competency.name) else None


def aggregates_of(review: Review, rnd: Round, today: date) -> dict[int, CompetencyAggregate]:
    """The review's answers per competency if the round is shown, else {} (nothing read)."""
    if not rnd.shown(today):
        return {}
    rows = db.session.execute(
        sa.select(PeerAnswer.cycle_competency_id, PeerAnswer.rating, PeerAnswer.example)
        .where(PeerAnswer.review_id == review.id)).all()
    return summarise(rows, [c.id for c in review.cycle.competencies], rnd.minimum)


def build_panel(actor: User, review: Review, today: date | None = None,
                peer_q: str = "") -> PeerPanel:
    """The panel for this viewer (nothing of it is a secret the viewer may not know); `peer_q`
    searches the colleagues the picker offers."""
    today = today or date.today()
    enabled = bool(review.cycle.peer_feedback)
    sees_requests = enabled and policy.may(actor, review, ReviewAction.SEE_PEER_REQUESTS, today)
    requests = requests_of(review) if sees_requests else []
    rnd = round_of(review, requests if sees_requests or not enabled else None)
    can_nominate = policy.may(actor, review, ReviewAction.NOMINATE_PEERS, today)
    can_decide = policy.may(actor, review, ReviewAction.DECIDE_PEERS, today)
    # The reviewer keeps the decline reasons and removed nominations after their part is done.
    manager_view = can_decide or actor.id == review.manager_id or policy.may(
        actor, review, ReviewAction.SEE_PEER_AUTHORS, today)
    lines = None
    if sees_requests:
        lines = [RequestLine(r.id, r.peer.name, SHOWN_STATE[r.state],
                             r.decline_reason if manager_view else "",
                             can_decide and r.state == S.PROPOSED)
                 for r in requests if r.state != S.REMOVED or manager_view]
    aggregates = None
    if enabled and policy.may(actor, review, ReviewAction.SEE_PEER_AGGREGATE, today):
        aggregates = aggregates_of(review, rnd, today)
    panel = PeerPanel(
        review=review, today=today, round=rnd, requests=lines, aggregates=aggregates,
        can_nominate=can_nominate, can_decide=can_decide,
        can_see_authors=policy.may(actor, review, ReviewAction.SEE_PEER_AUTHORS, today),
        waiting=sum(1 for r in requests if r.state == S.PROPOSED))
    if can_nominate or can_decide:
        panel.candidates = candidates(review, requests, peer_q)
    if policy.can_see_manager_side(actor, review) or policy.may(
            actor, review, ReviewAction.SAVE_MANAGER, today):
        panel.voice = customer_voice(review)
    return panel


def peer_panel(review: Review) -> PeerPanel:
    """The panel for the current user, built once per request (a template global)."""
    cache = g.setdefault("_peer_panels", {})
    if review.id not in cache:
        cache[review.id] = build_panel(current_user, review,
                                       peer_q=request.args.get("peer_q", ""))
    return cache[review.id]
