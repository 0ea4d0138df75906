"""`flask mail deliver` (the outbox, e.g. every few minutes from cron) and `flask reminders send`
(the daily digest of reminders and held emails, once a day from cron)."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from reviewapp.extensions import db
from reviewapp.notifications import delivery, reminders
from reviewapp.notifications.outbox import delivered_in_transaction
from reviewapp.transaction import command_transaction

mail_cli = AppGroup("mail", help="The email outbox.")
reminders_cli = AppGroup("reminders", help="Deadline reminders and the daily digest.")


@mail_cli.command("deliver")
@click.option("--now", "ignore_backoff", is_flag=True,
              help="Also try messages that are waiting out a retry delay.")
@click.option("--retry-failed", is_flag=True,
              help="Put messages the server refused for good back in line first.")
def deliver_command(ignore_backoff: bool, retry_failed: bool):
    """Deliver every email that is due (SMTP, or the log when no server is configured)."""
    if retry_failed:
        with command_transaction():
            n = delivery.retry_all_failing()
            delivered_in_transaction(db.session)  # delivered right below, not by a thread
        click.echo(f"{n} failing messages put back in line.")
    report = delivery.deliver_due(ignore_backoff=ignore_backoff)
    click.echo(str(report))
    for line in report.errors:
        click.echo(f"  {line}", err=True)
    # Exit 1 while anything fails, this run or an earlier one whose retry is not due yet: a
    # run between two retries sent nothing and said so, and cron's check read it as success.
    waiting, failed = delivery.failing_counts()
    if report.retrying or report.failed or waiting or failed:
        if not (report.retrying or report.failed):
            click.echo(f"Still failing: {waiting} waiting to be retried, {failed} failed "
                       "for good (see the outbox).", err=True)
        raise SystemExit(1)


@reminders_cli.command("send")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Act as if today were this date (YYYY-MM-DD).")
@click.option("--no-deliver", is_flag=True, help="Only write the digests to the outbox.")
def send_command(today, no_deliver: bool):
    """Write each person's digest of reminders (7 days and 1 day before each deadline they own,
    and once overdue) and held emails; each reminder once. Then deliver."""
    day: date | None = today.date() if today else None
    with command_transaction():
        run = reminders.send_digests(day)
        delivered_in_transaction(db.session)  # delivered right below (or by cron), not a thread
    click.echo(f"{run.emails} digests written: {run.reminders} reminders, "
               f"{run.held} held emails.")
    if not no_deliver:
        click.echo(str(delivery.deliver_due()))
