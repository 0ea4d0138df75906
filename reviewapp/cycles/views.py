"""Cycle pages: HR's competencies, weight bounds, cycle editor and launch; managers' overview.

Reps never see these pages (403). Managers see launched cycles only, and in them only their
people; a draft cycle does not exist for them (404).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from reviewapp import policy
from reviewapp.auth.models import Role, Team, User
from reviewapp.errors import ServiceError, show_on_form
from reviewapp.extensions import db
from reviewapp.metrics.models import KpiStatus, Metric, MetricKind
from reviewapp.metrics.periods import current_quarter
from reviewapp.reviews import cycles_bp
from reviewapp.reviews.cycle_forms import CompetencyForm, CycleForm, WeightBoundsForm
from reviewapp.reviews.cycle_models import (
    DEFAULT_BANDS,
    Competency,
    Cycle,
    CycleCompetency,
    CycleKpi,
    CycleStatus,
)
from reviewapp.reviews.cycles import (
    CycleDraft,
    ensure_default_competencies,
    launch,
    launch_check,
    participants,
    save_competency,
    save_cycle,
    set_rep_targets,
    set_weight_bounds,
    weight_bounds,
)
from reviewapp.reviews.models import Review, ReviewState
from reviewapp.reviews.scoring import DIVERGENCE_THRESHOLD, validate_bands


@cycles_bp.before_request
@login_required
def _managers_and_hr():
    policy.require(policy.can_view_cycle_overview(current_user))


def _require_hr() -> None:
    policy.require(policy.can_manage_cycles(current_user))




# Cycles list and weight bounds ---------------------------------------------------------------


def _state_counts(cycle_ids: list[int], scope: frozenset[int] | None) -> dict[int, Counter]:
    """Reviews per cycle and state, in one statement (within the actor's people)."""
    counts: dict[int, Counter] = {cid: Counter() for cid in cycle_ids}
    if not cycle_ids:
        return counts
    query = (sa.select(Review.cycle_id, Review.state, sa.func.count())
             .where(Review.cycle_id.in_(cycle_ids)).group_by(Review.cycle_id, Review.state))
    if scope is not None:
        query = query.where(Review.rep_id.in_(scope))
    for cycle_id, state, n in db.session.execute(query):
        counts[cycle_id][ReviewState(state)] = n
    return counts


def _render_index(bounds_form: WeightBoundsForm):
    hr = policy.can_manage_cycles(current_user)
    query = sa.select(Cycle).order_by(Cycle.period_start.desc(), Cycle.id.desc())
    if not hr:
        query = query.where(Cycle.status != CycleStatus.DRAFT)
    cycles = list(db.session.scalars(query))
    counts = _state_counts([c.id for c in cycles], policy.people_scope_ids(current_user))
    waiting = Counter()
    if not hr:
        waiting.update(db.session.scalars(sa.select(Review.cycle_id).where(
            Review.manager_id == current_user.id, Review.state == ReviewState.MANAGER_REVIEW)))
    return render_template("cycles/index.html", cycles=cycles, counts=counts, waiting=waiting,
                           states=list(ReviewState), hr=hr, bounds_form=bounds_form,
                           bounds=weight_bounds())


@cycles_bp.route("/")
def index():
    form = WeightBoundsForm(formdata=None)
    form.weight_min.data, form.weight_max.data = weight_bounds()
    return _render_index(form)


@cycles_bp.route("/weight-bounds", methods=["POST"])
def weight_bounds_save():
    _require_hr()
    form = WeightBoundsForm()
    if form.validate_on_submit():
        try:
            set_weight_bounds(current_user, form.weight_min.data, form.weight_max.data)
        except ServiceError as exc:
            db.session.rollback()
            show_on_form(form, exc)
        else:
            db.session.commit()
            flash(f"Cycles may now weigh KPIs between {form.weight_min.data:.2f} and "
                  f"{form.weight_max.data:.2f}.", "success")
            return redirect(url_for("cycles.index"))
    return _render_index(form)


# Competencies --------------------------------------------------------------------------------


@cycles_bp.route("/competencies")
def competencies():
    _require_hr()
    catalogue = ensure_default_competencies()
    db.session.commit()  # the defaults, when the catalogue was empty
    return render_template("cycles/competencies.html", competencies=catalogue)


def _competency_page(competency: Competency | None):
    form = CompetencyForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET" and competency is not None:
        form.name.data, form.description.data = competency.name, competency.description
        form.active.data = competency.active
        for f, text in zip(form.anchor_fields(), competency.anchors, strict=False):
            f.data = text
    if form.validate_on_submit():
        try:
            saved = save_competency(current_user, competency, name=form.name.data,
                                    description=form.description.data,
                                    anchors=[f.data for f in form.anchor_fields()],
                                    active=form.active.data)
        except ServiceError as exc:
            db.session.rollback()
            show_on_form(form, exc)
        else:
            db.session.commit()
            flash(f"{saved.name} was saved.", "success")
            return redirect(url_for("cycles.competencies"))
    if competency is not None:
        competency = db.session.get(Competency, competency.id)
    return render_template("cycles/competency_form.html", form=form, competency=competency)


@cycles_bp.route("/competencies/new", methods=["GET", "POST"])
def competency_new():
    _require_hr()
    return _competency_page(None)


@cycles_bp.route("/competencies/<int:competency_id>/edit", methods=["GET", "POST"])
def competency_edit(competency_id: int):
    _require_hr()
    return _competency_page(db.get_or_404(Competency, competency_id))


@cycles_bp.route("/competencies/<int:competency_id>/active", methods=["POST"])
def competency_active(competency_id: int):
    _require_hr()
    competency = db.get_or_404(Competency, competency_id)
    active = request.form.get("active") == "1"
    try:
        save_competency(current_user, competency, name=competency.name,
                        description=competency.description, anchors=list(competency.anchors),
                        active=active)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("cycles.competencies"))
    db.session.commit()
    flash(f"{competency.name} is {'active again' if active else 'deactivated'}"
          f"{'' if active else '; new cycles will not offer it'}.", "success")
    return redirect(url_for("cycles.competencies"))


