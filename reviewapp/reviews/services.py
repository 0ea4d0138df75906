"""A review's workflow: every transition is one function that asks the policy who may do it.

Services flush and never commit; the request commits once. A save carries the version the user
started from; saving over a newer version raises ReviewConflict instead of overwriting.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime

import pandas as pd

from reviewapp import policy
from reviewapp.audit.models import AuditEvent
from reviewapp.audit.services import record
from reviewapp.auth.models import User
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.metrics.data import load_observations, rolled_up
from reviewapp.metrics.periods import parse_period
from reviewapp.reviews.models import Review, ReviewState
from reviewapp.reviews.scoring import attainment, band_score, combine


class ReviewConflict(ServiceError):
    """Someone saved the review after this user opened it."""

    def __init__(self, review: Review):
        who = review.updated_by.name if review.updated_by else "someone"
        when = review.updated_at.strftime("%Y-%m-%d %H:%M UTC") if review.updated_at else ""
        last = db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.entity_type == "review",
                                        AuditEvent.entity_id == review.id)
            .order_by(AuditEvent.id.desc()).limit(1))
        changed = ", ".join(sorted((last.after or {}).keys())) if last else ""
        detail = f" (changed: {changed})" if changed else ""
        super().__init__(f"{who} saved this review at {when}{detail} after you opened it. "
                         "Your text is kept below; review their changes, then save again.")


def _now() -> datetime:
    return datetime.now(UTC)


def _require_state(review: Review, state: ReviewState, what: str) -> None:
    if review.state != state:
        raise ServiceError(f"{what} is only possible during {state.label.lower()}; this review "
                           f"is in {review.state.label.lower()}.")


def _as_rep(actor: User, review: Review) -> None:
    policy.require(policy.can_act_as_reviewee(actor, review))
    _require_state(review, ReviewState.SELF_REVIEW, "Changing the self-assessment")


def _as_manager(actor: User, review: Review) -> None:
    policy.require(policy.can_write_manager_side(actor, review))
    _require_state(review, ReviewState.MANAGER_REVIEW, "Changing the manager's review")


def _check_version(review: Review, expected: int | None) -> None:
    if expected is not None and int(expected) != review.version:
        raise ReviewConflict(review)


def _transition(actor: User | None, review: Review, to: ReviewState, *, allowed_from,
                reason: str | None = None) -> None:
    if review.state not in allowed_from:
        raise ServiceError(
            f"This review is in {review.state.label.lower()}; it cannot move to "
            f"{to.label.lower()} from there.")
    before = review.state
    review.state = to
    review.updated_by_id = actor.id if actor else None
    db.session.flush()
    record(actor, "review.state", "review", review.id, before={"state": before.value},
           after={"state": to.value}, reason=reason)


def _audit_changes(actor: User, review: Review, before: dict, after: dict, action: str) -> None:
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if changed:
        record(actor, action, "review", review.id,
               before={k: before.get(k) for k in changed}, after=changed)


# Numbers -------------------------------------------------------------------------------------


def kpi_actuals(review: Review) -> dict[int, float]:
    """The rep's actual per cycle KPI metric in the cycle's period, with each metric's roll-up."""
    cycle = review.cycle
    metric_ids = [k.metric_id for k in cycle.kpis]
    if not metric_ids:
        return {}
    frame = load_observations([review.rep_id], metric_ids, start=cycle.period_start,
                              end=cycle.period_end)
    grain = parse_period(cycle.period_label).grain
    data = rolled_up(frame, grain)
    data = data[data["start"] == pd.Timestamp(cycle.period_start)]
    return dict(zip(data["metric"].tolist(), data["value"].tolist(), strict=True))


def refresh_scores(review: Review) -> None:
    """Recompute KPI actuals (while the review is open) and the three scores."""
    cycle = review.cycle
    if review.state in (ReviewState.NOT_STARTED, ReviewState.SELF_REVIEW,
                        ReviewState.MANAGER_REVIEW):
        actuals = kpi_actuals(review)
        for score in review.kpi_scores:
            kpi = score.cycle_kpi
            score.actual = actuals.get(kpi.metric_id)
            score.attainment = attainment(score.actual, score.target, kpi.direction)
            score.computed_score = band_score(score.attainment, cycle.bands)
    scores = combine([(s.score, s.cycle_kpi.weight) for s in review.kpi_scores],
                     [r.manager_rating for r in review.ratings], cycle.quant_weight)
    review.quant_score, review.qual_score = scores.quant, scores.qual
    review.overall_score, review.effective_quant_weight = scores.overall, scores.weight_used
    db.session.flush()


