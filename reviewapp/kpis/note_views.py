"""Behaviour notes on teachable-moment reps, and HR's decisions on proposed metrics."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from reviewapp import policy
from reviewapp.auth.models import User
from reviewapp.errors import show_on_form
from reviewapp.extensions import db
from reviewapp.kpis import bp, queries
from reviewapp.kpis.forms import AcceptProposalForm, DeclineForm, NoteForm
from reviewapp.kpis.models import BehaviourNote, ProposalStatus
from reviewapp.kpis.notes import (
    accept_proposal,
    add_note,
    decline_proposal,
    is_teachable_moment,
    visible_notes,
)
from reviewapp.transaction import attempt


@bp.route("/notes")
def notes():
    policy.require(policy.can_use_kpi_lab(current_user))
    return render_template("kpis/notes.html", notes=visible_notes(current_user),
                           decline_form=DeclineForm())


@bp.route("/runs/<int:run_id>/reps/<int:rep_id>/note", methods=["GET", "POST"])
def note_new(run_id: int, rep_id: int):
    policy.require(policy.can_use_kpi_lab(current_user))
    run = queries.run_with_candidates(run_id)
    rep = db.session.get(User, rep_id)
    policy.visible_or_404(
        run is not None and rep is not None
        and policy.can_view_validation_run(current_user, run)
        and policy.can_write_behaviour_note(current_user, rep)
        and is_teachable_moment(run, rep.id))
    form = NoteForm()
    if form.validate_on_submit():
        outcome = attempt(add_note, current_user, run, rep, form.text.data,
                          proposed_key=form.proposed_key.data,
                          proposed_name=form.proposed_name.data,
                          proposed_description=form.proposed_description.data)
        if not outcome.ok:
            show_on_form(form, outcome.error)
        else:
            flash(f"The note on {rep.name} is saved.", "success")
            return redirect(url_for("kpis.run", run_id=run.id) + "#teachable")
    entry = next(e for e in run.teachable_moments if e["rep_id"] == rep.id)
    return render_template("kpis/note_form.html", form=form, run=run, rep=rep, entry=entry)


def _pending_note(note_id: int) -> BehaviourNote:
    policy.require(policy.can_decide_metric_proposal(current_user))
    note = db.session.get(BehaviourNote, note_id)
    policy.visible_or_404(note is not None and note.proposal_status is not None)
    return note


@bp.route("/notes/<int:note_id>/accept", methods=["GET", "POST"])
def note_accept(note_id: int):
    note = _pending_note(note_id)
    form = AcceptProposalForm()
    if not form.is_submitted():
        form.key.data, form.name.data = note.proposed_key, note.proposed_name
        form.description.data = note.proposed_description
    if note.proposal_status != ProposalStatus.PENDING:
        flash("This proposal was already decided.", "info")
        return redirect(url_for("kpis.notes"))
    if form.validate_on_submit():
        outcome = attempt(accept_proposal, current_user, note, key=form.key.data,
                          name=form.name.data, direction=form.direction.data,
                          rollup=form.rollup.data, unit=form.unit.data,
                          description=form.description.data)
        if not outcome.ok:
            show_on_form(form, outcome.error)
        else:
            metric = outcome.value
            flash(f"{metric.name} is in the catalogue as a KPI candidate. Import its data, "
                  "then validate it in the KPI lab.", "success")
            return redirect(url_for("kpis.notes"))
    return render_template("kpis/accept_form.html", form=form, note=note)


@bp.route("/notes/<int:note_id>/decline", methods=["POST"])
def note_decline(note_id: int):
    note = _pending_note(note_id)
    form = DeclineForm()
    if form.validate_on_submit():
        outcome = attempt(decline_proposal, current_user, note, form.reason.data)
        if not outcome.ok:
            flash(outcome.error.message, "error")
        else:
            flash(f"The proposal '{note.proposed_name}' was declined.", "success")
    else:
        flash("Say why the proposal is declined.", "error")
    return redirect(url_for("kpis.notes"))
