"""ReviewApp: quarterly sales reviews scored only on validated KPIs."""

import os
import secrets
import sys
from pathlib import Path

import click
from flask import Flask

from reviewapp import compression, errors, security
from reviewapp import config as default_config
from reviewapp.collector import collector_paused
from reviewapp.extensions import csrf, db, init_migrations, login_manager

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE = "secret_key"
MIN_SECRET_KEY_BYTES = 32


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, then either the mapping passed in (tests, benches) or
    instance/config.py and REVIEWAPP_* env. An explicit mapping never meets the environment,
    so a bench can never write into the database the shell points at.

    Built with the garbage collector paused: declaring and mapping every model and importing
    every view makes some 130,000 objects that live as long as the process, and the full
    collections they set off on the way freed nothing and took 0.1-0.15 s of a 0.8 s start."""
    with collector_paused():
        return _build(test_config)


def _build(test_config: dict | None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_object(default_config)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("REVIEWAPP")
    else:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.url_map.converters["int"] = errors.BoundedInt  # before any route is added
    _configure_database(app)
    _configure_secret_key(app)
    _configure_cookies(app)
    compression.init_app(app)  # first registered, so it runs after every other after_request

    register_extensions(app)
    register_blueprints(app)
    register_cli(app)
    register_template_helpers(app)
    security.init_app(app)
    return app


def _configure_database(app: Flask) -> None:
    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        url = f"sqlite:///{Path(app.instance_path) / 'reviewapp.db'}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3 is the driver we ship; plain URLs would ask for psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    # A pooled connection that died while idle (the database restarted) is noticed at checkout
    # and replaced; one that dies in use invalidates the pool, and the next checkout reconnects.
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _configure_secret_key(app: Flask) -> None:
    key = app.config.get("SECRET_KEY")
    production = app.config.get("ENV") == "production"
    if key:
        length = len(key.encode() if isinstance(key, str) else key)
        if production and length < MIN_SECRET_KEY_BYTES:
            # A short key can be guessed offline from one signed cookie, and then forged.
            sys.exit(f"REVIEWAPP_SECRET_KEY is {length} bytes long; production needs at least "
                     f"{MIN_SECRET_KEY_BYTES} random bytes "
                     "(e.g. python3 -c 'import secrets; print(secrets.token_hex(32))').")
        return
    if production:
        sys.exit("REVIEWAPP_SECRET_KEY is not set; refusing to start in production without it.")
    app.config["SECRET_KEY"] = ensure_dev_secret_key(Path(app.instance_path))


def ensure_dev_secret_key(instance_path: Path) -> str:
    """Return the development key in instance/, writing a random one (mode 0600) the first time."""
    path = instance_path / SECRET_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _configure_cookies(app: Flask) -> None:
    app.config["REMEMBER_COOKIE_SECURE"] = bool(app.config["SESSION_COOKIE_SECURE"])


def register_extensions(app: Flask) -> None:
    from reviewapp import models, throttle  # noqa: F401  (models: every table known to Alembic)

    db.init_app(app)
    if app.testing or click.get_current_context(silent=True) is not None:
        init_migrations(app)  # the `flask db` commands; a server never needs Alembic
    login_manager.init_app(app)
    csrf.init_app(app)
    throttle.init_app(app)

    from reviewapp.auth.services import load_user

    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"


def register_blueprints(app: Flask) -> None:
    from reviewapp import errors, notifications, records, reviews, transaction
    from reviewapp.admin import bp as admin_bp
    from reviewapp.api import account_bp
    from reviewapp.api import bp as api_bp
    from reviewapp.auth import bp as auth_bp
    from reviewapp.cycles import bp as cycles_bp
    from reviewapp.cycles import views as _cycle_views  # noqa: F401  (routes register on import)
    from reviewapp.dashboard import bp as dashboard_bp
    from reviewapp.goals import bp as goals_bp
    from reviewapp.kpis import bp as kpis_bp
    from reviewapp.metrics import bp as metrics_bp
    from reviewapp.peers import bp as peers_bp
    from reviewapp.peers import views as _peer_views  # noqa: F401  (routes register on import)
    from reviewapp.records import views as _record_views  # noqa: F401
    from reviewapp.reviews import bp as reviews_bp
    from reviewapp.reviews import decision_views as _decision_views  # noqa: F401
    from reviewapp.reviews import views as _review_views  # noqa: F401

    app.register_blueprint(auth_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(metrics_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(kpis_bp)
    app.register_blueprint(goals_bp)
    app.register_blueprint(cycles_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(peers_bp)
    app.register_blueprint(records.bp)
    records.init_app(app)
    reviews.init_app(app)
    notifications.init_app(app)  # its pages and commands, and email delivery after commit
    errors.init_app(app)
    transaction.init_app(app)


def register_cli(app: Flask) -> None:
    from reviewapp.admin.cli import users_cli
    from reviewapp.backup import backup_cli
    from reviewapp.demo import demo_cli
    from reviewapp.kpis.cli import kpi_cli
    from reviewapp.metrics.cli import metrics_cli
    from reviewapp.records.cli import records_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(metrics_cli)
    app.cli.add_command(kpi_cli)
    app.cli.add_command(records_cli)


def register_template_helpers(app: Flask) -> None:
    from reviewapp import policy
    from reviewapp.navigation import nav_items
    from reviewapp.numbers import attainment, exact, figure

    app.jinja_env.globals["policy"] = policy
    app.jinja_env.filters["figure"] = figure
    app.jinja_env.filters["exact"] = exact
    app.jinja_env.filters["attainment"] = attainment
    app.jinja_env.globals["nav_items"] = nav_items
