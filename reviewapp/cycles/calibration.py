"""What the calibration page of a cycle reads and works out.

Only reviews from calibration on count: before that a manager's ratings are a draft. Every
counted review enters the organisation's figures; the viewer sees in full (names, per-rep
points, notes) only the reviews policy lets them see with their scores: HR everyone, a manager
the reviews they write and those of the reps below them. Everyone else is one anonymised
group, "the rest of the organisation", never split by manager; when it would hold one to three
people it is not shown at all, nor anything compared with the organisation (one could work
their scores out from it).

Each manager's figures and the organisation's baseline always use the whole cycle: the team,
manager and "changed in calibration" filters narrow the people listed, never a flag.

Leniency and "ratings against the numbers" use the manager's own ratings (before calibration):
they measure the rater. Distributions, divergence, the 9-box and the self–manager gaps use the
ratings that count (the calibrated one where calibration changed it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from reviewapp import policy
from reviewapp.analytics import calibration as analysis
from reviewapp.auth.models import User
from reviewapp.cycles.models import Cycle
from reviewapp.extensions import db
from reviewapp.reviews.models import CompetencyRating, Review
from reviewapp.reviews.scoring import DIVERGENCE_THRESHOLD

COUNTED = sorted(policy.FROM_CALIBRATION, key=lambda s: s.rank)
SCORES = (("overall", "Overall"), ("quant", "KPI (quantitative)"), ("qual", "Qualitative"))


class FilterError(ValueError):
    """A filter value that is not one of the page's choices."""


@dataclass(frozen=True)
class Filters:
    team_id: int | None = None
    manager_id: int | None = None
    changed: bool = False

    @property
    def active(self) -> bool:
        return self.team_id is not None or self.manager_id is not None or self.changed

    def match(self, person: Person) -> bool:
        return ((self.team_id is None or person.review.rep.team_id == self.team_id)
                and (self.manager_id is None or person.review.manager_id == self.manager_id)
                and (not self.changed or bool(person.changed)))


@dataclass
class Person:
    """One counted review as the page shows it."""

    review: Review
    full: bool  # the viewer may see it in full
    self_visible: bool
    manager_qual: float | None  # mean of the manager's own ratings, before calibration
    changed: list[CompetencyRating]  # ratings calibration adjusted


@dataclass
class ManagerRow:
    manager: User
    leniency: analysis.Leniency
    spread: analysis.Spread
    numbers: analysis.AgainstNumbers
    scores: dict[str, analysis.Distribution | None]

    def flags(self, comparable: bool) -> list[str]:
        if not comparable:
            return []
        out = []
        if self.leniency.flagged:
            out.append("rates higher than the organisation" if self.leniency.direction
                       == "lenient" else "rates lower than the organisation")
        if self.spread.flagged:
            out.append("central tendency")
        if self.numbers.flagged:
            out.append("high ratings, average numbers")
        return out


@dataclass
class ScoreGroup:
    label: str
    kind: str  # org | rest | selection | manager
    scores: dict[str, analysis.Distribution | None]


@dataclass
class CalibrationPage:
    cycle: Cycle
    hr: bool
    filters: Filters
    error: str | None
    team_choices: list[tuple[int, str]]
    manager_choices: list[tuple[int, str]]
    counted: int  # reviews from calibration on, the organisation
    drafts: int  # reviews the viewer may see that have not reached calibration
    others: int  # counted reviews the viewer may not see in full
    comparable: bool
    people: list[Person]  # the viewer's people, filtered
    managers: list[ManagerRow]
    groups: list[ScoreGroup]
    org_qual: float | None
    org_quant: float | None
    org_share_middle: float | None
    org_sd: float | None
    gaps: list[tuple[Person, analysis.Gap, CompetencyRating]]
    divergent: list[tuple[Person, analysis.Divergence]]
    box: analysis.NineBox
    by_review: dict[int, Person] = field(default_factory=dict)
    competency_names: dict[int, str] = field(default_factory=dict)

    @property
    def points(self) -> list[Person]:
        """Per-rep points of the scatter: the viewer's people with both sides scored."""
        return [p for p in self.people
                if p.manager_qual is not None and p.review.quant_score is not None]

    @property
    def changed(self) -> list[tuple[Person, CompetencyRating]]:
        return [(p, r) for p in self.people for r in p.changed]


def counted_reviews(cycle: Cycle) -> list[Review]:
    """The cycle's reviews from calibration on, with reps, teams, reviewers and ratings, in a
    fixed number of statements."""
    return list(db.session.scalars(
        sa.select(Review).join(User, User.id == Review.rep_id)
        .where(Review.cycle_id == cycle.id, Review.state.in_(COUNTED))
        .options(joinedload(Review.rep).joinedload(User.team), joinedload(Review.manager),
                 selectinload(Review.ratings).joinedload(CompetencyRating.calibrated_by))
        .order_by(User.name, Review.id)))


def _drafts(cycle: Cycle, actor: User) -> int:
    """Reviews the actor may see that have not reached calibration yet."""
    query = sa.select(sa.func.count()).select_from(Review).where(
        Review.cycle_id == cycle.id, Review.state.not_in(COUNTED))
    scope = policy.people_scope_ids(actor)
    if scope is not None:
        query = query.where(sa.or_(Review.rep_id.in_(scope), Review.manager_id == actor.id))
    return db.session.scalar(query) or 0


def _pick(args: Mapping, name: str, choices: list[tuple[int, str]], what: str) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise FilterError(f"“{raw}” is not a {what}: choose one from the list.") from None
    if value not in {key for key, _ in choices}:
        raise FilterError(f"None of the reviews you can see in calibration belongs to that "
                          f"{what}: choose one from the list.")
    return value