# The cycle editor ----------------------------------------------------------------------------


def _kpi_metrics(cycle: Cycle | None) -> list[Metric]:
    """Activity metrics to offer: validated KPIs first, then the rest; plus any already chosen."""
    chosen = [k.metric_id for k in cycle.kpis] if cycle else []
    metrics = db.session.scalars(sa.select(Metric).where(
        Metric.kind == MetricKind.ACTIVITY,
        sa.or_(sa.not_(Metric.archived), Metric.id.in_(chosen))))
    return sorted(metrics, key=lambda m: (m.kpi_status != KpiStatus.KPI, m.name.lower()))


def _number(text: str | None) -> float | None:
    try:
        return float(text.replace(",", "")) if text and text.strip() else None
    except ValueError:
        raise ValueError(text) from None


def _kpi_rows(metrics: list[Metric], cycle: Cycle | None) -> list[dict]:
    """One editor row per metric, from the posted form or the saved cycle."""
    if request.method == "POST":
        chosen = set(request.form.getlist("kpi", type=int))
        return [{"metric": m, "chosen": m.id in chosen,
                 "target": request.form.get(f"target_{m.id}", ""),
                 "weight": request.form.get(f"weight_{m.id}", "")} for m in metrics]
    saved = {k.metric_id: k for k in cycle.kpis} if cycle else {}
    return [{"metric": m, "chosen": m.id in saved,
             "target": f"{saved[m.id].target:g}" if m.id in saved else "",
             "weight": f"{saved[m.id].weight:g}" if m.id in saved else "",
             "own_targets": len(saved[m.id].targets) if m.id in saved else 0} for m in metrics]


def _parse_kpis(rows: list[dict]) -> list[tuple[int, float, float]]:
    """(metric, target, weight) of the chosen rows; ServiceError(field="kpis") when unreadable."""
    out = []
    for row in (r for r in rows if r["chosen"]):
        name = row["metric"].name
        try:
            target, weight = _number(row["target"]), _number(row["weight"])
        except ValueError as exc:
            raise ServiceError(f"{name}: “{exc}” is not a number.", field="kpis") from None
        if target is None:
            raise ServiceError(f"Enter a target for {name}.", field="kpis")
        out.append((row["metric"].id, target, 1.0 if weight is None else weight))
    return out


def _fill(form: CycleForm, cycle: Cycle | None) -> None:
    """The saved cycle on the form; for a new one, next quarter with deadlines after it."""
    if cycle is None:
        period = current_quarter().next()
        form.period.data = period.label
        for f, days in zip(form.due_fields(), (7, 21, 35, 49), strict=True):
            f.data = period.end + timedelta(days=days)
        form.quant_weight.data = 0.5
        form.competencies.data = [c.id for c in ensure_default_competencies() if c.active]
        bands = DEFAULT_BANDS
    else:
        form.name.data, form.period.data = cycle.name, cycle.period_label
        for f, due in zip(form.due_fields(), (cycle.self_due, cycle.manager_due,
                                              cycle.calibration_due, cycle.acknowledgement_due),
                          strict=True):
            f.data = due
        form.quant_weight.data = cycle.quant_weight
        form.teams.data = [t.id for t in cycle.teams]
        form.people.data = [p.id for p in cycle.people]
        form.competencies.data = [c.competency_id for c in cycle.competencies]
        bands = cycle.bands
    for f, value in zip(form.band_fields(), bands, strict=True):
        percent = round(value * 100, 4)
        f.data = int(percent) if percent.is_integer() else percent


