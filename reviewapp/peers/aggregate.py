"""What peers said about a review, as the rep and the manager may see it: per competency, how
many rated it, the distribution, the median and the examples, never who said what.

Pure functions over plain rows (no Flask, no database), so that the rules are tested on their
own. A round of requests is *closed* when its deadline has passed, or when enough peers have
answered and nobody asked is still to answer; only a closed round with enough answers is
shown. That way the aggregate is shown once and never changes afterwards: nobody can compare
it before and after one more person answers and so read that person's answer. Within a shown
round a competency that fewer than the minimum rated is not shown either, and examples are
listed in alphabetical order (never in the order the answers came in).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

LEVELS = (1, 2, 3, 4, 5)
DIFFERS = 1.5  # calibration lists a manager rating further than this from the peers' median


@dataclass(frozen=True)
class Round:
    """Where a review's requests stand (counts only: no names)."""

    asked: int  # requests the peers received (answered, declined or still open)
    pending: int  # asked and neither answered nor declined
    answered: int
    minimum: int
    due: date | None
    # The review has been finalised: its record holds the answers as they were, and a reopen
    # does not reopen peer feedback (a later answer would show in the difference).
    finalised: bool = False

    def closed(self, today: date) -> bool:
        """No further answer can change what is shown."""
        if self.finalised:
            return True
        past_due = self.due is not None and today > self.due
        return past_due or (self.answered >= self.minimum and self.pending == 0)

    def shown(self, today: date) -> bool:
        """Enough answers to keep them anonymous, and no more will come."""
        return self.answered >= self.minimum and self.closed(today)

    def enough(self) -> bool:
        return self.answered >= self.minimum


@dataclass(frozen=True)
class CompetencyAggregate:
    """Peers' view of one competency. Below the minimum, only that fact."""

    competency_id: int
    rated: int
    not_observed: int
    shown: bool
    distribution: tuple[int, ...] = ()  # how many rated 1, 2, 3, 4, 5
    median: float | None = None
    examples: tuple[str, ...] = ()


def summarise(rows: Iterable[tuple[int, int | None, str]], competency_ids: Iterable[int],
              minimum: int) -> dict[int, CompetencyAggregate]:
    """Per competency, from (competency id, rating or None for "not observed", example) rows
    of the answers of a shown round."""
    by_competency: dict[int, list[tuple[int | None, str]]] = {c: [] for c in competency_ids}
    for competency_id, rating, example in rows:
        if competency_id in by_competency:
            by_competency[competency_id].append((rating, example))
    out = {}
    for competency_id, answers in by_competency.items():
        ratings = [r for r, _ in answers if r is not None]
        not_observed = len(answers) - len(ratings)
        if len(ratings) < minimum:
            out[competency_id] = CompetencyAggregate(competency_id, len(ratings), not_observed,
                                                     shown=False)
            continue
        examples = sorted((e.strip() for r, e in answers if r is not None and e.strip()),
                          key=str.casefold)
        out[competency_id] = CompetencyAggregate(
            competency_id, len(ratings), not_observed, shown=True,
            distribution=tuple(ratings.count(level) for level in LEVELS),
            median=float(statistics.median(ratings)), examples=tuple(examples))
    return out


def differs(manager_rating: int | None, aggregate: CompetencyAggregate | None,
            threshold: float = DIFFERS) -> bool:
    """The manager's rating sits more than the threshold from the peers' median."""
    if manager_rating is None or aggregate is None or not aggregate.shown:
        return False
    return abs(manager_rating - aggregate.median) > threshold
