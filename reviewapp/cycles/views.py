"""Cycle pages: HR's competencies, weight bounds, cycle editor and launch; managers' overview.

Reps never see these pages (403). Managers see launched cycles only, and in them only their
people; a draft cycle does not exist for them (404).
"""

from __future__ import annotations

from collections import Counter

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from reviewapp import numbers, policy
from reviewapp.auth.views import safe_next
from reviewapp.cycles import bp, editor, queries
from reviewapp.cycles.catalogue import (
    add_default_competencies,
    competency_catalogue,
    save_competency,
    set_weight_bounds,
    weight_bounds,
)
from reviewapp.cycles.forms import CompetencyForm, CycleForm, WeightBoundsForm
from reviewapp.cycles.models import Competency, Cycle
from reviewapp.cycles.services import (
    LaunchRefused,
    close_cycle,
    launch,
    launch_check,
    save_cycle,
)
from reviewapp.cycles.services import set_rep_targets as save_rep_targets
from reviewapp.errors import FieldErrors, ServiceError, show_on_form
from reviewapp.extensions import db
from reviewapp.metrics.models import KpiStatus
from reviewapp.pagination import read_request
from reviewapp.reviews.decisions import finalize_cycle, share_cycle
from reviewapp.reviews.models import ReviewState
from reviewapp.reviews.scoring import DIVERGENCE_THRESHOLD
from reviewapp.transaction import attempt

STATES = {s.value: s for s in ReviewState}


@bp.before_request
@login_required
def _managers_and_hr():
    policy.require(policy.can_view_cycle_overview(current_user))


def _require_hr() -> None:
    policy.require(policy.can_manage_cycles(current_user))


# Cycles list and weight bounds ---------------------------------------------------------------


def _render_index(bounds_form: WeightBoundsForm):
    hr = policy.can_manage_cycles(current_user)
    cycles = queries.visible_cycles(current_user)
    counts = queries.state_counts([c.id for c in cycles], current_user)
    waiting = Counter() if hr else queries.waiting_for(current_user)
    return render_template("cycles/index.html", cycles=cycles, counts=counts, waiting=waiting,
                           states=list(ReviewState), hr=hr, bounds_form=bounds_form,
                           bounds=weight_bounds())


@bp.route("/")
def index():
    form = WeightBoundsForm(formdata=None)
    form.weight_min.data, form.weight_max.data = weight_bounds()
    return _render_index(form)


@bp.route("/weight-bounds", methods=["POST"])
def weight_bounds_save():
    _require_hr()
    form = WeightBoundsForm()
    if form.validate_on_submit():
        outcome = attempt(set_weight_bounds, current_user, form.weight_min.data,
                          form.weight_max.data)
        if outcome.ok:
            flash(f"Cycles may now weigh KPIs between {form.weight_min.data:.2f} and "
                  f"{form.weight_max.data:.2f}.", "success")
            return redirect(url_for("cycles.index"))
        show_on_form(form, outcome.error)
    return _render_index(form)


# Competencies --------------------------------------------------------------------------------


@bp.route("/competencies")
def competencies():
    _require_hr()
    return render_template("cycles/competencies.html", competencies=competency_catalogue())


@bp.route("/competencies/defaults", methods=["POST"])
def competency_defaults():
    _require_hr()
    outcome = attempt(add_default_competencies, current_user)
    if outcome.ok:
        flash(f"The {len(outcome.value)} standard competencies were added; edit them to your "
              "company's words.", "success")
    else:
        flash(outcome.error.message, "error")
    return redirect(safe_next(request.form.get("back")) or url_for("cycles.competencies"))


def _competency_page(competency: Competency | None):
    form = CompetencyForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET" and competency is not None:
        form.name.data, form.description.data = competency.name, competency.description
        form.active.data = competency.active
        for f, text in zip(form.anchor_fields(), competency.anchors, strict=False):
            f.data = text
    if form.validate_on_submit():
        outcome = attempt(save_competency, current_user, competency, name=form.name.data,
                          description=form.description.data,
                          anchors=[f.data for f in form.anchor_fields()],
                          active=form.active.data)
        if outcome.ok:
            flash(f"{outcome.value.name} was saved.", "success")
            return redirect(url_for("cycles.competencies"))
        show_on_form(form, outcome.error)
        if competency is not None:
            competency = db.session.get(Competency, competency.id)
    return render_template("cycles/competency_form.html", form=form, competency=competency)


