"""Peer feedback: colleagues' evidence, per competency, for the qualitative side of a review.

The views register on `bp` when create_app imports `reviewapp.peers.views`; importing this
package (for its models or services) does not pull in the pages.
"""

from flask import Blueprint

bp = Blueprint("peers", __name__, url_prefix="/peers")
