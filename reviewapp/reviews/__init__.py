"""Balanced reviews: the rep's self-assessment, the manager's review, and the workflow.

The views register on `bp` when create_app imports `reviewapp.reviews.views`; importing this
package (for its models or services) does not pull in the pages.
"""

from flask import Blueprint

bp = Blueprint("reviews", __name__, url_prefix="/reviews")


def init_app(app) -> None:
    """Reviews that follow the data store their KPI scores anew whenever observations change."""
    from reviewapp.metrics import rollups

    if _refresh_following not in rollups.on_refreshed:
        rollups.on_refreshed.append(_refresh_following)


def _refresh_following(box) -> None:
    from reviewapp.reviews.services import refresh_following  # not at start-up: pandas

    refresh_following(box)
