"""`flask backup create FILE` and `flask backup restore FILE`: the whole database, PDFs included.

SQLite uses its online backup API (a consistent copy while the app keeps serving, page by
page); PostgreSQL uses pg_dump's custom format and pg_restore (the client tools of the
server's major version must be on PATH). Restore refuses a backup whose schema is older than
the database's (restore it into an empty database, then `flask db upgrade`) or that a newer
version of ReviewApp made; it replaces everything in the database with the backup.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import urllib.parse
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from reviewapp.extensions import db, init_migrations

backup_cli = AppGroup("backup", help="Back the database up to a file, or restore it.")


class BackupError(click.ClickException):
    """A backup or restore that cannot be done; nothing was changed."""


# Schema revisions -----------------------------------------------------------------------------


def migration_order() -> list[str]:
    """This version's migration revisions, oldest first."""
    from alembic.script import ScriptDirectory

    config = init_migrations(current_app).migrate.get_config()
    script = ScriptDirectory.from_config(config)
    return [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]


def revision_of(connection) -> str | None:
    """The schema revision stamped in a database (None: not stamped, e.g. built by create_all)."""
    try:
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.DBAPIError:
        connection.rollback()
        return None


def check_restorable(backup_rev: str | None, live_rev: str | None) -> None:
    """Refuse a backup from a newer version, or one older than the database's schema."""
    order = migration_order()
    if backup_rev is not None and backup_rev not in order:
        raise BackupError(f"The backup has schema revision {backup_rev}, which this version of "
                          "ReviewApp does not know: it was made by a newer version. Nothing "
                          "was restored.")
    if live_rev in order and (backup_rev is None
                              or order.index(backup_rev) < order.index(live_rev)):
        raise BackupError(f"The database's schema (revision {live_rev}) is newer than the "
                          f"backup's ({backup_rev or 'unstamped'}); restoring would put old "
                          "tables under new code. Restore into an empty database, then run "
                          "`flask db upgrade`. Nothing was restored.")


# SQLite -------------------------------------------------------------------------------------


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def _sqlite_revision(path: Path) -> str | None:
    # Quoted: a '#', '?' or '%' in the path would otherwise end or change the URI's path.
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:  # `with conn` only commits
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError as exc:
            if "no such table" in str(exc):
                return None
            raise BackupError(f"{path} is not a ReviewApp SQLite backup: {exc}.") from exc
    return row[0] if row else None


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy one SQLite database onto another with the online backup API."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


# PostgreSQL ---------------------------------------------------------------------------------


def _libpq(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not on PATH: install the PostgreSQL client tools of the "
                          "server's major version (Debian: postgresql-client).")
    return path


def _run(args: list[str]) -> str:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()[:2000]}")
    return done.stdout


def _pg_schema() -> str:
    return db.session.execute(sa.text("SELECT current_schema()")).scalar()


def _pg_dump_revision(path: Path) -> str | None:
    script = _run([_tool("pg_restore"), "--data-only", "--table=alembic_version", "-f", "-",
                   str(path)])
    lines = script.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and i + 1 < len(lines):
            value = lines[i + 1].strip()
            return None if value == "\\." else value
    return None


# The commands -------------------------------------------------------------------------------


def create_backup(target: Path) -> None:
    """Write a consistent copy of the whole database to `target`."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(_sqlite_path(url), target)
    else:
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--schema={_pg_schema()}",
              f"--file={target}", f"--dbname={_libpq(url)}"])


def restore_backup(source: Path) -> None:
    """Replace everything in the database with the backup in `source`."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist.")
    url = db.engine.url
    with db.engine.connect() as conn:
        live_rev = revision_of(conn)
    if url.get_backend_name() == "sqlite":
        check_restorable(_sqlite_revision(source), live_rev)
        db.session.remove()
        db.engine.dispose()  # no pooled connection may hold the file while pages are replaced
        _sqlite_copy(source, _sqlite_path(url))
    else:
        check_restorable(_pg_dump_revision(source), live_rev)
        db.session.remove()
        db.engine.dispose()
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
              "--single-transaction", f"--dbname={_libpq(url)}", str(source)])


@backup_cli.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def create_command(file: Path):
    """Back the whole database up to FILE (SQLite file, or pg_dump custom format)."""
    if file.exists():
        raise BackupError(f"{file} exists; choose a new file name.")
    if not file.parent.is_dir():
        raise BackupError(f"The folder {file.parent} does not exist; create it first or choose "
                          "another.")
    create_backup(file)
    click.echo(f"Backed up the database to {file} ({file.stat().st_size:,} bytes).")


@backup_cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database.")
def restore_command(file: Path, yes: bool):
    """Replace the whole database with the backup in FILE."""
    if not yes:
        click.confirm("This replaces everything in the database with the backup. Go on?",
                      abort=True)
    restore_backup(file)
    click.echo(f"Restored the database from {file}.")
