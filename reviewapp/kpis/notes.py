"""Behaviour notes: what a teachable-moment rep does differently, and metrics they suggest.

That is how the organisation learns: a run surfaces a rep who beats what their activity
predicts, their manager writes down the behaviour, and the note may propose a new candidate
metric, which HR accepts into the catalogue (as a candidate, to be validated) or declines.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from reviewapp import policy
from reviewapp.audit.services import record
from reviewapp.auth.models import User
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.kpis.models import BehaviourNote, ProposalStatus, ValidationRun
from reviewapp.metrics.catalogue import KEY_PATTERN, add_metric
from reviewapp.metrics.models import Metric, MetricKind
from reviewapp.model_types import among, utcnow


def is_teachable_moment(run: ValidationRun, rep_id: int) -> bool:
    """Whether the run listed this rep as a teachable moment."""
    return any(entry["rep_id"] == rep_id for entry in run.teachable_moments)


def _snapshot(note: BehaviourNote) -> dict:
    return {"rep_id": note.rep_id, "run_id": note.run_id, "text": note.text,
            "proposed_key": note.proposed_key, "proposed_name": note.proposed_name,
            "proposal_status": note.proposal_status.value if note.proposal_status else None,
            "created_metric_id": note.created_metric_id}


def add_note(actor: User, run: ValidationRun, rep: User, text: str, *,
             proposed_key: str | None = None, proposed_name: str | None = None,
             proposed_description: str | None = None) -> BehaviourNote:
    """Record what a teachable-moment rep of `run` does differently; optionally propose a metric."""
    if not is_teachable_moment(run, rep.id):
        raise ServiceError(f"{rep.name} is not a teachable moment in run #{run.id}.")
    text = (text or "").strip()
    if len(text) < 10:
        raise ServiceError("Describe the behaviour in at least 10 characters.", field="text")
    key = (proposed_key or "").strip().lower()
    name = (proposed_name or "").strip()
    description = (proposed_description or "").strip()
    if key or name or description:
        if not KEY_PATTERN.match(key):
            raise ServiceError("Use 2–64 lower-case letters, digits or underscores, starting "
                               "with a letter.", field="proposed_key")
        if db.session.scalar(sa.select(Metric.id).where(Metric.key == key)) is not None:
            raise ServiceError(f"A metric with key '{key}' already exists.",
                               field="proposed_key")
        if not name:
            raise ServiceError("Give the proposed metric a name.", field="proposed_name")
    note = BehaviourNote(
        author_id=actor.id, rep_id=rep.id, run_id=run.id, text=text,
        proposed_key=key or None, proposed_name=name or None,
        proposed_description=description or None,
        proposal_status=ProposalStatus.PENDING if key else None)
    db.session.add(note)
    db.session.flush()
    record(actor, "kpi.note.create", "behaviour_note", note.id, after=_snapshot(note))
    return note


def _pending(note: BehaviourNote) -> None:
    if note.proposal_status != ProposalStatus.PENDING:
        raise ServiceError("This note has no open metric proposal.")


def accept_proposal(actor: User, note: BehaviourNote, *, key: str, name: str, direction: str,
                    rollup: str, unit: str = "", description: str = "") -> Metric:
    """Add the proposed metric to the catalogue as a KPI candidate (HR)."""
    _pending(note)
    before = _snapshot(note)
    metric = add_metric(actor, key=key, name=name, kind=MetricKind.ACTIVITY.value,
                        direction=direction, rollup=rollup, unit=unit, description=description)
    note.proposal_status = ProposalStatus.ACCEPTED
    note.decided_by_id, note.decided_at = actor.id, utcnow()
    note.created_metric_id = metric.id
    db.session.flush()
    record(actor, "kpi.note.accept", "behaviour_note", note.id, before=before,
           after=_snapshot(note))
    return metric


def decline_proposal(actor: User, note: BehaviourNote, reason: str) -> None:
    """Decline the proposed metric, saying why (HR)."""
    _pending(note)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ServiceError("Say briefly why the proposal is declined.", field="reason")
    before = _snapshot(note)
    note.proposal_status = ProposalStatus.DECLINED
    note.decided_by_id, note.decided_at = actor.id, utcnow()
    note.decision_reason = reason
    db.session.flush()
    record(actor, "kpi.note.decline", "behaviour_note", note.id, before=before,
           after=_snapshot(note), reason=reason)


def visible_notes(actor: User, run_id: int | None = None) -> list[BehaviourNote]:
    """Notes the actor may read, newest first (HR: all; managers: about reps in scope)."""
    query = sa.select(BehaviourNote).options(
        joinedload(BehaviourNote.author), joinedload(BehaviourNote.rep),
        joinedload(BehaviourNote.created_metric), joinedload(BehaviourNote.decided_by))
    ids = policy.people_scope_ids(actor)
    if ids is not None:
        query = query.where(sa.or_(among(BehaviourNote.rep_id, ids),
                                   BehaviourNote.author_id == actor.id))
    if run_id is not None:
        query = query.where(BehaviourNote.run_id == run_id)
    return list(db.session.scalars(query.order_by(BehaviourNote.id.desc())))


def notes_for_run(run: ValidationRun, actor: User) -> dict[int, list[BehaviourNote]]:
    """Visible notes of a run, by rep id."""
    out: dict[int, list[BehaviourNote]] = {}
    for note in visible_notes(actor, run.id):
        out.setdefault(note.rep_id, []).append(note)
    return out
