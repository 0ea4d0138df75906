"""KPI pages: the KPI list, the lab, runs and their results."""

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from reviewapp import policy
from reviewapp.analytics import ValidationParams
from reviewapp.analytics.wording import fmt_number, q_text
from reviewapp.auth.models import Team
from reviewapp.errors import show_on_form
from reviewapp.extensions import db
from reviewapp.kpis import bp, charts, queries
from reviewapp.kpis.forms import LabForm
from reviewapp.kpis.models import RunScope
from reviewapp.kpis.notes import notes_for_run
from reviewapp.kpis.runs import Scope, run_validation
from reviewapp.kpis.settings import outcome_metrics, primary_outcome_key
from reviewapp.kpis.validation_policy import current_policy
from reviewapp.metrics.catalogue import metric_by_key
from reviewapp.metrics.models import KpiStatus, Metric, MetricKind
from reviewapp.metrics.periods import Grain, Period
from reviewapp.transaction import attempt


@bp.before_request
@login_required
def _logged_in():
    pass


@bp.app_template_filter("q_text")
def q_shown(value: float) -> str:
    """'q < 0.001' or 'q = 0.0123' (analytics.wording.q_text), for pages and records."""
    return q_text(value)


@bp.app_template_filter("sig")
def significant(value: float) -> str:
    """3 significant figures, thousands separated: 2563.1 -> "2,560", 0.01234 -> "0.0123"."""
    return fmt_number(value, 3)


@bp.route("/")
def index():
    policy.require(policy.can_view_kpis(current_user))
    kpis = queries.current_kpis()
    under_review = db.session.scalar(sa.select(sa.func.count()).where(
        Metric.kind == MetricKind.ACTIVITY, Metric.kpi_status == KpiStatus.UNDER_REVIEW))
    key = primary_outcome_key()
    return render_template("kpis/index.html", kpis=kpis, under_review=under_review,
                           outcome_key=key, outcome=metric_by_key(key))


# The lab ------------------------------------------------------------------------------------


def _scope_choices() -> list[tuple[str, str]]:
    choices = []
    if policy.can_run_org_validation(current_user):
        choices.append(("org", "Whole organisation"))
    else:
        choices.append(("mine", "All reps below me (exploratory)"))
    teams = db.session.scalars(sa.select(Team).order_by(Team.name))
    choices += [(f"team:{t.id}", f"Team {t.name} (exploratory)") for t in teams
                if policy.can_run_team_validation(current_user, t)]
    return choices


def _scope_from(value: str) -> Scope:
    if value == "org" and policy.can_run_org_validation(current_user):
        return Scope(RunScope.ORGANISATION)
    if value == "mine" and current_user.is_manager:
        return Scope(RunScope.MANAGER, manager=current_user)
    if value.startswith("team:") and value[5:].isdigit():
        team = db.session.get(Team, int(value[5:]))
        if team is not None and policy.can_run_team_validation(current_user, team):
            return Scope(RunScope.TEAM, team=team)
    policy.require(False)
    raise AssertionError  # unreachable: require aborts


@bp.route("/lab", methods=["GET", "POST"])
def lab():
    policy.require(policy.can_use_kpi_lab(current_user))
    form = LabForm()
    form.scope.choices = _scope_choices()
    outcomes = outcome_metrics()
    primary = primary_outcome_key()
    form.outcome.choices = [(m.key, m.name + (" (primary)" if m.key == primary else ""))
                            for m in outcomes]
    candidates = queries.lab_candidates()
    form.candidates.choices = [(m.key, m.name) for m in candidates]
    spec = current_policy().spec
    if not form.is_submitted():
        form.outcome.data = primary
        form.candidates.data = [m.key for m in candidates]
        form.grain.data, form.lag.data = spec.grain, spec.lag
        form.window.data, form.period_effects.data = spec.window, spec.period_effects
    if form.validate_on_submit():
        attempted = attempt(
            run_validation, current_user, form.outcome.data, form.candidates.data,
            grain=form.grain.data, lag=form.lag.data, window=form.window.data,
            period_effects=form.period_effects.data, scope=_scope_from(form.scope.data))
        if not attempted.ok:
            show_on_form(form, attempted.error)
        else:
            outcome = attempted.value
            run = outcome.run
            changes = ", ".join(f"{k} {a} → {b}" for k, (a, b) in outcome.status_changes.items())
            flash(f"Run #{run.id} is stored. "
                  + (f"Status changes: {changes}." if changes else
                     "It is a policy run; no status changed." if run.counts_for_status
                     else "It is exploratory: no status changed."), "success")
            return redirect(url_for("kpis.run", run_id=run.id))
    statuses = queries.decided_by(m.id for m in candidates)
    return render_template("kpis/lab.html", form=form, candidates=candidates,
                           statuses=statuses, primary=primary, spec=spec,
                           retired=_retired_metrics(), rep_count=queries.rep_count(),
                           params=ValidationParams())


def _retired_metrics() -> list[Metric]:
    return list(db.session.scalars(sa.select(Metric).where(
        Metric.kpi_status == KpiStatus.RETIRED).order_by(Metric.name)))


@bp.route("/runs")
def runs():
    policy.require(policy.can_use_kpi_lab(current_user))
    runs = queries.visible_runs(current_user)
    return render_template("kpis/runs.html", runs=runs, names=queries.metric_names(runs))


def window_label(run) -> str:
    """"2024-Q1 – 2025-Q4", or a dash when the run found no data."""
    if run.window_start is None or run.window_end is None:
        return "no data"
    grain = Grain(run.grain)
    return f"{Period(grain, run.window_start).label} – {Period(grain, run.window_end).label}"


@bp.route("/runs/<int:run_id>")
def run(run_id: int):
    policy.require(policy.can_use_kpi_lab(current_user))
    found = queries.run_with_candidates(run_id)
    policy.visible_or_404(found is not None
                          and policy.can_view_validation_run(current_user, found))
    scope_ids = policy.people_scope_ids(current_user)

    def in_view(entries):
        # Managers see only reps in their scope, even in an organisation-wide run.
        shown = [e for e in entries if scope_ids is None or e["rep_id"] in scope_ids]
        return shown, len(entries) - len(shown)

    teachable, teachable_hidden = in_view(found.teachable_moments)
    coaching, coaching_hidden = in_view(found.coaching)
    people = queries.reps_by_id(e["rep_id"] for e in teachable + coaching)
    outcome_name = found.outcome_metric.name
    svgs = {c.id: charts.scatter_svg(c.chart, c.metric_name, outcome_name, f"r{found.id}c{c.id}")
            for c in found.candidates if c.chart}
    exploratory = [r for r in queries.exploratory_before(found)
                   if policy.can_view_validation_run(current_user, r)]
    return render_template(
        "kpis/run.html", run=found, window=window_label(found), svgs=svgs, teachable=teachable,
        coaching=coaching, teachable_hidden=teachable_hidden, coaching_hidden=coaching_hidden,
        people=people, notes=notes_for_run(found, current_user), exploratory=exploratory,
        days=queries.EXPLORATORY_DAYS, previous_end=_period_label(found, found.previous_end),
        names={c.metric_key: c.metric_name for c in found.candidates},
        taken_out=charts.taken_out([c.chart for c in found.candidates], found.grain))


def _period_label(run, start) -> str | None:
    return Period(Grain(run.grain), start).label if start is not None else None
