"""A review's workflow: every transition is one function that asks the policy who may do it.

Services flush and never commit; the request commits once. A save carries the version the user
started from; saving over a newer version raises ReviewConflict instead of overwriting.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from reviewapp import policy, text_limits
from reviewapp.audit.models import AuditEvent
from reviewapp.audit.services import record
from reviewapp.auth.models import User
from reviewapp.errors import Conflict, FieldErrors, NotAllowed, ServiceError
from reviewapp.extensions import db
from reviewapp.lazy import pd
from reviewapp.metrics import rollups
from reviewapp.metrics.data import load_observations, rolled_up
from reviewapp.metrics.periods import parse_period
from reviewapp.model_types import among
from reviewapp.notifications import events as email_events
from reviewapp.notifications.services import settle
from reviewapp.policy import ReviewAction
from reviewapp.reviews.models import KpiScore, Review, ReviewState
from reviewapp.reviews.scoring import (
    DIVERGENCE_THRESHOLD,
    Scores,
    attainment,
    band_score,
    combine,
)


class ReviewConflict(Conflict):
    """Someone saved the review after this user opened it."""

    def __init__(self, review: Review, actor: User | None = None):
        own = actor is not None and review.updated_by_id == actor.id
        who = ("You" if own else review.updated_by.name if review.updated_by else "Someone")
        when = review.updated_at.strftime("%Y-%m-%d %H:%M UTC") if review.updated_at else ""
        last = db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.entity_type == "review",
                                        AuditEvent.entity_id == review.id)
            .order_by(AuditEvent.id.desc()).limit(1))
        changed = ", ".join(sorted((last.after or {}).keys())) if last else ""
        detail = f" (changed: {changed})" if changed else ""
        where = " in another window or tab" if own else ""
        theirs = "that change" if own else "their changes"
        super().__init__(f"{who} saved this review{where} at {when}{detail} after this page "
                         f"was opened. What you typed here is kept on the page; read {theirs}, "
                         "then save again if it still applies.")


def now() -> datetime:
    return datetime.now(UTC)


def _check_version(review: Review, expected: int | None, actor: User | None = None) -> None:
    if expected is not None and int(expected) != review.version:
        raise ReviewConflict(review, actor)


def authorize(actor: User | None, review: Review, action: ReviewAction, *,
              expected_version: int | None, today: date | None = None) -> ReviewState | None:
    """policy.authorize_review_action for a form opened at `expected_version`: when someone
    changed the review since, the form loses as a ReviewConflict (409, the user's input kept
    on the page) even where the change also moved the review on (submitted, finalised), since
    the user acted on a page that is no longer there. Who may not act at all still gets 403."""
    refusal = policy.review_action_refusal(actor, review, action, today)
    if isinstance(refusal, NotAllowed):
        raise refusal
    _check_version(review, expected_version, actor)
    if refusal is not None:
        raise refusal
    return policy.REVIEW_ACTIONS[action].to


def flush_review(review: Review, actor: User | None = None) -> None:
    """Flush; a write that collides with another one's at the same moment (both read the same
    version) loses as a ReviewConflict, never as a crash (and says "you" when the other write
    was the actor's own: a double click, a second tab)."""
    review_id = review.id
    actor_id = actor.id if actor is not None else None
    try:
        db.session.flush()
    except StaleDataError:
        # The session is unusable after a failed flush; what the other save wrote is current.
        db.session.rollback()
        raise ReviewConflict(db.session.get(Review, review_id),
                             db.session.get(User, actor_id) if actor_id else None) from None


def touch(actor: User | None, review: Review) -> None:
    """Mark the review changed by the actor and flush, so that its version moves on whatever
    changed (its own columns or its ratings' and KPI scores' rows)."""
    review.updated_by_id = actor.id if actor else None
    review.updated_at = now()
    flush_review(review, actor)


def transition(actor: User | None, review: Review, action: ReviewAction, *,
                today: date | None = None, reason: str | None = None) -> None:
    to = policy.authorize_review_action(actor, review, action, today)
    before = review.state
    review.state = to
    touch(actor, review)
    record(actor, "review.state", "review", review.id, before={"state": before.value},
           after={"state": to.value}, reason=reason)
    # Whoever moved the review on has done what their notifications about it asked.
    settle(actor.id if actor else None, f"/reviews/{review.id}")


def _audit_changes(actor: User, review: Review, before: dict, after: dict, action: str) -> None:
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if changed:
        record(actor, action, "review", review.id,
               before={k: before.get(k) for k in changed}, after=changed)


# Numbers -------------------------------------------------------------------------------------


def kpi_actuals(review: Review) -> dict[int, float]:
    """The rep's actual per cycle KPI metric in the cycle's period, rolled up with the rule the
    cycle froze at launch (HR changing a metric's roll-up later changes no open review)."""
    cycle = review.cycle
    metric_ids = [k.metric_id for k in cycle.kpis]
    if not metric_ids:
        return {}
    grain = parse_period(cycle.period_label).grain
    frozen = {k.metric_id: k.frozen_rollup for k in cycle.kpis if k.frozen_rollup}
    if grain in rollups.GRAINS:  # months and quarters: read from the roll-up table
        return rollups.one_period(review.rep_id, metric_ids, grain, cycle.period_start,
                                  how=frozen)
    frame = load_observations([review.rep_id], metric_ids, start=cycle.period_start,
                              end=cycle.period_end)
    data = rolled_up(frame, grain, how=frozen)
    data = data[data["start"] == pd.Timestamp(cycle.period_start)]
    return dict(zip(data["metric"].tolist(), data["value"].tolist(), strict=True))


@dataclass(frozen=True)
class KpiLine:
    """One KPI of a review as it stands now: the stored row with its actual, attainment and
    computed score brought up to date while the review is open (read-only; nothing stored)."""

    row: KpiScore
    actual: float | None
    attainment: float | None
    computed_score: int | None

    def __getattr__(self, name):  # id, target, cycle_kpi, override_*: the stored row's
        return getattr(self.row, name)

    @property
    def score(self) -> int | None:
        """The override if there is one, else the computed score."""
        return self.override_score if self.override_score is not None else self.computed_score


def follows_data(review: Review) -> bool:
    """KPI actuals follow the data until the manager submits; from calibration they are fixed."""
    return review.state.rank < ReviewState.CALIBRATION.rank


def kpi_lines(review: Review) -> list[KpiLine]:
    """The review's KPI lines, recomputed from the data while the review follows it."""
    if not follows_data(review):
        return [KpiLine(s, s.actual, s.attainment, s.computed_score) for s in review.kpi_scores]
    actuals = kpi_actuals(review)
    lines = []
    for row in review.kpi_scores:
        actual = actuals.get(row.cycle_kpi.metric_id)
        value = attainment(actual, row.target, row.cycle_kpi.direction)
        lines.append(KpiLine(row, actual, value, band_score(value, review.cycle.bands)))
    return lines


def scores_of(review: Review, lines: list[KpiLine] | None = None) -> Scores:
    """The review's three scores as they stand (for display and the divergence rule)."""
    lines = kpi_lines(review) if lines is None else lines
    return combine([(line.score, line.cycle_kpi.weight) for line in lines],
                   [r.rating for r in review.ratings], review.cycle.quant_weight)


def refresh_scores(review: Review) -> Scores:
    """Store the KPI lines and the three scores as they stand (on a save or a transition)."""
    with db.session.no_autoflush:  # the caller's one flush is where a conflict shows
        lines = kpi_lines(review)
    for line in lines:
        if (cleared := _outdated_override(review, line)) is not None:
            for name, value in NO_OVERRIDE.items():
                setattr(line.row, name, value)
            _audit_cleared(review, cleared)
        line.row.actual, line.row.attainment = line.actual, line.attainment
        line.row.computed_score = line.computed_score
    scores = scores_of(review, lines)
    review.quant_score, review.qual_score = scores.quant, scores.qual
    review.overall_score, review.effective_quant_weight = scores.overall, scores.weight_used
    return scores


FOLLOWING = (ReviewState.SELF_REVIEW, ReviewState.MANAGER_REVIEW)


# A KPI line's columns with no override on it.
NO_OVERRIDE = {"override_score": None, "override_justification": "", "overridden_by_id": None,
               "overridden_at": None}


def _outdated_override(review: Review, line: KpiLine) -> dict | None:
    """An override made against a computed score that new data have since moved (corrected
    figures, a late import): a judgement of the old number, which the record would misstate
    ("overridden from 4 to 3" where the manager lowered nothing). What it was, or None."""
    row = line.row
    if row.override_score is None or line.computed_score == row.computed_score:
        return None
    return {"kpi": row.cycle_kpi.name, "override_score": row.override_score,
            "justification": row.override_justification, "computed": row.computed_score,
            "now_computed": line.computed_score}


def _audit_cleared(review: Review, was: dict) -> None:
    record(None, "review.override_cleared", "review", review.id,
           before={k: was[k] for k in ("kpi", "override_score", "justification", "computed")},
           after={"kpi": was["kpi"], "computed": was["now_computed"]},
           reason=f"The data behind {was['kpi']} changed (computed score "
                  f"{was['computed'] if was['computed'] is not None else 'none'} → "
                  f"{was['now_computed'] if was['now_computed'] is not None else 'none'}): "
                  "the override was made against the old figures, so the manager decides again.")


def refresh_following(box: rollups.Box | None) -> int:
    """After observations changed (an import, an undo), store afresh the KPI actuals and scores
    of the open reviews that follow that data, so that the cycle's lists and counts show what
    the review page shows. Derived numbers, not anyone's edit: written without moving the
    review's version, so a manager's open form stays current. Returns how many changed."""
    from reviewapp.cycles.models import Cycle, CycleKpi

    query = (sa.select(Review).join(Cycle, Cycle.id == Review.cycle_id)
             .where(Review.state.in_(FOLLOWING)))
    if box is not None:
        query = query.where(Cycle.period_start <= box.last, Cycle.period_end >= box.first)
        if box.rep_ids is not None:
            query = query.where(among(Review.rep_id, box.rep_ids))
        if box.metric_ids is not None:
            query = query.where(Review.cycle_id.in_(
                sa.select(CycleKpi.cycle_id).where(among(CycleKpi.metric_id, box.metric_ids))))
    changed = 0
    with db.session.no_autoflush:
        for review in db.session.scalars(query.options(
                selectinload(Review.kpi_scores), selectinload(Review.ratings))):
            lines = kpi_lines(review)
            for line in lines:
                row = line.row
                if (cleared := _outdated_override(review, line)) is not None:
                    db.session.execute(
                        sa.update(KpiScore).where(KpiScore.id == row.id)
                        .values(**NO_OVERRIDE).execution_options(synchronize_session=False))
                    for name, value in NO_OVERRIDE.items():
                        set_committed_value(row, name, value)  # as stored, not a new edit
                    _audit_cleared(review, cleared)
                if (row.actual, row.attainment, row.computed_score) != (
                        line.actual, line.attainment, line.computed_score):
                    db.session.execute(
                        sa.update(KpiScore).where(KpiScore.id == row.id)
                        .values(actual=line.actual, attainment=line.attainment,
                                computed_score=line.computed_score)
                        .execution_options(synchronize_session=False))
            scores = scores_of(review, lines)
            now_stored = (review.quant_score, review.qual_score, review.overall_score,
                          review.effective_quant_weight)
            fresh = (scores.quant, scores.qual, scores.overall, scores.weight_used)
            if now_stored != fresh:
                changed += 1
                db.session.execute(
                    sa.update(Review.__table__).where(Review.__table__.c.id == review.id)
                    .values(quant_score=scores.quant, qual_score=scores.qual,
                            overall_score=scores.overall,
                            effective_quant_weight=scores.weight_used))
    return changed


# The rep's self-assessment -------------------------------------------------------------------


@dataclass
class SelfAssessment:
    achievements: str
    goals_reflection: str
    development_wishes: str
    ratings: dict[int, tuple[int | None, str]]  # cycle competency id -> (rating, evidence)


def _snapshot(review: Review, side: str, text_fields) -> dict:
    snap = {name: getattr(review, name) for name in text_fields}
    for r in review.ratings:
        snap[f"{side}_rating_{r.cycle_competency_id}"] = getattr(r, f"{side}_rating")
        snap[f"{side}_note_{r.cycle_competency_id}"] = getattr(r, f"{side}_note")
    return snap


# The review page's texts by field name, as its forms label them: for a message in the list
# above the form, and for what a refused POST carried (views._unsaved).
TEXT_LABELS = {
    "achievements": "Achievements this period", "goals_reflection": "Reflection on your goals",
    "development_wishes": "What you want to develop", "strengths": "Strengths",
    "development_areas": "Development areas", "overall_comment": "Overall comment",
    "reconciliation_note": "Reconciliation note", "justification": "Justification",
    "comment": "Comment", "note": "What you wanted to talk about",
}


def _note_label(rating, note: str | None) -> str:
    """'The note on Collaboration', read only for a note too long to keep (the competency is
    loaded then, without flushing the half-written review)."""
    if len((note or "").strip()) <= text_limits.REVIEW_TEXT:
        return ""
    with db.session.no_autoflush:
        return f"The note on {rating.cycle_competency.competency.name}"


def _write_side(actor: User, review: Review, side: str, data, expected_version: int | None):
    """Write one side's texts and competency ratings (side is "self" or "manager"), audited."""
    _check_version(review, expected_version, actor)
    texts = {f.name: getattr(data, f.name) for f in fields(data) if f.name != "ratings"}
    before = _snapshot(review, side, texts)
    for name, value in texts.items():
        setattr(review, name, text_limits.check(value, text_limits.REVIEW_TEXT, name,
                                                TEXT_LABELS.get(name, name)))
    for rating in review.ratings:
        value, note = data.ratings.get(rating.cycle_competency_id, (None, ""))
        if value is not None and not 1 <= int(value) <= 5:
            raise ServiceError("Ratings run from 1 to 5.",
                               field=f"{side}_rating_{rating.cycle_competency_id}")
        setattr(rating, f"{side}_rating", value)
        setattr(rating, f"{side}_note", text_limits.check(
            note, text_limits.REVIEW_TEXT, f"{side}_note_{rating.cycle_competency_id}",
            _note_label(rating, note)))
    refresh_scores(review)
    touch(actor, review)
    _audit_changes(actor, review, before, _snapshot(review, side, texts), f"review.{side}_save")


def _require_every_rating(review: Review, side: str, evidence: str) -> None:
    """Refuse a submission naming every competency without a rating or a note, all at once."""
    problems = {}
    for rating in review.ratings:
        name, cid = rating.cycle_competency.name, rating.cycle_competency_id
        if getattr(rating, f"{side}_rating") is None:
            problems[f"{side}_rating_{cid}"] = f"Rate {name} before submitting."
        if not getattr(rating, f"{side}_note"):
            problems[f"{side}_note_{cid}"] = f"{name}: {evidence} before submitting."
    if problems:
        raise FieldErrors(problems)


def save_self(actor: User, review: Review, data: SelfAssessment, *,
              expected_version: int | None) -> None:
    """Save the rep's draft self-assessment (only the rep, only in self-review)."""
    authorize(actor, review, ReviewAction.SAVE_SELF, expected_version=expected_version)
    _write_side(actor, review, "self", data, expected_version)


def submit_self(actor: User, review: Review) -> None:
    """Hand the self-assessment to the manager; every competency needs a rating and evidence."""
    policy.authorize_review_action(actor, review, ReviewAction.SUBMIT_SELF)
    _require_every_rating(review, "self", "write your evidence")
    review.self_submitted_at = now()
    transition(actor, review, ReviewAction.SUBMIT_SELF)
    email_events.self_submitted(actor, review)


def skip_self(actor: User, review: Review, *, today: date | None = None) -> None:
    """Past the self-assessment deadline the manager may move on without it (recorded)."""
    policy.authorize_review_action(actor, review, ReviewAction.SKIP_SELF, today)
    review.self_skipped = True
    transition(actor, review, ReviewAction.SKIP_SELF, today=today,
                reason="Self-assessment not submitted by the deadline")


# The manager's review ------------------------------------------------------------------------


@dataclass
class ManagerAssessment:
    strengths: str
    development_areas: str
    overall_comment: str
    reconciliation_note: str
    ratings: dict[int, tuple[int | None, str]]


def save_manager(actor: User, review: Review, data: ManagerAssessment, *,
                 expected_version: int | None) -> None:
    """Save the manager's ratings and comments (the reviewing manager, in manager review)."""
    authorize(actor, review, ReviewAction.SAVE_MANAGER, expected_version=expected_version)
    _write_side(actor, review, "manager", data, expected_version)


def override_kpi(actor: User, review: Review, score_id: int, new_score: int | None,
                 justification: str, *, expected_version: int | None = None) -> None:
    """Replace a computed KPI score; a justification is required and the change is audited."""
    authorize(actor, review, ReviewAction.OVERRIDE_KPI, expected_version=expected_version)
    score = next((s for s in review.kpi_scores if s.id == score_id), None)
    if score is None:
        raise ServiceError("That KPI is not part of this review.")
    justification = text_limits.check(justification, text_limits.NOTE, "justification",
                                      "The justification")
    if new_score is not None:
        if not 1 <= int(new_score) <= 5:
            raise ServiceError("A KPI score runs from 1 to 5.", field="override_score")
        if not justification:
            raise ServiceError("Explain why the computed score does not tell the story.",
                               field="justification")
    before = {"override_score": score.override_score,
              "justification": score.override_justification, "computed": score.computed_score}
    score.override_score = None if new_score is None else int(new_score)
    score.override_justification = justification if new_score is not None else ""
    score.overridden_by_id = actor.id if new_score is not None else None
    score.overridden_at = now() if new_score is not None else None
    refresh_scores(review)
    touch(actor, review)
    record(actor, "review.kpi_override", "review", review.id, before=before,
           after={"kpi": score.cycle_kpi.name, "override_score": score.override_score,
                  "justification": score.override_justification,
                  "computed": score.computed_score})


def submit_manager(actor: User, review: Review) -> None:
    """Send the finished review to calibration; the divergence rule must be satisfied."""
    policy.authorize_review_action(actor, review, ReviewAction.SUBMIT_MANAGER)
    _require_every_rating(review, "manager", "write the note that backs it")
    scores = scores_of(review)  # refuse before changing anything
    if scores.divergent and not review.reconciliation_note:
        raise ServiceError(
            f"{scores.both_sides} differ by {DIVERGENCE_THRESHOLD:g} or more. Write a "
            "reconciliation note explaining why before submitting.", field="reconciliation_note")
    refresh_scores(review)
    review.manager_submitted_at = now()
    transition(actor, review, ReviewAction.SUBMIT_MANAGER)
    email_events.calibration_open(actor, review)
