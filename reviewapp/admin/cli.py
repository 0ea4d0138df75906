"""`flask users …`: create users and import them from CSV."""

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from reviewapp.admin.services import create_user, find_team, import_users_csv, save_team
from reviewapp.auth.models import Role
from reviewapp.auth.services import find_by_email, make_set_password_token
from reviewapp.extensions import db
from reviewapp.transaction import command_transaction

users_cli = AppGroup("users", help="Create and import users.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--manager", "manager_email", help="The manager's email.")
@click.option("--team", "team_name", help="Team name; created if it does not exist.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_command(email, name, role, manager_email, team_name, password_stdin):
    """Create one user (asks for the password unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:  # an empty variable in a script: refused, not an account without one
            raise click.ClickException("No password on standard input; leave out "
                                       "--password-stdin to be asked for one.")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    manager = None
    if manager_email:
        manager = find_by_email(manager_email)
        if manager is None:
            raise click.ClickException(f"No user with email {manager_email}.")
    team = None
    with command_transaction():
        if team_name:
            team = find_team(team_name)
            if team is None:  # made as HR's Teams page makes it, with its checks
                team = save_team(None, None, name=team_name, manager=None)
        user = create_user(None, email=email, name=name, role=role, manager=manager, team=team,
                           password=password)
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@users_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path):
    """Import users from CSV (email,name,role,manager_email,team): all rows or none."""
    result = import_users_csv(None, path.read_bytes())
    if result.errors:
        db.session.rollback()
        for err in result.errors:
            where = f"line {err.line}" + (f", column {err.column}" if err.column else "")
            value = f" ('{err.value}')" if err.value else ""
            click.echo(f"{where}{value}: {err.message}", err=True)
        raise click.ClickException(f"{len(result.errors)} error(s); nothing was imported.")
    links = [(u.email, make_set_password_token(u)) for u in result.created]
    db.session.commit()
    click.echo(f"Imported {len(links)} users. One-time set-password paths:")
    for email, token in links:
        click.echo(f"  {email}: /auth/set-password/{token}")