def scores_of(review: Review):
    """The Scores of a review as it stands (for display and the divergence rule)."""
    return combine([(s.score, s.cycle_kpi.weight) for s in review.kpi_scores],
                   [r.manager_rating for r in review.ratings], review.cycle.quant_weight)


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


def _write_side(actor: User, review: Review, side: str, data, expected_version: int | None):
    """Write one side's texts and competency ratings (side is "self" or "manager"), audited."""
    _check_version(review, expected_version)
    texts = {f.name: getattr(data, f.name) for f in fields(data) if f.name != "ratings"}
    before = _snapshot(review, side, texts)
    for name, value in texts.items():
        setattr(review, name, (value or "").strip())
    for rating in review.ratings:
        value, note = data.ratings.get(rating.cycle_competency_id, (None, ""))
        if value is not None and not 1 <= int(value) <= 5:
            raise ServiceError("Ratings run from 1 to 5.",
                               field=f"{side}_rating_{rating.cycle_competency_id}")
        setattr(rating, f"{side}_rating", value)
        setattr(rating, f"{side}_note", (note or "").strip())
    review.updated_by_id = actor.id
    refresh_scores(review)
    _audit_changes(actor, review, before, _snapshot(review, side, texts), f"review.{side}_save")


def save_self(actor: User, review: Review, data: SelfAssessment, *,
              expected_version: int | None) -> None:
    """Save the rep's draft self-assessment (only the rep, only in self-review)."""
    _as_rep(actor, review)
    _write_side(actor, review, "self", data, expected_version)


def submit_self(actor: User, review: Review) -> None:
    """Hand the self-assessment to the manager; every competency needs a rating and evidence."""
    _as_rep(actor, review)
    for rating in review.ratings:
        if rating.self_rating is None or not rating.self_note:
            raise ServiceError(
                f"Rate {rating.cycle_competency.name} and write your evidence before submitting.",
                field=f"self_rating_{rating.cycle_competency_id}")
    review.self_submitted_at = _now()
    _transition(actor, review, ReviewState.MANAGER_REVIEW,
                allowed_from=(ReviewState.SELF_REVIEW,))


def skip_self(actor: User, review: Review, *, today: date | None = None) -> None:
    """Past the self-assessment deadline the manager may move on without it (recorded)."""
    policy.require(policy.can_write_manager_side(actor, review))
    _require_state(review, ReviewState.SELF_REVIEW, "Moving on without a self-assessment")
    today = today or date.today()
    if today <= review.cycle.self_due:
        raise ServiceError(f"The self-assessment is due on {review.cycle.self_due:%d %b %Y}; "
                           "you can move on without it only after that.")
    review.self_skipped = True
    _transition(actor, review, ReviewState.MANAGER_REVIEW,
                allowed_from=(ReviewState.SELF_REVIEW,),
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
    _as_manager(actor, review)
    _write_side(actor, review, "manager", data, expected_version)


def override_kpi(actor: User, review: Review, score_id: int, new_score: int | None,
                 justification: str) -> None:
    """Replace a computed KPI score; a justification is required and the change is audited."""
    _as_manager(actor, review)
    score = next((s for s in review.kpi_scores if s.id == score_id), None)
    if score is None:
        raise ServiceError("That KPI is not part of this review.")
    justification = (justification or "").strip()
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
    score.overridden_at = _now() if new_score is not None else None
    review.updated_by_id = actor.id
    refresh_scores(review)
    record(actor, "review.kpi_override", "review", review.id, before=before,
           after={"kpi": score.cycle_kpi.name, "override_score": score.override_score,
                  "justification": score.override_justification,
                  "computed": score.computed_score})


def submit_manager(actor: User, review: Review) -> None:
    """Send the finished review to calibration; the divergence rule must be satisfied."""
    _as_manager(actor, review)
    for rating in review.ratings:
        if rating.manager_rating is None or not rating.manager_note:
            raise ServiceError(
                f"Rate {rating.cycle_competency.name} and write the note that backs it.",
                field=f"manager_rating_{rating.cycle_competency_id}")
    refresh_scores(review)
    scores = scores_of(review)
    if scores.divergent and not review.reconciliation_note:
        raise ServiceError(
            f"The KPI score ({scores.quant:.1f}) and the competency score ({scores.qual:.1f}) "
            "differ by 1.5 or more. Write a reconciliation note explaining why before "
            "submitting.", field="reconciliation_note")
    review.manager_submitted_at = _now()
    _transition(actor, review, ReviewState.CALIBRATION,
                allowed_from=(ReviewState.MANAGER_REVIEW,))
