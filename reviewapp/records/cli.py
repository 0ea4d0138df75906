"""`flask records keygen | render | export | verify | worker`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from reviewapp.admin.services import find_team
from reviewapp.cycles.models import Cycle
from reviewapp.extensions import db
from reviewapp.records import export, jobs, services
from reviewapp.records.models import RecordStatus, ReviewRecord
from reviewapp.transaction import command_transaction

records_cli = AppGroup("records", help="Review records: signing key, rendering, export, "
                                       "verification.")


def _cycle(name: str) -> Cycle:
    cycle = db.session.scalar(sa.select(Cycle).where(Cycle.name == name))
    if cycle is None:
        names = ", ".join(db.session.scalars(sa.select(Cycle.name).order_by(Cycle.name)))
        raise click.ClickException(f"No cycle is called {name!r}. Cycles: {names or 'none'}.")
    return cycle


@records_cli.command("keygen")
@click.option("--out", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for signing-key.pem and signing-cert.pem (default: instance/).")
@click.option("--days", default=3 * 365, show_default=True, type=click.IntRange(min=1),
              help="Validity of the certificate.")
@click.option("--force", is_flag=True, help="Replace an existing pair.")
def keygen_command(directory: Path | None, days: int, force: bool):
    """Make a self-signed signing key and certificate for evaluation (key mode 0600)."""
    from reviewapp.records.signing import SigningError, keygen  # pyHanko: only when used

    directory = directory or Path(current_app.instance_path)
    try:
        key, cert = keygen(directory, current_app.config.get("ORGANISATION_NAME") or "ReviewApp",
                           days=days, force=force)
    except SigningError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Wrote {key} (mode 0600) and {cert}.")
    if directory.resolve() != Path(current_app.instance_path).resolve():
        click.echo(f"Use them with REVIEWAPP_SIGNING_KEY={key} REVIEWAPP_SIGNING_CERT={cert}.")
    else:
        click.echo("New records are signed with them. For production, use a certificate from "
                   "your company's CA instead (see the README).")


def _wait(ids: list[int], handles: list, timeout: float) -> dict[RecordStatus, int]:
    """Show a progress bar until every record is rendered or failed (or the timeout)."""
    deadline = time.monotonic() + timeout
    done_states = (RecordStatus.RENDERED, RecordStatus.FAILED)
    counts: dict = {}
    with click.progressbar(length=len(ids), label="Rendering", show_pos=True,
                           file=sys.stderr) as bar:
        shown = 0
        while True:
            db.session.rollback()  # see what the workers committed
            counts = dict(db.session.execute(
                sa.select(ReviewRecord.status, sa.func.count()).where(ReviewRecord.id.in_(ids))
                .group_by(ReviewRecord.status)).all())
            finished = sum(counts.get(s, 0) for s in done_states)
            bar.update(finished - shown)
            shown = finished
            if finished >= len(ids) or time.monotonic() > deadline:
                break
            time.sleep(0.25)
    jobs.wait_for([h for h in handles if h is not None], timeout=1)
    return counts


@records_cli.command("render")
@click.option("--cycle", "cycle_name", required=True, help="The cycle's name.")
@click.option("--workers", type=click.IntRange(min=1),
              help="Render in a local pool of this many processes instead of the configured "
                   "backend.")
@click.option("--timeout", default=3600.0, show_default=True,
              help="Seconds to wait for the workers.")
def render_command(cycle_name: str, workers: int | None, timeout: float):
    """Render every missing or failed record of the cycle, through the same job path as
    finalising (RQ workers or the local pool), with a progress bar."""
    cycle = _cycle(cycle_name)
    with command_transaction():
        queued = services.fill_in(cycle)
        ids = [r.id for r in queued]
        jobs.forget_queued(db.session)  # handed over below, where the backend is chosen
    if not ids:
        click.echo(f"Every finalised review of {cycle.name} has its record.")
        return
    backend = "pool" if workers else jobs.mode()
    if backend == "manual":
        backend = "inline"  # asked for on the command line: render here
    if workers:
        current_app.config["RECORDS_WORKERS"] = workers  # the pool enqueue() starts
    handles = [] if backend == "inline" else jobs.enqueue(ids, backend=backend)
    if backend == "inline":
        with click.progressbar(ids, label="Rendering", show_pos=True, file=sys.stderr) as bar:
            for record_id in bar:
                jobs.run_job(record_id)
        db.session.rollback()
        counts = dict(db.session.execute(
            sa.select(ReviewRecord.status, sa.func.count()).where(ReviewRecord.id.in_(ids))
            .group_by(ReviewRecord.status)).all())
    else:
        click.echo(f"Queued {len(ids)} records on {backend}.", err=True)
        counts = _wait(ids, handles, timeout)
    if backend == "pool":
        jobs.shutdown_pool()
    rendered, failed = counts.get(RecordStatus.RENDERED, 0), counts.get(RecordStatus.FAILED, 0)
    click.echo(f"{rendered} rendered, {failed} failed, "
               f"{len(ids) - rendered - failed} still waiting.")
    for record in db.session.scalars(sa.select(ReviewRecord).where(
            ReviewRecord.id.in_(ids), ReviewRecord.status == RecordStatus.FAILED)):
        click.echo(f"  {record.document_id}: {record.error}")
    if failed or rendered < len(ids):
        sys.exit(1)


@records_cli.command("export")
@click.option("--cycle", "cycle_name", required=True, help="The cycle's name.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The ZIP file to write.")
@click.option("--team", "team_name", help="Only this team's records (any case).")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
def export_command(cycle_name: str, out: Path, team_name: str | None, force: bool):
    """Write every finalised record of the cycle, as stored, to one ZIP with manifest.csv."""
    if out.exists() and not force:  # as `flask backup create`: an archive is not overwritten
        raise click.ClickException(f"{out} exists; choose another name, or --force.")
    cycle = _cycle(cycle_name)
    team = find_team(team_name) if team_name else None
    if team_name and team is None:
        raise click.ClickException(f"No team is called {team_name!r}.")
    team_id = team.id if team is not None else None
    entries = export.cycle_entries(cycle, None, team_id)
    size = export.write_zip(entries, out)
    progress = services.cycle_progress(cycle)
    click.echo(f"Wrote {len(entries)} records ({size:,} bytes) to {out}.")
    if team_id is None and progress.finalized > len(entries):
        click.echo(f"{progress.finalized - len(entries)} finalised reviews have no rendered "
                   f"record yet: run `flask records render --cycle {cycle.name!r}`.", err=True)


@records_cli.command("verify")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_command(files: tuple[Path, ...]):
    """Check PDFs or cycle ZIPs: SHA-256 against the stored records (and manifest.csv), and
    each signature with pyHanko's validator. Prints OK, or which file differs and how."""
    from reviewapp.records.verify import verify_path  # pyHanko: only when used

    findings = [finding for path in files for finding in verify_path(path)]
    for finding in findings:
        click.echo(finding.line())
    bad = sum(not f.ok for f in findings)
    click.echo(f"{len(findings) - bad} OK, {bad} differ.")
    if bad:
        sys.exit(1)


@records_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool):
    """Render records from the RQ queue on REDIS_URL (run as many as you like, anywhere)."""
    from rq.worker import SimpleWorker

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("Set REVIEWAPP_REDIS_URL to the Redis the app queues on.")
    connection = jobs.redis_connection()
    # SimpleWorker runs jobs in this process: the app, fonts and key are loaded once, not
    # once per job as a forking worker would.
    worker = SimpleWorker([jobs.rq_queue(connection)], connection=connection)
    worker.work(burst=burst, with_scheduler=False)
