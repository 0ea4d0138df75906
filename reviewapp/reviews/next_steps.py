"""Who acts next on a review, and which review waits for a manager next.

Both are read from policy.REVIEW_ACTIONS (the one table of action × state × who): the next
steps of a review are the transitions forward from its state, with the parties the table lets
take them now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from reviewapp import policy
from reviewapp.auth.models import Role, User
from reviewapp.extensions import db
from reviewapp.policy import ACTION_WORDS, REVIEW_ACTIONS, Party, ReviewAction
from reviewapp.reviews.models import Review

ROLES = {Party.REVIEWEE: "rep", Party.REVIEWER: "reviewing manager", Party.HR: "HR"}


@dataclass(frozen=True)
class NextStep:
    action: ReviewAction
    party: Party
    names: tuple[str, ...]  # who may take it (every HR administrator for HR)
    role: str
    what: str  # "submitting the self-assessment"


def _open_forward(review, today: date) -> list[tuple[ReviewAction, Party]]:
    """(action, party) for every transition forward that the table opens in the state now."""
    found = []
    for action, rule in REVIEW_ACTIONS.items():
        if rule.to is None or rule.to.rank <= review.state.rank:
            continue  # not a transition, or one back (return, reopen)
        for party, states in rule.who.items():
            if review.state not in states:
                continue
            if rule.unless is not None and party in rule.unless_for and rule.unless(review, today):
                continue  # e.g. finalising before the acknowledgement deadline
            found.append((action, party))
    return found


def _hr_names() -> tuple[str, ...]:
    return tuple(db.session.scalars(sa.select(User.name).where(
        User.role == Role.HR_ADMIN, User.active).order_by(User.name)))


def next_steps(review, today: date | None = None) -> list[NextStep]:
    """Who must act next on the review (name and role) and what they do; empty when nobody."""
    steps, hr = [], None
    for action, party in _open_forward(review, today or date.today()):
        if party == Party.HR:
            hr = _hr_names() if hr is None else hr
            names = hr
        elif party == Party.REVIEWEE:
            names = (review.rep.name,)
        else:
            names = (review.manager.name,) if review.manager else ()
        steps.append(NextStep(action, party, names, ROLES.get(party, party.value),
                              ACTION_WORDS.get(action, action.value).lower()))
    return steps


NEXT_SCAN = 20


def next_waiting_for(actor: User, review, today: date | None = None) -> Review | None:
    """The next review of the same cycle (by the rep's name) where the actor, as its reviewer,
    has a step forward open, other than this one."""
    theirs = [a for a, rule in REVIEW_ACTIONS.items()
              if rule.to is not None and Party.REVIEWER in rule.who]
    states = {s for a in theirs for s in REVIEW_ACTIONS[a].who[Party.REVIEWER]}
    # Only reviews in a state where the reviewer has a step forward, and only the first few by
    # name: a manager of 200 reps does not load 199 reviews to find the next one. The table's
    # further conditions are mostly the cycle's (a passed deadline, the cycle letting managers
    # share), the same for every candidate: when the first NEXT_SCAN fail them, so would the
    # rest. The link is a shortcut; the cycle page lists every review.
    candidates = db.session.scalars(
        sa.select(Review).join(User, User.id == Review.rep_id)
        .where(Review.cycle_id == review.cycle_id, Review.manager_id == actor.id,
               Review.id != review.id, Review.state.in_(sorted(states, key=lambda s: s.value)))
        .options(contains_eager(Review.rep), joinedload(Review.cycle))
        .order_by(User.name, Review.id).limit(NEXT_SCAN))
    for candidate in candidates:
        if any(policy.may(actor, candidate, a, today) for a in theirs):
            return candidate
    return None