@bp.route("/competencies/new", methods=["GET", "POST"])
def competency_new():
    _require_hr()
    return _competency_page(None)


@bp.route("/competencies/<int:competency_id>/edit", methods=["GET", "POST"])
def competency_edit(competency_id: int):
    _require_hr()
    return _competency_page(db.get_or_404(Competency, competency_id))


@bp.route("/competencies/<int:competency_id>/active", methods=["POST"])
def competency_active(competency_id: int):
    _require_hr()
    competency = db.get_or_404(Competency, competency_id)
    active = request.form.get("active") == "1"
    outcome = attempt(save_competency, current_user, competency, name=competency.name,
                      description=competency.description, anchors=list(competency.anchors),
                      active=active)
    if not outcome.ok:
        flash(outcome.error.message, "error")
    else:
        flash(f"{competency.name} is {'active again' if active else 'deactivated'}"
              f"{'' if active else '; new cycles will not offer it'}.", "success")
    return redirect(url_for("cycles.competencies"))


# The cycle editor ----------------------------------------------------------------------------


def _cycle_editor(cycle: Cycle | None):
    posted = request.form if request.method == "POST" else None
    form = CycleForm(formdata=posted)
    form.teams.choices, form.people.choices = queries.team_choices(), queries.rep_choices()
    in_cycle = {c.competency_id for c in cycle.competencies} if cycle else set()
    catalogue = competency_catalogue()
    offered = [c for c in catalogue if c.active or c.id in in_cycle]
    form.competencies.choices = [(c.id, c.name if c.active else f"{c.name} (inactive)")
                                 for c in offered]
    rows = editor.kpi_rows(queries.offered_kpi_metrics(cycle), cycle, posted)
    errors: dict[str, str] = {}
    if posted is None:
        editor.fill(form, cycle, catalogue)
    else:
        # Every problem at once: the form's own, the KPI rows', then (when those read) the rules'.
        form_ok, errors = form.validate_on_submit(), editor.kpi_problems(rows)
        if not form_ok or errors:  # the rules too, on what reads
            for field_name, message in editor.rule_problems(
                    form, rows, {c.id for c in offered}, cycle).items():
                field = getattr(form, field_name or "", None)
                if field is not None and getattr(field, "errors", None):
                    continue  # the field's own error says it first
                show_on_form(form, ServiceError(message, field=field_name or "form"), errors)
        if form_ok and not errors:
            outcome = attempt(lambda: save_cycle(
                current_user, cycle, editor.draft_from(form, rows, {c.id for c in offered}),
                expected_version=request.form.get("version", type=int)))
            if outcome.ok:
                flash(f"{outcome.value.name} was saved as a draft. Launch it when the checks "
                      "are green.", "success")
                return redirect(url_for("cycles.cycle", cycle_id=outcome.value.id))
            found = (outcome.error.errors if isinstance(outcome.error, FieldErrors)
                     else {outcome.error.field: outcome.error.message})
            for field_name, message in found.items():
                show_on_form(form, ServiceError(message, field=field_name or "form"), errors)
            if cycle is not None:
                cycle = db.session.get(Cycle, cycle.id)
    low, high = weight_bounds()
    w = form.quant_weight.data
    return render_template(
        "cycles/editor.html", form=form, cycle=cycle, rows=rows, errors=errors,
        low=low, high=high, mapping=editor.band_mapping(form), KPI=KpiStatus.KPI,
        catalogue_empty=not catalogue,
        w_outside=isinstance(w, (int, float)) and not low <= w <= high)


@bp.route("/new", methods=["GET", "POST"])
def cycle_new():
    _require_hr()
    return _cycle_editor(None)


@bp.route("/<int:cycle_id>/edit", methods=["GET", "POST"])
def cycle_edit(cycle_id: int):
    _require_hr()
    cycle = db.get_or_404(Cycle, cycle_id)
    if cycle.launched:
        flash(f"{cycle.name} has been launched: its rules, people, competencies and KPIs are "
              "frozen and can no longer be edited.", "error")
        return redirect(url_for("cycles.cycle", cycle_id=cycle.id))
    return _cycle_editor(cycle)


# The cycle page ------------------------------------------------------------------------------


def _visible_cycle(cycle_id: int) -> Cycle:
    cycle = queries.load_cycle(cycle_id)
    policy.visible_or_404(cycle is not None)
    return cycle


