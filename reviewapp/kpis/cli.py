"""`flask kpi …`: run a validation and read a metric's history from the command line.

Runs from here are by "the system" (no actor) and organisation-wide unless --team. Settings
left out come from HR's validation policy; a run that keeps to it, over every active
candidate, is a policy run and may move KPI statuses.
"""

from __future__ import annotations

import json
import math

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from reviewapp.analytics import ValidationResult
from reviewapp.auth.models import Team
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.kpis import queries
from reviewapp.kpis.models import RunScope
from reviewapp.kpis.runs import RunOutcome, Scope, run_validation
from reviewapp.kpis.settings import primary_outcome_key
from reviewapp.kpis.validation_policy import check_spec, current_policy, policy_history, set_policy
from reviewapp.metrics.catalogue import metric_by_key
from reviewapp.transaction import command_transaction

kpi_cli = AppGroup("kpi", help="KPI validation.")

JSON_FIELDS = ("coef", "se_classical", "se_cluster", "ci_low", "ci_high", "p", "q",
               "std_effect", "std_ci_low", "std_ci_high", "mde", "lead_q", "partial_r2",
               "pooled_corr", "within_corr", "oos_gain")


def _finite(value):
    return value if value is None or math.isfinite(value) else None


def as_json(outcome: RunOutcome) -> dict:
    """The --json document: exactly the documented fields."""
    result: ValidationResult = outcome.result
    emails = {u.id: u.email for u in queries.reps_by_id(
        [e.rep for e in result.teachable_moments] + [e.rep for e in result.coaching]).values()}
    candidates = []
    for c in result.candidates:
        values = {"coef": c.coef, "se_classical": c.se_classical, "se_cluster": c.se_cluster,
                  "ci_low": c.ci_low, "ci_high": c.ci_high, "p": c.p, "q": c.q,
                  "std_effect": c.standardised_effect, "std_ci_low": c.std_ci_low,
                  "std_ci_high": c.std_ci_high, "mde": c.mde, "lead_q": c.lead_q,
                  "partial_r2": c.partial_r2, "pooled_corr": c.pooled_corr,
                  "within_corr": c.within_corr, "oos_gain": c.oos_gain}
        candidates.append({"metric": c.key, **{k: _finite(values[k]) for k in JSON_FIELDS},
                           "decision": c.decision,
                           "verdict": outcome.verdicts.get(c.key, c.decision),
                           "placebo_flag": c.placebo_flag, "reason": c.reason})
    return {
        "run_id": outcome.run.id if outcome.run is not None else None,
        "counts_for_status": outcome.counts_for_status,
        "exploratory_reason": outcome.exploratory_reason,
        "inference": result.inference,
        "n_reps": result.n_reps,
        "n_reps_once": result.n_reps_once,
        "n_obs": result.n_obs,
        "candidates": candidates,
        "teachable_moments": [{"email": emails.get(e.rep), "score": _finite(e.score)}
                              for e in result.teachable_moments],
        "coaching": [{"email": emails.get(e.rep), "score": _finite(e.score)}
                     for e in result.coaching],
    }


def _fmt(value, spec: str = ".3g") -> str:
    return "—" if value is None or not math.isfinite(value) else format(value, spec)


def _print_human(outcome: RunOutcome) -> None:
    result, run = outcome.result, outcome.run
    head = f"Dry run #{run.id}" if run.dry_run else f"Run #{run.id}"
    kind = ("policy run: counts for KPI status" if outcome.counts_for_status
            else f"exploratory ({outcome.exploratory_reason})")
    click.echo(f"{head}: {result.outcome} ~ {', '.join(c.key for c in result.candidates)}; "
               f"{result.n_reps} reps, {result.n_obs} observations, {result.n_periods} periods; "
               f"{kind}.")
    if result.n_reps_once:
        click.echo(f"Left out: {result.n_reps_once} reps with a single complete period.")
    click.echo(f"Inference: {result.inference.replace('_', ' ')}; period effects "
               f"{'on' if result.params.period_effects else 'off'}.")
    if result.insufficient_reason:
        click.echo(f"Not enough data: {result.insufficient_reason}")
    click.echo(f"{'metric':<20} {'verdict':<18} {'std effect':>10} {'interval':>17} "
               f"{'MDE':>6} {'q':>8}")
    for c in result.candidates:
        ci = (f"[{_fmt(c.std_ci_low, '.2f')}, {_fmt(c.std_ci_high, '.2f')}]"
              if c.std_ci_low is not None else "—")
        click.echo(f"{c.key:<20} {outcome.verdicts.get(c.key, c.decision):<18} "
                   f"{_fmt(c.standardised_effect, '.2f'):>10} {ci:>17} "
                   f"{_fmt(c.mde, '.2f'):>6} {_fmt(c.q):>8}")
    for row in run.candidates:
        # Some sentences start with the metric's name already ("Meetings: not enough data…").
        named = row.plain.lower().startswith(f"{row.metric_name.lower()}:")
        click.echo(f"- {row.plain}" if named else f"- {row.metric_name}: {row.plain}")
    for key, (before, after) in outcome.status_changes.items():
        click.echo(f"Status: {key} {before} -> {after}")
    click.echo(f"Teachable moments: {len(result.teachable_moments)}; coaching: "
               f"{len(result.coaching)}.")


