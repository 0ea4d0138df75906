"""Configuration layers and start-up rules."""

import os
import stat
import subprocess
import sys

import pytest

from reviewapp import create_app


def test_env_overrides_defaults_and_instance_config(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("SECRET_KEY = 'from-instance'\nIMPORT_MAX_BYTES = 5\n")
    monkeypatch.setenv("REVIEWAPP_IMPORT_MAX_BYTES", "7")
    monkeypatch.setenv("REVIEWAPP_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("REVIEWAPP_SESSION_COOKIE_SECURE", "true")
    from flask import Flask

    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(instance))
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-instance"
    assert app.config["IMPORT_MAX_BYTES"] == 7
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_dev_key_written_once_with_mode_0600(tmp_path, monkeypatch):
    from flask import Flask

    monkeypatch.delenv("REVIEWAPP_SECRET_KEY", raising=False)
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(tmp_path))
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert first == second and len(first) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_production_without_key_stops_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWAPP_")}
    env.update(REVIEWAPP_ENV="production", REVIEWAPP_DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    code = "from reviewapp import create_app; create_app()"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode != 0
    assert proc.stderr.strip() == (
        "REVIEWAPP_SECRET_KEY is not set; refusing to start in production without it."
    )


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(app, db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas only apply to SQLite")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_explicit_config_wins_over_the_environment(tmp_path, monkeypatch):
    """A bench or test passing its own database must never touch the configured one."""
    monkeypatch.setenv("REVIEWAPP_DATABASE_URL", "postgresql://u@h/production")
    monkeypatch.setenv("REVIEWAPP_IMPORT_MAX_BYTES", "7")
    explicit = f"sqlite:///{tmp_path}/bench.db"
    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": explicit})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == explicit
    assert app.config["IMPORT_MAX_BYTES"] != 7


def test_explicit_database_url_key_is_used_too(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEWAPP_DATABASE_URL", "postgresql://u@h/production")
    app = create_app({"SECRET_KEY": "k", "DATABASE_URL": "postgres://me@localhost/mine"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://me@localhost/mine"
