"""Goals: team and individual goals, aligned, tracked with check-ins. Direction, never a score."""

from flask import Blueprint

bp = Blueprint("goals", __name__, url_prefix="/goals")

from reviewapp.goals import form_views, template_views, views  # noqa: E402,F401
