"""Calibration's "peer view differs": a rating that sits more than 1.5 points from the peers'
median, with the peers' examples. Only reviews the viewer sees in full are listed, only from
shown rounds, in a fixed number of statements for the whole page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.peers.aggregate import DIFFERS, CompetencyAggregate, Round, differs, summarise
from reviewapp.peers.models import PeerAnswer, PeerRequest, PeerRequestState

S = PeerRequestState


@dataclass(frozen=True)
class Difference:
    person: object  # cycles.calibration.Person
    competency: str
    rating: int
    calibrated: bool
    aggregate: CompetencyAggregate

    @property
    def gap(self) -> float:
        return self.rating - self.aggregate.median


def _rounds(reviews: list, today: date) -> dict[int, Round]:
    counts: dict[int, dict] = defaultdict(dict)
    for review_id, state, n in db.session.execute(
            sa.select(PeerRequest.review_id, PeerRequest.state, sa.func.count())
            .where(PeerRequest.review_id.in_([r.id for r in reviews]))
            .group_by(PeerRequest.review_id, PeerRequest.state)):
        counts[review_id][state] = n
    out = {}
    for review in reviews:
        c = counts.get(review.id, {})
        pending, answered = c.get(S.REQUESTED, 0), c.get(S.ANSWERED, 0)
        out[review.id] = Round(pending + answered + c.get(S.DECLINED, 0), pending, answered,
                               review.cycle.peer_min_responses, review.cycle.peer_due)
    return out


def peer_view_differs(page, today: date | None = None,
                      threshold: float = DIFFERS) -> list[Difference]:
    """The page's people whose rating (as it counts) differs from the peers' median."""
    today = today or date.today()
    if not page.cycle.peer_feedback or not page.people:
        return []
    reviews = [p.review for p in page.people]
    rounds = _rounds(reviews, today)
    shown = [r for r in reviews if rounds[r.id].shown(today)]
    if not shown:
        return []
    rows: dict[int, list] = defaultdict(list)
    for review_id, competency_id, rating, example in db.session.execute(
            sa.select(PeerAnswer.review_id, PeerAnswer.cycle_competency_id, PeerAnswer.rating,
                      PeerAnswer.example).where(PeerAnswer.review_id.in_([r.id for r in shown]))):
        rows[review_id].append((competency_id, rating, example))
    people = {p.review.id: p for p in page.people}
    ids = [c.id for c in page.cycle.competencies]
    out = []
    for review in shown:
        aggregates = summarise(rows[review.id], ids, page.cycle.peer_min_responses)
        for rating in review.ratings:
            aggregate = aggregates.get(rating.cycle_competency_id)
            if differs(rating.rating, aggregate, threshold):
                out.append(Difference(people[review.id],
                                      page.competency_names.get(rating.cycle_competency_id, ""),
                                      rating.rating, rating.calibrated_rating is not None,
                                      aggregate))
    return out
