"""Review cycles (HR) and balanced reviews (reps and managers)."""

from flask import Blueprint

bp = Blueprint("reviews", __name__, url_prefix="/reviews")
cycles_bp = Blueprint("cycles", __name__, url_prefix="/cycles")

from reviewapp.reviews import cycle_views, views  # noqa: E402,F401
