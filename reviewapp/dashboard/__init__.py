"""Home page per role, and people pages."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from reviewapp.dashboard import views  # noqa: E402,F401