@bp.route("/<int:cycle_id>")
def cycle(cycle_id: int):
    cycle = _visible_cycle(cycle_id)
    hr = policy.can_manage_cycles(current_user)
    policy.visible_or_404(hr or cycle.launched)
    context = {"cycle": cycle, "hr": hr, "states": list(ReviewState),
               "threshold": DIVERGENCE_THRESHOLD, "low_high": weight_bounds(),
               "KPI": KpiStatus.KPI, "counts": Counter(), "overdue": 0, "total": 0,
               "pending_by_manager": []}
    if cycle.launched:
        # Counts over everything the viewer may see; the table shows one page of it.
        counts = queries.review_counts(cycle, current_user)
        state = STATES.get(request.args.get("state", ""))
        asked = read_request(queries.REVIEW_SORTS, "rep")
        # ?reviewer=me: the reviews the viewer writes (the To do's "Write 32 reviews"), not
        # those of the managers below them too.
        mine = request.args.get("reviewer") == "me"
        context.update(
            counts=counts, total=sum(counts.values()), state=state, mine=mine,
            overdue=queries.overdue_count(cycle, counts),
            page=queries.review_page(cycle, current_user, asked, state,
                                     reviewer_id=current_user.id if mine else None),
            pending_by_manager=queries.pending_by_manager(cycle, current_user) if hr else [])
    elif hr:
        context["check"] = launch_check(cycle)
    return render_template("cycles/cycle.html" if hr else "cycles/overview.html", **context)


@bp.route("/<int:cycle_id>/launch", methods=["POST"])
def launch_cycle(cycle_id: int):
    _require_hr()
    cycle = db.get_or_404(Cycle, cycle_id)
    outcome = attempt(launch, current_user, cycle)
    if outcome.ok:
        n = len(outcome.value)
        flash(f"{cycle.name} was launched: {n} review{' is' if n == 1 else 's are'} open for "
              "self-assessment.", "success")
    elif isinstance(outcome.error, LaunchRefused):
        flash(f"{cycle.name} was not launched. Fix these first:", "error")
        for problem in outcome.error.problems:
            flash(problem, "error")
    else:
        flash(outcome.error.message, "error")
    return redirect(url_for("cycles.cycle", cycle_id=cycle_id))


# Per-rep targets -----------------------------------------------------------------------------


def _posted_targets(reps, values: dict, errors: dict) -> dict[int, float | None]:
    targets: dict[int, float | None] = {}
    for rep in reps:
        values[rep.id] = text = request.form.get(f"target_{rep.id}", "")
        try:
            targets[rep.id] = editor.parse_number(text)
        except ValueError:
            errors[f"target_{rep.id}"] = f"“{text}” is not a number."
    return targets


@bp.route("/<int:cycle_id>/targets", methods=["GET", "POST"])
def rep_targets(cycle_id: int):
    _require_hr()
    cycle = _visible_cycle(cycle_id)
    if not cycle.kpis:
        flash("Choose the cycle's KPIs first; then you can set reps' own targets.", "error")
        return redirect(url_for("cycles.cycle", cycle_id=cycle.id))
    kpi_id = request.args.get("kpi", type=int) or cycle.kpis[0].id
    kpi = next((k for k in cycle.kpis if k.id == kpi_id), None)
    policy.visible_or_404(kpi is not None)
    reps = queries.target_reps(cycle)
    own = {t.rep_id: t.target for t in kpi.targets}
    values = {r.id: numbers.exact(own[r.id], separators=False) if r.id in own else "" for r in reps}
    errors: dict[str, str] = {}
    if request.method == "POST":
        if cycle.launched:
            flash("This cycle has been launched; its targets are frozen.", "error")
            return redirect(url_for("cycles.cycle", cycle_id=cycle.id))
        targets = _posted_targets(reps, values, errors)
        if not errors:
            outcome = attempt(save_rep_targets, current_user, cycle, kpi, targets)
            if outcome.ok:
                flash(f"Targets for {kpi.name} were saved.", "success")
                return redirect(url_for("cycles.rep_targets", cycle_id=cycle.id, kpi=kpi.id))
            errors[outcome.error.field or "form"] = outcome.error.message
            cycle = _visible_cycle(cycle_id)
            kpi = next(k for k in cycle.kpis if k.id == kpi_id)
    return render_template("cycles/targets.html", cycle=cycle, kpi=kpi, reps=reps,
                           values=values, errors=errors)


# Calibration, sharing, finalising and closing a whole cycle ---------------------------------


