"""Review cycles: competencies, weight bounds, the cycle editor, launch and each cycle's page.

The views register on `bp` when create_app imports `reviewapp.cycles.views`.
"""

from flask import Blueprint

bp = Blueprint("cycles", __name__, url_prefix="/cycles")
