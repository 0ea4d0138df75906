"""A metric's validation history, HR's status changes by hand, and the primary outcome."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from reviewapp import policy
from reviewapp.errors import show_on_form
from reviewapp.extensions import db
from reviewapp.kpis import bp, charts, queries
from reviewapp.kpis.forms import OutcomeForm, PolicyForm, StatusForm
from reviewapp.kpis.runs import singular
from reviewapp.kpis.settings import outcome_metrics, primary_outcome_key, set_primary_outcome
from reviewapp.kpis.status import reinstate, retire
from reviewapp.kpis.validation_policy import check_spec, current_policy, policy_history, set_policy
from reviewapp.metrics.models import KpiStatus, Metric, MetricKind
from reviewapp.transaction import attempt


@bp.route("/metrics/<int:metric_id>")
def history(metric_id: int):
    policy.require(policy.can_use_kpi_lab(current_user))
    metric = db.session.get(Metric, metric_id)
    policy.visible_or_404(metric is not None and metric.kind == MetricKind.ACTIVITY)
    return _history_page(metric, StatusForm())


def _history_page(metric: Metric, form: StatusForm):
    rows = [(c, r) for c, r in queries.history_of(metric)
            if policy.can_view_validation_run(current_user, r)]
    primary = primary_outcome_key()
    # The drift chart compares like with like: counted runs against the current primary outcome.
    counted = [(c, r) for c, r in rows if r.counts_for_status and r.outcome_key == primary]
    drift = charts.drift_svg(
        [f"#{r.id}" for _, r in counted], [c.coef for c, _ in counted],
        [c.ci_low for c, _ in counted], [c.ci_high for c, _ in counted],
        [c.verdict == "kpi" for c, _ in counted],
        f"{primary} per {singular(metric.unit) or 'unit'}",
        f"m{metric.id}-{len(counted)}") if counted else None
    return render_template("kpis/history.html", metric=metric, rows=rows, drift=drift,
                           timeline=queries.status_timeline(metric), form=form,
                           made_by=queries.made_kpi_by(metric.id), primary=primary,
                           provisional=metric.id in queries.provisional_ids([metric.id]))


@bp.route("/metrics/<int:metric_id>/status", methods=["POST"])
def metric_status(metric_id: int):
    policy.require(policy.can_change_kpi_status(current_user))
    metric = db.session.get(Metric, metric_id)
    policy.visible_or_404(metric is not None and metric.kind == MetricKind.ACTIVITY)
    form = StatusForm()
    action = request.form.get("action")
    if form.validate_on_submit():
        change = reinstate if action == "reinstate" else retire
        outcome = attempt(change, current_user, metric, form.reason.data)
        if not outcome.ok:
            show_on_form(form, outcome.error)
        else:
            flash(f"{metric.name} is now {metric.kpi_status.label.lower()}.", "success")
            return redirect(url_for("kpis.history", metric_id=metric.id))
    return _history_page(metric, form), 400


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    policy.require(policy.can_manage_kpi_settings(current_user))
    form = OutcomeForm()
    form.outcome.choices = [(m.key, m.name) for m in outcome_metrics()]
    current = primary_outcome_key()
    if not form.is_submitted():
        form.outcome.data = current
    if form.validate_on_submit():
        outcome = attempt(set_primary_outcome, current_user, form.outcome.data)
        if not outcome.ok:
            show_on_form(form, outcome.error)
        else:
            flash(f"The primary outcome is {form.outcome.data}.", "success")
            return redirect(url_for("kpis.lab"))
    known = any(key == current for key, _ in form.outcome.choices)
    return render_template("kpis/settings.html", form=form, current=current, known=known,
                           statuses=list(KpiStatus))


@bp.route("/policy", methods=["GET", "POST"])
def validation_policy():
    policy.require(policy.can_manage_kpi_settings(current_user))
    form = PolicyForm()
    current = current_policy()
    if not form.is_submitted():
        spec = current.spec
        form.grain.data, form.lag.data, form.window.data = spec.grain, spec.lag, spec.window
        form.period_effects.data = spec.period_effects
        form.alpha.data, form.margin.data = spec.alpha, spec.margin
    if form.validate_on_submit():
        def change():
            spec = check_spec(form.grain.data, form.lag.data, form.window.data,
                              form.period_effects.data, float(form.alpha.data),
                              float(form.margin.data))
            return set_policy(current_user, spec, form.reason.data)

        outcome = attempt(change)
        if not outcome.ok:
            show_on_form(form, outcome.error)
        else:
            flash("The validation policy is fixed; from the next run on, only runs under it "
                  "move KPI statuses." if outcome.value else "Nothing changed.", "success")
            return redirect(url_for("kpis.validation_policy"))
    status = 400 if form.is_submitted() else 200
    return render_template("kpis/policy.html", form=form, current=current,
                           history=policy_history()), status