@kpi_cli.command("validate")
@click.option("--outcome", default=None, help="Outcome metric key (default: the primary one).")
@click.option("--candidates", default=None,
              help="Comma-separated activity metric keys (default: every active candidate).")
@click.option("--grain", type=click.Choice(["quarter", "month"]), default=None,
              help="Default: the validation policy's.")
@click.option("--lag", type=click.IntRange(0, 1), default=None,
              help="Default: the validation policy's.")
@click.option("--period-effects/--no-period-effects", default=None,
              help="Default: the validation policy's (on).")
@click.option("--team", "team_name", default=None, help="Exploratory run on one team's reps.")
@click.option("--window", type=int, default=None,
              help="Last N periods (default: the validation policy's).")
@click.option("--dry-run", is_flag=True,
              help="Change no status; the run is still kept and counted as exploratory.")
@click.option("--json", "as_json_flag", is_flag=True, help="Print one JSON object.")
def validate_command(outcome, candidates, grain, lag, period_effects, team_name, window,
                     dry_run, as_json_flag):
    """Validate candidate metrics against an outcome (a policy run if nothing departs)."""
    scope = Scope()
    if team_name:
        team = db.session.scalar(sa.select(Team).where(Team.name == team_name))
        if team is None:
            raise click.ClickException(f"No team named {team_name!r}.")
        scope = Scope(RunScope.TEAM, team=team)
    with command_transaction():
        result = run_validation(None, outcome or primary_outcome_key(),
                                candidates.split(",") if candidates else None, grain=grain,
                                lag=lag, window=window, period_effects=period_effects,
                                scope=scope, source="cli", dry_run=dry_run)
    if as_json_flag:
        click.echo(json.dumps(as_json(result)))
    else:
        _print_human(result)


@kpi_cli.command("history")
@click.argument("key")
def history_command(key: str):
    """A metric's KPI status over time and every run that tested it."""
    metric = metric_by_key(key)
    if metric is None or metric.kpi_status is None:
        raise click.ClickException(f"No activity metric with key {key!r}.")
    click.echo(f"{metric.name} ({metric.key}): {metric.kpi_status.label}")
    click.echo("Status timeline:")
    for event in queries.status_timeline(metric):
        via = f" by run #{event.run_id}" if event.run_id else f" by {event.actor}"
        before = f"{event.before} -> " if event.before else ""
        click.echo(f"  {event.at:%Y-%m-%d %H:%M} {before}{event.after}{via}"
                   + (f" ({event.reason})" if event.reason and not event.run_id else ""))
    click.echo("Runs:")
    for c, run in queries.history_of(metric):
        kind = "policy run" if run.counts_for_status else "exploratory"
        change = (f" {c.status_before} -> {c.status_after}"
                  if c.status_after and c.status_after != c.status_before else "")
        click.echo(f"  #{run.id} {run.created_at:%Y-%m-%d} {run.outcome_key} {run.scope_label} "
                   f"({kind}): {c.verdict}, coef {_fmt(c.coef)} [{_fmt(c.ci_low)}, "
                   f"{_fmt(c.ci_high)}], q {_fmt(c.q)}{change}")


@kpi_cli.command("policy")
@click.option("--grain", type=click.Choice(["quarter", "month"]), default=None)
@click.option("--lag", type=click.IntRange(0, 1), default=None)
@click.option("--window", type=int, default=None)
@click.option("--period-effects/--no-period-effects", default=None)
@click.option("--alpha", type=float, default=None)
@click.option("--margin", type=float, default=None,
              help="Smallest standardised within-rep effect worth scoring.")
@click.option("--reason", default=None, help="Why the policy changes (needed to change it).")
def policy_command(grain, lag, window, period_effects, alpha, margin, reason):
    """Show the validation policy and its history; with options and --reason, change it."""
    current = current_policy().spec
    wanted = (grain, lag, window, period_effects, alpha, margin)
    if any(v is not None for v in wanted):
        def given(value, kept):  # 0 is a value given (and refused), not "keep the current"
            return kept if value is None else value

        try:
            spec = check_spec(given(grain, current.grain), given(lag, current.lag),
                              given(window, current.window),
                              given(period_effects, current.period_effects),
                              given(alpha, current.alpha), given(margin, current.margin))
            with command_transaction():
                set_policy(None, spec, reason or "")
        except ServiceError as exc:
            where = f"--{exc.field.replace('_', '-')}: " if exc.field else ""
            raise click.ClickException(f"{where}{exc.message} Nothing was changed.") from None
        current = spec
    click.echo(f"Validation policy: {current.grain}, lag {current.lag}, window {current.window}, "
               f"period effects {'on' if current.period_effects else 'off'}, "
               f"alpha {current.alpha:g}, margin {current.margin:g}")
    for row in policy_history():
        by = row.created_by.name if row.created_by else "the system"
        click.echo(f"  #{row.id} {row.created_at:%Y-%m-%d} by {by}: {row.grain}, lag {row.lag}, "
                   f"window {row.window_periods}, period effects "
                   f"{'on' if row.period_effects else 'off'}, alpha {row.alpha:g}, margin "
                   f"{row.margin:g} ({row.reason})")
