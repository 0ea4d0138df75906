"""`flask kpi …`: run a validation and read a metric's history from the command line.

Runs from here are by "the system" (no actor) and organisation-wide unless --team.
"""

from __future__ import annotations

import json
import math

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from reviewapp.analytics import ValidationResult
from reviewapp.auth.models import Team
from reviewapp.extensions import db
from reviewapp.kpis import queries
from reviewapp.kpis.models import RunScope
from reviewapp.kpis.runs import RunOutcome, Scope, run_validation, sentence_case
from reviewapp.kpis.settings import primary_outcome_key
from reviewapp.metrics.catalogue import metric_by_key
from reviewapp.transaction import command_transaction

kpi_cli = AppGroup("kpi", help="KPI validation.")

JSON_FIELDS = ("coef", "se_classical", "se_cluster", "ci_low", "ci_high", "p", "q",
               "std_effect", "partial_r2", "pooled_corr", "within_corr", "oos_gain")


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
                  "std_effect": c.standardised_effect, "partial_r2": c.partial_r2,
                  "pooled_corr": c.pooled_corr, "within_corr": c.within_corr,
                  "oos_gain": c.oos_gain}
        candidates.append({"metric": c.key, **{k: _finite(values[k]) for k in JSON_FIELDS},
                           "decision": c.decision, "reason": c.reason})
    return {
        "run_id": outcome.run.id if outcome.run is not None else None,
        "n_reps": result.n_reps,
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
    head = f"Run #{run.id}" if run is not None else "Dry run (nothing stored)"
    kind = "counts for KPI status" if outcome.counts_for_status else "exploratory"
    click.echo(f"{head}: {result.outcome} ~ {', '.join(c.key for c in result.candidates)}; "
               f"{result.n_reps} reps, {result.n_obs} observations, {result.n_periods} periods; "
               f"{kind}.")
    if result.insufficient_reason:
        click.echo(f"Not enough data: {result.insufficient_reason}")
    click.echo(f"{'metric':<20} {'decision':<18} {'coef':>9} {'95% CI':>21} {'q':>8} "
               f"{'oos gain':>9}")
    for c in result.candidates:
        ci = f"[{_fmt(c.ci_low)}, {_fmt(c.ci_high)}]" if c.ci_low is not None else "—"
        click.echo(f"{c.key:<20} {c.decision:<18} {_fmt(c.coef):>9} {ci:>21} {_fmt(c.q):>8} "
                   f"{_fmt(c.oos_gain):>9}")
    for c in result.candidates:
        click.echo(f"- {sentence_case(c.sentence)}")
    for key, (before, after) in outcome.status_changes.items():
        click.echo(f"Status: {key} {before} -> {after}")
    click.echo(f"Teachable moments: {len(result.teachable_moments)}; coaching: "
               f"{len(result.coaching)}.")


@kpi_cli.command("validate")
@click.option("--outcome", default=None, help="Outcome metric key (default: the primary one).")
@click.option("--candidates", required=True, help="Comma-separated activity metric keys.")
@click.option("--grain", type=click.Choice(["quarter", "month"]), default="quarter",
              show_default=True)
@click.option("--lag", type=click.IntRange(0, 1), default=0, show_default=True)
@click.option("--team", "team_name", default=None, help="Exploratory run on one team's reps.")
@click.option("--window", type=int, default=None,
              help="Last N periods (default 8 quarters or 24 months).")
@click.option("--dry-run", is_flag=True, help="Compute and print; store nothing.")
@click.option("--json", "as_json_flag", is_flag=True, help="Print one JSON object.")
def validate_command(outcome, candidates, grain, lag, team_name, window, dry_run, as_json_flag):
    """Validate candidate metrics against an outcome."""
    scope = Scope()
    if team_name:
        team = db.session.scalar(sa.select(Team).where(Team.name == team_name))
        if team is None:
            raise click.ClickException(f"No team named {team_name!r}.")
        scope = Scope(RunScope.TEAM, team=team)
    with command_transaction(keep=not dry_run):
        result = run_validation(None, outcome or primary_outcome_key(), candidates.split(","),
                                grain=grain, lag=lag, window=window, scope=scope, source="cli",
                                dry_run=dry_run)
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
        kind = "counted" if run.counts_for_status else "exploratory"
        change = (f" {c.status_before} -> {c.status_after}"
                  if c.status_after and c.status_after != c.status_before else "")
        click.echo(f"  #{run.id} {run.created_at:%Y-%m-%d} {run.outcome_key} {run.scope_label} "
                   f"({kind}): {c.decision}, coef {_fmt(c.coef)} [{_fmt(c.ci_low)}, "
                   f"{_fmt(c.ci_high)}], q {_fmt(c.q)}{change}")