def parse_filters(args: Mapping, teams: list[tuple[int, str]],
                  managers: list[tuple[int, str]]) -> Filters:
    """The page's filters from the query string; FilterError names the first bad one."""
    changed = (args.get("changed") or "").strip()
    if changed not in ("", "0", "1"):
        raise FilterError("“Changed in calibration” is either on (1) or off.")
    return Filters(_pick(args, "team", teams, "team"), _pick(args, "manager", managers,
                                                                 "manager"), changed == "1")


def _person(actor: User, review: Review) -> Person:
    full = policy.can_view_review(actor, review) and policy.can_see_review_scores(actor, review)
    own = [r.manager_rating for r in review.ratings if r.manager_rating is not None]
    return Person(review, full, full and policy.can_see_self_assessment(actor, review),
                  sum(own) / len(own) if own else None,
                  [r for r in review.ratings if r.calibrated_rating is not None])


def _frames(people: list[Person]) -> tuple[pd.DataFrame, pd.DataFrame]:
    ratings = pd.DataFrame(
        [{"review": p.review.id, "rater": p.review.manager_id, "rating": r.manager_rating}
         for p in people for r in p.review.ratings], columns=["review", "rater", "rating"])
    reviews = pd.DataFrame(
        [{"review": p.review.id, "rater": p.review.manager_id, "quant": p.review.quant_score,
          "qual": p.review.qual_score, "overall": p.review.overall_score,
          "potential": p.review.potential} for p in people],
        columns=["review", "rater", "quant", "qual", "overall", "potential"])
    return ratings, reviews


def _scores(people: list[Person]) -> dict[str, analysis.Distribution | None]:
    return {key: analysis.describe(getattr(p.review, f"{key}_score") for p in people)
            for key, _ in SCORES}


def _choices(pairs) -> list[tuple[int, str]]:
    return sorted(set(pairs), key=lambda pair: (pair[1].casefold(), pair[0]))


def calibration_page(cycle: Cycle, actor: User, args: Mapping) -> CalibrationPage:
    """Everything the calibration page shows to this actor."""
    everyone = [_person(actor, r) for r in counted_reviews(cycle)]
    visible = [p for p in everyone if p.full]
    teams = _choices((p.review.rep.team.id, p.review.rep.team.name) for p in visible
                     if p.review.rep.team is not None)
    managers = _choices((p.review.manager.id, p.review.manager.name) for p in visible
                        if p.review.manager is not None)
    try:
        filters, error = parse_filters(args, teams, managers), None
    except FilterError as refused:
        filters, error = Filters(), str(refused)
    people = [p for p in visible if filters.match(p)]
    hr = policy.sees_everyone(actor)
    others = len(everyone) - len(visible)
    comparable = hr or analysis.comparable(others)

    ratings, reviews = _frames(everyone)
    leniency = {row.rater: row for row in analysis.leniency(ratings)}
    spread = {row.rater: row for row in analysis.central_tendency(ratings)}
    numbers = {row.rater: row for row in analysis.against_numbers(ratings, reviews)}
    by_rater: dict[int, list[Person]] = {}
    for p in everyone:
        if p.review.manager_id is not None:
            by_rater.setdefault(p.review.manager_id, []).append(p)
    shown_raters = {p.review.manager_id for p in people}
    rows = [ManagerRow(group[0].review.manager, leniency[rater], spread[rater], numbers[rater],
                       _scores(group))
            for rater, group in by_rater.items()
            # A manager is named only when every one of their reviews is the viewer's to see.
            if rater in shown_raters and rater in leniency and all(p.full for p in group)]
    rows.sort(key=lambda row: row.manager.name.casefold())

    groups = []
    if comparable:
        groups.append(ScoreGroup("Organisation", "org", _scores(everyone)))
        if others:
            groups.append(ScoreGroup("The rest of the organisation", "rest",
                                     _scores([p for p in everyone if not p.full])))
    if filters.active:
        groups.append(ScoreGroup("Your selection", "selection", _scores(people)))
    groups += [ScoreGroup(row.manager.name, "manager", row.scores) for row in rows]

    any_spread = next(iter(spread.values()), None)
    org_qual = analysis.describe(p.manager_qual for p in everyone)
    org_quant = analysis.describe(p.review.quant_score for p in everyone)
    names = {c.id: c.name for c in cycle.competencies}
    by_review = {p.review.id: p for p in people}
    rating_of = {(p.review.id, r.cycle_competency_id): r for p in people for r in p.review.ratings}
    pairs = pd.DataFrame(
        [{"review": p.review.id, "competency": r.cycle_competency_id,
          "self_rating": r.self_rating, "manager_rating": r.rating}
         for p in people if p.self_visible for r in p.review.ratings],
        columns=["review", "competency", "self_rating", "manager_rating"])
    focus = reviews[reviews["review"].isin(list(by_review))]
    return CalibrationPage(
        cycle=cycle, hr=hr, filters=filters, error=error, team_choices=teams,
        manager_choices=managers, counted=len(everyone), drafts=_drafts(cycle, actor),
        others=others, comparable=comparable, people=people, managers=rows, groups=groups,
        org_qual=org_qual.mean if org_qual else None,
        org_quant=org_quant.mean if org_quant else None,
        org_share_middle=any_spread.org_share_middle if any_spread else None,
        org_sd=any_spread.org_sd if any_spread else None,
        gaps=[(by_review[g.review], g, rating_of[(g.review, g.competency)])
              for g in analysis.self_manager_gaps(pairs)],
        divergent=[(by_review[d.review], d)
                   for d in analysis.divergences(focus, DIVERGENCE_THRESHOLD)],
        box=analysis.nine_box(focus), by_review=by_review, competency_names=names)
