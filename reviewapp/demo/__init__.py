"""`flask demo load`: a deterministic demo organisation to explore ReviewApp with."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from reviewapp import ensure_dev_secret_key
from reviewapp.demo.people import DEMO_PASSWORD, load_people
from reviewapp.extensions import db

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("load")
@click.option("--seed", default=7, show_default=True, help="Seed for the generated numbers.")
@click.option("--force", is_flag=True,
              help="Load it beside people who are not demo people (a real organisation).")
def load_command(seed: int, force: bool):
    """Load the demo organisation (idempotent: running it twice changes nothing)."""
    others = _people_outside_the_demo()
    if others and not force:  # 28 accounts with a public password, one of them HR, and mail
        raise click.ClickException(
            f"This database holds {others} {'person' if others == 1 else 'people'} who are "
            "not demo people: the demo would add accounts with a published password (one of "
            "them an HR admin) and emails beside them. Use an empty database, or --force.")
    if current_app.config.get("ENV") != "production":
        ensure_dev_secret_key(Path(current_app.instance_path))
    summary = load_people()
    for step in _later_steps():
        summary.update(step(seed) or {})
    db.session.commit()
    for key, value in summary.items():
        if not key.startswith("_"):
            click.echo(f"{key}: {value}")
    click.echo("")
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for role, email in summary["_logins"]:
        click.echo(f"  {role:<8} {email}")


def _people_outside_the_demo() -> int:
    import sqlalchemy as sa

    from reviewapp.auth.models import User
    from reviewapp.demo.people import DOMAIN

    return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        ~User.email.endswith("@" + DOMAIN))) or 0


def _later_steps():
    """Demo loaders of later areas (metrics, KPIs, goals, reviews), in dependency order."""
    from reviewapp.demo.goals import load_goals
    from reviewapp.demo.kpis import load_kpis
    from reviewapp.demo.mail import load_mail
    from reviewapp.demo.metrics import load_metrics
    from reviewapp.demo.peers import load_peers
    from reviewapp.demo.records import load_records
    from reviewapp.demo.reviews import load_reviews

    return [load_metrics, load_kpis, load_goals, load_reviews, load_peers, load_mail, load_records]
