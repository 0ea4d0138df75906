"""KPI validation lab: runs that decide which metrics are KPIs, their history, behaviour notes."""

from flask import Blueprint

bp = Blueprint("kpis", __name__, url_prefix="/kpis")

from reviewapp.kpis import history_views, note_views, views  # noqa: E402,F401
