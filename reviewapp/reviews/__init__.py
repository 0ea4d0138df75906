"""Balanced reviews: the rep's self-assessment, the manager's review, and the workflow.

The views register on `bp` when create_app imports `reviewapp.reviews.views`; importing this
package (for its models or services) does not pull in the pages.
"""

from flask import Blueprint

bp = Blueprint("reviews", __name__, url_prefix="/reviews")
