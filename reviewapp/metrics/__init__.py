"""Metric catalogue, data import and metric views."""

from flask import Blueprint

bp = Blueprint("metrics", __name__, url_prefix="/metrics")

from reviewapp.metrics import data_views, views  # noqa: E402,F401
