"""Fixtures for the API tests: a small metric catalogue and personal tokens."""

import json
from types import SimpleNamespace

import pytest

from reviewapp.api.services import create_token
from reviewapp.metrics.catalogue import add_metric


@pytest.fixture
def metrics(db):
    """Calls (activity) and revenue (outcome)."""
    calls = add_metric(None, key="calls", name="Calls", kind="activity", direction="higher",
                       rollup="sum", unit="calls")
    revenue = add_metric(None, key="revenue", name="Revenue", kind="outcome",
                         direction="higher", rollup="sum", unit="$")
    db.session.commit()
    return SimpleNamespace(calls=calls, revenue=revenue)


@pytest.fixture
def token_for(db):
    """Create a token for a user (committed) and return its secret."""

    def _token(user, name: str = "CRM sync") -> str:
        _token, secret = create_token(user, name)
        db.session.commit()
        return secret

    return _token


@pytest.fixture
def api(client):
    """Call the API with a bearer token: api.post(token, body) / api.get(token, path)."""

    def headers(token):
        return {"Authorization": f"Bearer {token}"} if token else {}

    def post(token, body, raw: bool = False):
        data = body if raw else json.dumps(body)
        return client.post("/api/v1/observations", data=data, headers=headers(token),
                           content_type="application/json")

    def get(token, path: str = "/api/v1/metrics"):
        return client.get(path, headers=headers(token))

    return SimpleNamespace(post=post, get=get)
