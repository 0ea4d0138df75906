"""Route × role expectations for API tokens and the JSON API (see tests/test_route_matrix.py).

The matrix logs actors in with a session cookie and sends no bearer token, so every JSON API
route answers 401 for everyone: cookies never authenticate the API.
"""

from reviewapp.api.services import create_token
from reviewapp.extensions import db
from tests.test_route_matrix import LOGIN, Case, everyone


def setup(org) -> None:
    org.lead_api_token, _secret = create_token(org.lead, "CRM sync")
    db.session.commit()


API_USERS = {"anon": LOGIN, "rep": 403, "outsider": 403, "*": 200}
OWNER_ONLY = {"anon": LOGIN, "rep": 403, "outsider": 403, "lead": 302, "*": 404}

ROUTES = {
    "account.tokens": [
        Case("GET", lambda o: "/account/tokens", API_USERS),
        Case("POST", lambda o: "/account/tokens", API_USERS, data={"name": "matrix"}),
    ],
    "account.token_revoke": [
        Case("POST", lambda o: f"/account/tokens/{o.lead_api_token.id}/revoke", OWNER_ONLY),
        Case("POST", lambda o: "/account/tokens/999999/revoke", {**OWNER_ONLY, "lead": 404}),
    ],
    "api.observations": [Case("POST", lambda o: "/api/v1/observations", everyone(401))],
    "api.metrics": [Case("GET", lambda o: "/api/v1/metrics", everyone(401))],
    "api.openapi": [Case("GET", lambda o: "/api/v1/openapi.json", everyone(200))],
}
