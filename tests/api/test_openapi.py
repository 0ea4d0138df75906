"""The JSON API keeps its published contract: schemathesis generates requests from the OpenAPI
document and, with a token of each kind, every answer must be documented (status, content
type, body schema) and none may be a 5xx."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from reviewapp.api.services import create_token
from reviewapp.auth.models import Role
from reviewapp.extensions import db
from tests.factories import create_user


@pytest.fixture
def api_schema(app, metrics_catalogue):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def metrics_catalogue(app):
    from reviewapp.metrics.catalogue import add_metric

    add_metric(None, key="calls", name="Calls", kind="activity", direction="higher",
               rollup="sum", unit="calls")
    db.session.commit()


@pytest.fixture
def role_tokens(app, org):
    """A manager's, HR's, and the token of someone since demoted to rep (refused with 403)."""
    demoted = create_user(Role.MANAGER, manager=org.boss)
    tokens = {name: create_token(user, f"{name} sync")[1]
              for name, user in (("manager", org.lead), ("hr", org.hr), ("demoted", demoted))}
    demoted.role = Role.REP
    db.session.commit()
    return tokens


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def _operations(schema):
    for result in schema.get_all_operations():
        yield result.ok()


@pytest.mark.parametrize("path", ["/metrics", "/observations"])
def test_every_answer_keeps_the_contract(api_schema, role_tokens, path):
    [operation] = [op for op in _operations(api_schema) if op.path == path]
    seen: set[tuple[str, int]] = set()

    @given(case=operation.as_strategy())
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    def call(case):
        for role, token in role_tokens.items():
            # Schemathesis asks for gzip but reads the WSGI body as it comes: ask for none.
            response = case.call_and_validate(headers={"Authorization": f"Bearer {token}",
                                                       "Accept-Encoding": "identity"},
                                              checks=CHECKS)
            seen.add((role, response.status_code))

    call()
    assert ("demoted", 403) in seen and ("hr", 403) not in seen, seen
    if path == "/observations":  # generated bodies get past parsing, and some rows past that
        assert {status for _, status in seen} & {400, 422}, seen


def test_the_document_is_served_and_linked(client, login_as, org):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {"/metrics", "/observations"}
    login_as(org.lead)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert 'data-testid="openapi-link"' in page and "/api/v1/openapi.json" in page