@bp.route("/<int:cycle_id>/calibration")
def calibration(cycle_id: int):
    # Imported here: `calibration` is this view's name as well as its module's.
    from reviewapp.cycles.calibration import calibration_page
    from reviewapp.cycles.calibration_charts import page_charts

    cycle = _visible_cycle(cycle_id)
    policy.visible_or_404(cycle.launched)
    page = calibration_page(cycle, current_user, request.args)
    body = render_template("cycles/calibration.html", cycle=cycle, page=page,
                           charts=page_charts(page), threshold=DIVERGENCE_THRESHOLD)
    return body, 400 if page.error else 200


# Without script, a whole-cycle action that cannot be taken back asks on a page first (with
# script, confirm.js asks in a dialog from the button's data-confirm and posts confirm=1).
BULK_QUESTIONS = {
    "share_all": ("Share the calibrated reviews?",
                  "You are about to share every calibrated review of {cycle} with its rep.",
                  "Each rep is told and can read their ratings and notes; a shared review "
                  "cannot be unshared."),
    "finalize_all": ("Finalise the acknowledged reviews?",
                     "You are about to finalise every acknowledged review of {cycle}.",
                     "They become read-only and their signed records are made; only HR can "
                     "reopen one, with a reason."),
    "close": ("Close the cycle?", "You are about to close {cycle}.",
              "A closed cycle takes no more changes: its reviews can no longer be reopened."),
}


def _ask_first(cycle: Cycle, what: str):
    """The confirmation page of a whole-cycle action, or None once it is confirmed."""
    if request.form.get("confirm") == "1":
        return None
    title, about, after = BULK_QUESTIONS[what]
    return render_template("cycles/confirm.html", cycle=cycle, title=title,
                           about=about.format(cycle=cycle.name), after=after,
                           action_url=request.path,
                           back_url=url_for("cycles.cycle", cycle_id=cycle.id))


def _confirmed_cycle(cycle_id: int, what: str):
    """(the cycle, None) for HR's confirmed whole-cycle action; (cycle, the question page)
    while it is not confirmed yet."""
    _require_hr()
    cycle = db.get_or_404(Cycle, cycle_id)
    return cycle, _ask_first(cycle, what)


def _bulk(cycle_id: int, service, message: str, what: str):
    cycle, question = _confirmed_cycle(cycle_id, what)
    if question is not None:
        return question
    outcome = attempt(service, current_user, cycle)
    if outcome.ok:
        n = len(outcome.value)
        flash(message.format(n=n, s="s" if n != 1 else "", were="were" if n != 1 else "was",
                             they="they are" if n != 1 else "it is"), "success")
    else:
        flash(outcome.error.message, "error")
    return redirect(url_for("cycles.cycle", cycle_id=cycle_id))


@bp.route("/<int:cycle_id>/share-all", methods=["POST"])
def share_all(cycle_id: int):
    cycle, question = _confirmed_cycle(cycle_id, "share_all")
    if question is not None:
        return question
    outcome = attempt(share_cycle, current_user, cycle)
    if not outcome.ok:
        flash(outcome.error.message, "error")
    else:
        done = outcome.value
        flash(f"{len(done.shared)} review{'s were' if len(done.shared) != 1 else ' was'} "
              "shared with their reps.", "success")
        if done.held:
            flash(f"Not shared, for a reconciliation note first (its two scores now differ by "
                  f"{DIVERGENCE_THRESHOLD:g} or more): {', '.join(done.held)}. Return "
                  f"{'it' if len(done.held) == 1 else 'them'} to the manager to write it.",
                  "warning")
    return redirect(url_for("cycles.cycle", cycle_id=cycle_id))


@bp.route("/<int:cycle_id>/finalize-all", methods=["POST"])
def finalize_all(cycle_id: int):
    return _bulk(cycle_id, finalize_cycle,
                 "{n} acknowledged review{s} {were} finalised; {they} read-only now.",
                 "finalize_all")


@bp.route("/<int:cycle_id>/close", methods=["POST"])
def close(cycle_id: int):
    cycle, question = _confirmed_cycle(cycle_id, "close")
    if question is not None:
        return question
    outcome = attempt(close_cycle, current_user, cycle)
    if outcome.ok:
        flash(f"{cycle.name} is closed.", "success")
    else:
        flash(outcome.error.message, "error")
        for review in getattr(outcome.error, "open_reviews", [])[:50]:
            flash(Markup('<a href="{}">{}</a>: {}').format(
                url_for("reviews.review", review_id=review.id), review.rep.name,
                review.state.label.lower()), "error")
    return redirect(url_for("cycles.cycle", cycle_id=cycle_id))
