"""Telling people what to do next: in-app notifications on the dashboard, and email written to
an outbox with the change that causes it and delivered after the commit (SMTP, or the log when
no server is configured), reminders before deadlines, and each person's preferences."""

from flask import Blueprint

from reviewapp.extensions import csrf

bp = Blueprint("notifications", __name__)


def init_app(app) -> None:
    """Register the pages, the commands and delivery after commit."""
    from reviewapp.notifications import outbox, views
    from reviewapp.notifications.cli import mail_cli, reminders_cli

    csrf.exempt(views.unsubscribe)  # mail clients' one-click POST carries no CSRF token
    app.register_blueprint(bp)
    app.cli.add_command(mail_cli)
    app.cli.add_command(reminders_cli)
    outbox.init_app(app)
    # Emails written to the log (no server configured) go to the "reviewapp.mail" logger at
    # INFO; asking for app.logger gives its parent, "reviewapp", Flask's stderr handler.
    app.logger.debug("email delivery: %s", outbox.delivery_mode(app))
