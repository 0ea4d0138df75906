"""`flask metrics …`: the catalogue, imports and exports from the command line."""

import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from reviewapp.auth.models import Role, User
from reviewapp.auth.services import find_by_email
from reviewapp.exports import csv_text, write_xlsx
from reviewapp.extensions import db
from reviewapp.metrics.catalogue import add_metric, list_metrics
from reviewapp.metrics.importer import apply_import, can_import, prepare_import
from reviewapp.metrics.models import Direction, Metric, MetricKind, Observation, Rollup
from reviewapp.metrics.periods import Grain, Period
from reviewapp.transaction import command_transaction

metrics_cli = AppGroup("metrics", help="Metric catalogue, import and export.")


@metrics_cli.command("add")
@click.argument("key")
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice([k.value for k in MetricKind]))
@click.option("--direction", required=True, type=click.Choice([d.value for d in Direction]))
@click.option("--rollup", required=True, type=click.Choice([r.value for r in Rollup]))
@click.option("--unit", default="")
@click.option("--description", default="")
def add_command(key, name, kind, direction, rollup, unit, description):
    """Add a metric to the catalogue."""
    with command_transaction():
        metric = add_metric(None, key=key, name=name, kind=kind, direction=direction,
                            rollup=rollup, unit=unit, description=description)
    click.echo(f"Added {metric.kind.value} metric {metric.key} (id {metric.id}).")


@metrics_cli.command("list")
def list_command():
    """List the catalogue."""
    for m in list_metrics():
        status = m.kpi_status.value if m.kpi_status else "outcome"
        flag = " [archived]" if m.archived else ""
        click.echo(f"{m.key:<20} {m.name:<28} {m.kind.value:<9} {m.direction.value:<7} "
                   f"{m.rollup.value:<5} {status}{flag}")


def _actor(email: str | None) -> User:
    if email:
        user = find_by_email(email)
        if user is None:
            raise click.ClickException(f"No user with email {email}.")
        if not can_import(user):  # (the service would answer 403: a traceback here)
            raise click.ClickException(f"{user.email} may not import metric data: only "
                                       "managers (for their people) and HR may, while active.")
        return user
    user = db.session.scalar(sa.select(User).where(User.role == Role.HR_ADMIN, User.active)
                             .order_by(User.id))
    if user is None:
        raise click.ClickException("No active HR admin to import as; pass --as EMAIL.")
    return user


@metrics_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "as_email", help="Import as this user (default: the first HR admin).")
@click.option("--replace", is_flag=True, help="Replace stored values that differ.")
@click.option("--sheet", help="XLSX sheet name (default: the first visible one).")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=METRIC",
              help="Read a wide file's column as this metric key (repeatable), as the "
                   "preview's mapping does: --map 'Dials/day=calls_per_day'.")
@click.option("--ignore", "ignored", multiple=True, metavar="COLUMN",
              help="Leave a wide file's column out (repeatable): --ignore Notes.")
def import_command(path: Path, as_email, replace, sheet, maps, ignored):
    """Import a CSV or XLSX file: all rows or none."""
    if sheet:  # a sheet of a CSV was silently ignored (the content decides, as the import's)
        with path.open("rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                raise click.BadParameter(f"a sheet is chosen in an XLSX workbook; {path.name} "
                                         "is not one", param_hint="--sheet")
    column_map: dict[str, str | None] = {}
    for item in maps:
        column, sep, key = item.rpartition("=")
        if not sep or not column.strip() or not key.strip():
            raise click.BadParameter(f"'{item}' is not COLUMN=METRIC (for example "
                                     "'Dials/day=calls_per_day')", param_hint="--map")
        column_map[column.strip()] = key.strip()
    for column in ignored:
        if column.strip() in column_map:
            raise click.BadParameter(f"column '{column.strip()}' is both mapped and ignored",
                                     param_hint="--ignore")
        column_map[column.strip()] = None
    actor = _actor(as_email)
    steps = ["read", "validate and compare", "write"]
    with click.progressbar(length=len(steps), label=f"Importing {path.name}",
                           file=sys.stderr, show_eta=False) as bar:
        data = path.read_bytes()
        bar.update(1)
        plan = prepare_import(actor, data, path.name, source="cli", sheet=sheet,
                              column_map=column_map or None)
        bar.update(1)
        if (plan.ok and plan.duplicate_of is None and not plan.writes_nothing
                and (replace or not plan.changed_count)):
            with command_transaction():
                batch = apply_import(actor, plan, replace=replace)
        bar.update(1)
    if not plan.ok:
        for err in plan.errors:
            where = f"line {err.line}" if err.line else "file"
            where += f", column {err.column}" if err.column else ""
            value = f" ('{err.value}')" if err.value not in (None, "") else ""
            click.echo(f"{where}{value}: {err.message}", err=True)
        raise click.ClickException(f"{plan.error_count} error(s); nothing was imported.")
    if plan.duplicate_of is not None:
        raise click.ClickException(
            f"This file was already imported as batch #{plan.duplicate_of}; nothing was written.")
    if plan.writes_nothing:
        raise click.ClickException(f"Every value is already stored ({plan.unchanged_count} "
                                   "unchanged); nothing was written.")
    if plan.changed_count and not replace:
        raise click.ClickException(
            f"{plan.changed_count} stored value(s) would change; run again with --replace to "
            "replace them. Nothing was written.")
    if plan.sheet is not None:
        click.echo(f"Read sheet '{plan.sheet}' ({len(plan.sheet_names)} in the workbook).")
    click.echo(f"Batch #{batch.id}: {batch.row_count} rows, {batch.new_count} new, "
               f"{batch.changed_count} changed, {batch.unchanged_count} unchanged.")


@metrics_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output for CSV).")
def export_command(fmt: str, output: Path | None):
    """Export every observation in the long layout (re-importable)."""
    rows = db.session.execute(
        sa.select(User.email, Observation.grain, Observation.period_start, Metric.key,
                  Observation.value)
        .join(User, User.id == Observation.rep_id).join(Metric, Metric.id == Observation.metric_id)
        .order_by(User.email, Metric.key, Observation.period_start)
    ).all()
    header = ["rep_email", "period", "metric", "value"]
    table = [(r[0], Period(Grain(r[1]), r[2]).label, r[3], r[4]) for r in rows]
    if fmt == "xlsx":
        if output is None:
            raise click.ClickException("XLSX export needs --output FILE.xlsx")
        write_xlsx(output, "observations", header, table)
        click.echo(f"Wrote {len(table)} rows to {output}.")
        return
    text = csv_text(header, table).replace("\r\n", "\n")
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"Wrote {len(table)} rows to {output}.")


@metrics_cli.command("rollups")
@click.option("--check", "mode", flag_value="check", default=True,
              help="Compare the roll-up table with a recomputation (the default).")
@click.option("--rebuild", "mode", flag_value="rebuild",
              help="Recompute the whole roll-up table from the observations.")
def rollups_command(mode):
    """Check (or rebuild) the stored month and quarter roll-ups against the observations."""
    from reviewapp.metrics import rollups

    if mode == "rebuild":
        with command_transaction():
            count = rollups.refresh(None)
        click.echo(f"Rebuilt the roll-up table: {count} roll-up(s) of months and quarters.")
        return
    differ = rollups.differences()
    if not differ.empty:
        click.echo(f"{len(differ)} roll-up(s) differ from the observations; run "
                   "`flask metrics rollups --rebuild`.")
        sys.exit(1)
    click.echo("The roll-up table and the observations agree.")
