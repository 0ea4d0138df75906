"""Peer feedback in a review record (PDF): per competency the counts, the median and the
examples, never a name. The record is built from plain values only (see records/content.py).

A finalised review's answers are frozen, so its round counts as complete; a draft record shows
what its reader may see on the page (the aggregate goes with the manager's side).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.peers.aggregate import LEVELS, summarise
from reviewapp.peers.models import PeerAnswer
from reviewapp.peers.services import round_of
from reviewapp.reviews.models import Review


def peer_record(review: Review, *, shows_manager_side: bool,
                today: date | None = None) -> dict | None:
    """The record's peer section, or None when the cycle asked no peers or the reader may not
    see their view."""
    if not review.cycle.peer_feedback or not shows_manager_side:
        return None
    rnd = round_of(review)
    shown = rnd.enough() and rnd.closed(today or date.today())  # closed once finalised
    out = {"minimum": rnd.minimum, "asked": rnd.asked, "shown": shown,
           "answered": rnd.answered if shown else None, "competencies": []}
    if not shown:
        return out
    rows = db.session.execute(
        sa.select(PeerAnswer.cycle_competency_id, PeerAnswer.rating, PeerAnswer.example)
        .where(PeerAnswer.review_id == review.id)).all()
    aggregates = summarise(rows, [c.id for c in review.cycle.competencies], rnd.minimum)
    for competency in review.cycle.competencies:
        a = aggregates[competency.id]
        out["competencies"].append({
            "name": competency.name, "rated": a.rated, "not_observed": a.not_observed,
            "shown": a.shown, "median": a.median,
            "distribution": dict(zip([str(level) for level in LEVELS], a.distribution,
                                     strict=True)) if a.shown else None,
            "examples": list(a.examples)})
    return out