def _band_mapping(form: CycleForm) -> list[tuple[int, str]] | None:
    """The 1–5 score each attainment range gets, from the bands on the form (if readable)."""
    values = [f.data for f in form.band_fields()]
    try:
        validate_bands([v / 100 for v in values])
    except (TypeError, ValueError):
        return None
    v = [f"{x:g} %" for x in values]
    return [(1, f"below {v[0]}"), (2, f"{v[0]} to under {v[1]}"),
            (3, f"{v[1]} to under {v[2]}"), (4, f"{v[2]} to under {v[3]}"),
            (5, f"{v[3]} or more")]


def _cycle_editor(cycle: Cycle | None):
    form = CycleForm(formdata=request.form if request.method == "POST" else None)
    form.teams.choices = [(t.id, t.name) for t in db.session.scalars(
        sa.select(Team).order_by(Team.name))]
    reps = db.session.scalars(sa.select(User).options(joinedload(User.team)).where(
        User.role == Role.REP, User.active).order_by(User.name))
    form.people.choices = [(u.id, f"{u.name} ({u.team.name})" if u.team else u.name)
                           for u in reps]
    in_cycle = [c.competency_id for c in cycle.competencies] if cycle else []
    catalogue = ensure_default_competencies()
    db.session.commit()  # the defaults, when the catalogue was empty: the form refers to them
    offered = [c for c in catalogue if c.active or c.id in in_cycle]
    offered_ids = {c.id for c in offered}
    form.competencies.choices = [(c.id, c.name if c.active else f"{c.name} (inactive)")
                                 for c in offered]
    metrics = _kpi_metrics(cycle)
    rows = _kpi_rows(metrics, cycle)
    errors: dict[str, str] = {}
    if request.method == "GET":
        _fill(form, cycle)
    elif form.validate_on_submit():
        try:
            draft = CycleDraft(
                name=form.name.data, period=form.period.data, self_due=form.self_due.data,
                manager_due=form.manager_due.data, calibration_due=form.calibration_due.data,
                acknowledgement_due=form.acknowledgement_due.data,
                quant_weight=form.quant_weight.data,
                bands=[f.data / 100 for f in form.band_fields()],
                team_ids=form.teams.data or [], person_ids=form.people.data or [],
                competency_ids=[i for i in form.competencies.data or [] if i in offered_ids],
                kpis=_parse_kpis(rows))
            saved = save_cycle(current_user, cycle, draft)
        except ServiceError as exc:
            db.session.rollback()
            show_on_form(form, exc, errors)
        else:
            db.session.commit()
            flash(f"{saved.name} was saved as a draft. Launch it when the checks are green.",
                  "success")
            return redirect(url_for("cycles.cycle", cycle_id=saved.id))
    if cycle is not None:
        cycle = db.session.get(Cycle, cycle.id)
    low, high = weight_bounds()
    w = form.quant_weight.data
    return render_template(
        "cycles/editor.html", form=form, cycle=cycle, rows=rows, errors=errors,
        low=low, high=high, mapping=_band_mapping(form), KPI=KpiStatus.KPI,
        w_outside=isinstance(w, (int, float)) and not low <= w <= high)


@cycles_bp.route("/new", methods=["GET", "POST"])
def cycle_new():
    _require_hr()
    return _cycle_editor(None)


@cycles_bp.route("/<int:cycle_id>/edit", methods=["GET", "POST"])
def cycle_edit(cycle_id: int):
    _require_hr()
    cycle = db.get_or_404(Cycle, cycle_id)
    if cycle.launched:
        flash(f"{cycle.name} has been launched: its rules, people, competencies and KPIs are "
              "frozen and can no longer be edited.", "error")
        return redirect(url_for("cycles.cycle", cycle_id=cycle.id))
    return _cycle_editor(cycle)


# The cycle page ------------------------------------------------------------------------------

DUE_BY_STATE = {
    ReviewState.NOT_STARTED: "self_due", ReviewState.SELF_REVIEW: "self_due",
    ReviewState.MANAGER_REVIEW: "manager_due", ReviewState.CALIBRATION: "calibration_due",
    ReviewState.SHARED: "acknowledgement_due",
}


def _load_cycle(cycle_id: int) -> Cycle:
    cycle = db.session.scalar(sa.select(Cycle).where(Cycle.id == cycle_id).options(
        selectinload(Cycle.teams), selectinload(Cycle.people),
        selectinload(Cycle.kpis).options(joinedload(CycleKpi.metric),
                                         selectinload(CycleKpi.targets)),
        selectinload(Cycle.competencies).joinedload(CycleCompetency.competency)))
    policy.visible_or_404(cycle is not None)
    return cycle


