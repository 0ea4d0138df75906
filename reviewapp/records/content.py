"""What a review record says: one plain, JSON-able mapping built from the review.

The PDF is rendered from this mapping and nothing else, and its SHA-256 (of the canonical JSON:
sorted keys, no spaces, UTF-8) is printed in every page's footer and stored beside the PDF. A
draft uses the same builder with what its reader may see; a final record shows everything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from reviewapp.audit.models import AuditEvent
from reviewapp.auth.models import User
from reviewapp.cycles.models import Cycle, CycleKpi
from reviewapp.extensions import db
from reviewapp.metrics.data import load_observations, rolled_up
from reviewapp.metrics.periods import parse_period
from reviewapp.peers.record import peer_record
from reviewapp.reviews.context import goals_context
from reviewapp.reviews.models import CompetencyRating, KpiScore, Review, ReviewState
from reviewapp.reviews.scoring import SCORE_DECIMALS, format_score
from reviewapp.reviews.services import kpi_lines, scores_of

SCHEMA = 1
HISTORY_PERIODS = 6  # the chart shows the rep's KPI values over this many periods


@dataclass(frozen=True)
class Visibility:
    """Which sides of the review the record shows (a final record: both)."""

    self_side: bool = True
    manager_side: bool = True
    history: bool = True


EVERYTHING = Visibility()


def load_review(review_id: int) -> Review | None:
    """A review with everything a record shows, in a fixed number of statements."""
    return db.session.scalar(sa.select(Review).where(Review.id == review_id).options(
        selectinload(Review.cycle).selectinload(Cycle.kpis).selectinload(CycleKpi.metric),
        selectinload(Review.ratings).options(
            selectinload(CompetencyRating.cycle_competency),
            selectinload(CompetencyRating.calibrated_by)),
        selectinload(Review.kpi_scores).options(selectinload(KpiScore.cycle_kpi),
                                                selectinload(KpiScore.overridden_by)),
        selectinload(Review.rep).selectinload(User.team), selectinload(Review.manager),
        selectinload(Review.acknowledgements), selectinload(Review.finalized_by)))


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(float(value), places)


def _anchor(anchors: list, rating: int | None) -> str:
    if rating is None or not anchors or not 1 <= rating <= len(anchors):
        return ""
    return str(anchors[rating - 1])


def _scores(review: Review, lines) -> dict:
    scores = scores_of(review, lines)
    w = review.cycle.quant_weight
    if scores.overall is None:
        how = "No scores yet."
    elif scores.renormalised:
        side = "KPI" if scores.quant is not None else "competency"
        how = (f"Only the {side} side has scores, so the overall is that side alone (weights "
               f"renormalised; the cycle's weight is {w:.0%} KPIs).")
    else:
        how = (f"Overall = {w:.2f} × KPI score {format_score(scores.quant)} + {1 - w:.2f} × "
               f"competency score {format_score(scores.qual)} = {format_score(scores.overall)}.")
    # Kept at the decimals scoring reads them at, and printed by format_score, as the review
    # page prints them: rounded to 4 places first, 3.12496 became 3.125 and read "3.13".
    places = SCORE_DECIMALS
    return {"quant": _round(scores.quant, places), "qual": _round(scores.qual, places),
            "overall": _round(scores.overall, places), "weight": _round(w),
            "weight_used": _round(scores.weight_used), "renormalised": scores.renormalised,
            "divergence": _round(scores.divergence, places), "divergent": scores.divergent,
            "how": how}


def _kpis(lines) -> list[dict]:
    out = []
    for line in lines:
        k = line.cycle_kpi
        out.append({
            "name": k.name, "unit": k.frozen_unit or (k.metric.unit if k.metric else "") or "",
            "direction": k.direction, "weight": _round(k.weight),
            "actual": _round(line.actual), "target": _round(line.target),
            "attainment": _round(line.attainment), "computed": line.computed_score,
            "override": line.override_score, "score": line.score,
            "justification": line.override_justification or "",
            "overridden_by": line.overridden_by.name if line.overridden_by else None,
            "overridden_at": _iso(line.overridden_at),
            "evidence": k.evidence_sentence or "", "run_id": k.evidence_run_id,
            "q": _round(k.evidence_q, 6),
        })
    return out


def _numbers_only(kpi: dict) -> dict:
    return {**kpi, "computed": None, "override": None, "score": None, "justification": "",
            "overridden_by": None, "overridden_at": None}


def kpi_history(review: Review, periods: int = HISTORY_PERIODS) -> dict:
    """The rep's values of each cycle KPI over the last periods up to the cycle's (for the
    chart), rolled up with the rules the cycle froze at launch."""
    cycle = review.cycle
    last = parse_period(cycle.period_label)
    first = last.shift(-(periods - 1))
    labels = [first.shift(i).label for i in range(periods)]
    kpis = list(cycle.kpis)
    series = []
    if kpis:
        frame = load_observations([review.rep_id], [k.metric_id for k in kpis],
                                  start=first.start, end=last.end)
        frozen = {k.metric_id: k.frozen_rollup for k in kpis if k.frozen_rollup}
        data = rolled_up(frame, last.grain, how=frozen)
        by_key = {}
        for metric_id, start, value in zip(data.get("metric", []), data.get("start", []),
                                           data.get("value", []), strict=True):
            by_key[(int(metric_id), start.date())] = float(value)
        for k in kpis:
            target = k.target_for(review.rep_id)
            series.append({"name": k.name, "target": _round(target), "values": [
                _round(by_key.get((k.metric_id, first.shift(i).start))) for i in range(periods)]})
    return {"labels": labels, "series": series}


def _competencies(review: Review, seen: Visibility) -> list[dict]:
    out = []
    for r in review.ratings:
        c = r.cycle_competency
        anchors = [str(a) for a in (c.anchors or [])]
        self_rating = r.self_rating if seen.self_side else None
        manager = r.manager_rating if seen.manager_side else None
        calibrated = r.calibrated_rating if seen.manager_side else None
        out.append({
            "name": c.name, "description": c.description or "", "anchors": anchors,
            "self_rating": self_rating, "self_note": r.self_note if seen.self_side else "",
            "self_anchor": _anchor(anchors, self_rating),
            "manager_rating": manager, "manager_note": r.manager_note if seen.manager_side else "",
            "manager_anchor": _anchor(anchors, manager),
            "calibrated_rating": calibrated,
            "calibrated_anchor": _anchor(anchors, calibrated),
            "calibration_reason": r.calibration_reason if calibrated is not None else "",
            "calibrated_by": r.calibrated_by.name if calibrated is not None and r.calibrated_by
            else None,
            "calibrated_at": _iso(r.calibrated_at) if calibrated is not None else None,
        })
    return out


def _history(review: Review) -> list[dict]:
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "review",
                                    AuditEvent.entity_id == review.id,
                                    AuditEvent.action.in_(["review.state", "review.reassign"]))
        .options(selectinload(AuditEvent.actor)).order_by(AuditEvent.id))
    out = []
    for e in events:
        entry = {"at": _iso(e.at), "by": e.actor.name if e.actor else "ReviewApp",
                 "reason": e.reason or "", "kind": "state"}
        if e.action == "review.reassign":  # who wrote the manager's side, and why it moved
            entry.update(kind="reassign", manager_from=(e.before or {}).get("manager") or "",
                         manager_to=(e.after or {}).get("manager") or "")
            entry["from"] = f"Reviewer: {entry['manager_from'] or 'nobody'}"
            entry["to"] = f"Reviewer: {entry['manager_to'] or 'nobody'}"
        else:
            entry["from"] = _state_label((e.before or {}).get("state"))
            entry["to"] = _state_label((e.after or {}).get("state"))
        out.append(entry)
    return out


def _earlier_managers(history: list[dict], manager: str) -> list[str]:
    """The reviewers the review was reassigned from, in order, without the one it ended with."""
    names = [e["manager_from"] for e in history if e["kind"] == "reassign"]
    return [n for n in dict.fromkeys(names) if n and n != manager]


def _state_label(value: str | None) -> str:
    try:
        return ReviewState(value).label
    except ValueError:
        return value or "—"


def build(review: Review, *, document_id: str, version: int, organisation: str,
          signer: str | None = None, seen: Visibility = EVERYTHING,
          draft: bool = False) -> dict:
    """The record's content: everything it prints, in plain values."""
    cycle, rep = review.cycle, review.rep
    lines = kpi_lines(review)
    ack = review.acknowledgement
    history = _history(review)
    manager = review.manager.name if review.manager else ""
    content = {
        "schema": SCHEMA, "document_id": document_id, "version": version, "draft": draft,
        "organisation": organisation,
        "signature": {"signer": signer} if signer and not draft else None,
        "rep": {"name": rep.name, "email": rep.email, "team": rep.team.name if rep.team else "",
                "team_id": rep.team_id},
        "manager": manager, "earlier_managers": _earlier_managers(history, manager),
        "cycle": {"name": cycle.name, "period": cycle.period_label,
                  "start": _iso(cycle.period_start), "end": _iso(cycle.period_end),
                  "bands": [float(b) for b in cycle.bands]},
        "state": review.state.label,
        "finalized_at": _iso(review.finalized_at) if review.state == ReviewState.FINALIZED
        else None,
        "finalized_by": review.finalized_by.name if review.finalized_by else None,
        "shows_manager_side": seen.manager_side, "shows_self_side": seen.self_side,
        "scores": _scores(review, lines) if seen.manager_side else None,
        # Before sharing the rep sees their numbers (as on their page), never the scores.
        "kpis": _kpis(lines) if seen.manager_side else [_numbers_only(k) for k in _kpis(lines)],
        "kpi_history": kpi_history(review) if seen.manager_side else {"labels": [],
                                                                       "series": []},
        "competencies": _competencies(review, seen),
        "peers": peer_record(review, shows_manager_side=seen.manager_side),
        "self": {
            "submitted_at": _iso(review.self_submitted_at), "skipped": review.self_skipped,
            "achievements": review.achievements if seen.self_side else "",
            "goals_reflection": review.goals_reflection if seen.self_side else "",
            "development_wishes": review.development_wishes if seen.self_side else "",
        },
        "manager_side": {
            "strengths": review.strengths, "development_areas": review.development_areas,
            "overall_comment": review.overall_comment,
            "reconciliation_note": review.reconciliation_note,
        } if seen.manager_side else None,
        "goals": [{"title": g.title, "period": g.period, "progress": g.progress_label,
                   "status": g.status_label} for g in goals_context(review)],
        "acknowledgement": {"typed_name": ack.typed_name, "at": _iso(ack.acknowledged_at),
                            "comment": ack.comment} if ack else None,
        "conversation": {"at": _iso(review.conversation_requested_at),
                         "note": review.conversation_note}
        if review.conversation_requested_at else None,
        "history": history if seen.history else [],
    }
    return content


def canonical(content: dict) -> bytes:
    """The bytes the content hash is taken over: sorted keys, no spaces, UTF-8."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def content_sha256(content: dict) -> str:
    """SHA-256 of the canonical content (printed in the footer, stored with the record)."""
    return hashlib.sha256(canonical(content)).hexdigest()
