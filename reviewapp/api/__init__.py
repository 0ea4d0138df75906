"""JSON API for CRM integrations, and the account page where people manage their API tokens.

Two blueprints: ``api`` (/api/v1, bearer tokens only, no CSRF: a token request carries no
ambient credentials a forged cross-site request could ride on) and ``account`` (/account, the
ordinary logged-in pages with CSRF-protected forms).
"""

from flask import Blueprint

from reviewapp.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
account_bp = Blueprint("account", __name__, url_prefix="/account")
csrf.exempt(bp)

from reviewapp.api import views  # noqa: E402,F401  (routes register on import)