def _review_rows(cycle: Cycle, scope: frozenset[int] | None) -> list[dict]:
    """Every review of the cycle (within scope) with its deadline and what the actor may see."""
    query = (sa.select(Review).join(User, User.id == Review.rep_id)
             .where(Review.cycle_id == cycle.id)
             .options(joinedload(Review.rep).joinedload(User.team), joinedload(Review.manager))
             .order_by(User.name))
    if scope is not None:
        query = query.where(Review.rep_id.in_(scope))
    today = date.today()
    rows = []
    for review in db.session.scalars(query):
        due_field = DUE_BY_STATE.get(review.state)
        due = getattr(cycle, due_field) if due_field else None
        show = policy.can_see_review_scores(current_user, review)
        quant, qual = review.quant_score, review.qual_score
        rows.append({
            "review": review, "due": due, "overdue": due is not None and due < today,
            "show_scores": show,
            "divergent": show and quant is not None and qual is not None
            and abs(quant - qual) >= DIVERGENCE_THRESHOLD,
        })
    return rows


@cycles_bp.route("/<int:cycle_id>")
def cycle(cycle_id: int):
    cycle = _load_cycle(cycle_id)
    hr = policy.can_manage_cycles(current_user)
    policy.visible_or_404(hr or cycle.launched)
    rows = _review_rows(cycle, policy.people_scope_ids(current_user)) if cycle.launched else []
    context = {"cycle": cycle, "rows": rows, "hr": hr, "states": list(ReviewState),
               "counts": Counter(r["review"].state for r in rows),
               "threshold": DIVERGENCE_THRESHOLD, "low_high": weight_bounds(),
               "KPI": KpiStatus.KPI}
    if hr and not cycle.launched:
        context["check"] = launch_check(cycle)
    return render_template("cycles/cycle.html" if hr else "cycles/overview.html", **context)


@cycles_bp.route("/<int:cycle_id>/launch", methods=["POST"])
def launch_cycle(cycle_id: int):
    _require_hr()
    cycle = db.get_or_404(Cycle, cycle_id)
    check = launch_check(cycle)
    if not check.ok:
        flash(f"{cycle.name} was not launched. Fix these first:", "error")
        for problem in check.problems:
            flash(problem, "error")
        return redirect(url_for("cycles.cycle", cycle_id=cycle.id))
    reviews = launch(current_user, cycle)
    db.session.commit()
    flash(f"{cycle.name} was launched: {len(reviews)} reviews are open for self-assessment.",
          "success")
    return redirect(url_for("cycles.cycle", cycle_id=cycle.id))


# Per-rep targets -----------------------------------------------------------------------------


@cycles_bp.route("/<int:cycle_id>/targets", methods=["GET", "POST"])
def rep_targets(cycle_id: int):
    _require_hr()
    cycle = _load_cycle(cycle_id)
    if not cycle.kpis:
        flash("Choose the cycle's KPIs first; then you can set reps' own targets.", "error")
        return redirect(url_for("cycles.cycle", cycle_id=cycle.id))
    kpi_id = request.args.get("kpi", type=int) or cycle.kpis[0].id
    kpi = next((k for k in cycle.kpis if k.id == kpi_id), None)
    policy.visible_or_404(kpi is not None)
    if cycle.launched:  # the reps who got a review, whoever is in the teams now
        reps = list(db.session.scalars(
            sa.select(User).join(Review, Review.rep_id == User.id)
            .where(Review.cycle_id == cycle.id).order_by(User.name)))
    else:
        reps = participants(cycle)
    own = {t.rep_id: t.target for t in kpi.targets}
    values = {r.id: f"{own[r.id]:g}" if r.id in own else "" for r in reps}
    errors: dict[str, str] = {}
    if request.method == "POST":
        if cycle.launched:
            flash("This cycle has been launched; its targets are frozen.", "error")
            return redirect(url_for("cycles.cycle", cycle_id=cycle.id))
        targets: dict[int, float | None] = {}
        for rep in reps:
            values[rep.id] = text = request.form.get(f"target_{rep.id}", "")
            try:
                targets[rep.id] = _number(text)
            except ValueError:
                errors[f"target_{rep.id}"] = f"“{text}” is not a number."
        if not errors:
            try:
                set_rep_targets(current_user, cycle, kpi, targets)
            except ServiceError as exc:
                db.session.rollback()
                errors[exc.field or "form"] = exc.message
            else:
                db.session.commit()
                flash(f"Targets for {kpi.name} were saved.", "success")
                return redirect(url_for("cycles.rep_targets", cycle_id=cycle.id, kpi=kpi.id))
        cycle = _load_cycle(cycle_id)
        kpi = next(k for k in cycle.kpis if k.id == kpi_id)
    return render_template("cycles/targets.html", cycle=cycle, kpi=kpi, reps=reps,
                           values=values, errors=errors)
