"""HR administration: users, teams, bulk import."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from reviewapp.admin import views  # noqa: E402,F401
