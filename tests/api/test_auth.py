"""API authentication: bearer tokens only; missing, wrong and revoked tokens get 401 JSON."""

import logging

import pytest

from reviewapp.auth.models import Role

ROW = {"period": "2026-Q1", "metric": "calls", "value": 10}


def assert_401(response, invalid_token: bool):
    assert response.status_code == 401
    assert response.is_json and response.get_json()["error"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert ('error="invalid_token"' in challenge) is invalid_token


@pytest.mark.parametrize("path", ["/api/v1/metrics", "/api/v1/observations"])
def test_no_token_is_401(client, org, path):
    response = client.get(path) if path.endswith("metrics") else client.post(path, json=[])
    assert_401(response, invalid_token=False)


@pytest.mark.parametrize("header", [
    "Bearer ra_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "ra_no-scheme",
    "Bearer " + "x" * 500,
])
def test_wrong_token_is_401(client, org, token_for, header):
    good = token_for(org.lead)
    response = client.get("/api/v1/metrics", headers={"Authorization": header.replace(
        "ra_no-scheme", good)})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_scheme_is_case_insensitive(client, org, token_for):
    token = token_for(org.lead)
    assert client.get("/api/v1/metrics",
                      headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_revoked_token_is_401(client, org, db, token_for, api):
    from reviewapp.api.models import ApiToken
    from reviewapp.api.services import revoke_token

    secret = token_for(org.lead)
    revoke_token(org.lead, db.session.scalar(db.select(ApiToken)))
    db.session.commit()
    assert_401(api.get(secret), invalid_token=True)
    assert_401(api.post(secret, [{"rep_email": org.rep.email, **ROW}]), invalid_token=True)


def test_a_session_cookie_does_not_authenticate(client, org, login_as, metrics, db):
    from reviewapp.metrics.models import Observation

    login_as(org.hr)
    assert client.get("/dashboard").status_code == 200  # the session itself works
    assert_401(client.get("/api/v1/metrics"), invalid_token=False)
    response = client.post("/api/v1/observations", json=[{"rep_email": org.rep.email, **ROW}])
    assert_401(response, invalid_token=False)
    assert db.session.scalar(db.select(db.func.count()).select_from(Observation)) == 0


def test_a_token_acts_as_its_owner_not_as_the_session(client, org, login_as, metrics, token_for,
                                                      api):
    token = token_for(org.lead)
    login_as(org.hr)  # HR may import for anyone; the lead may not import for the outsider
    response = api.post(token, [{"rep_email": org.outsider.email, **ROW}])
    assert response.status_code == 422


def test_owner_turned_rep_is_403(org, db, token_for, api):
    token = token_for(org.lead)
    org.lead.role = Role.REP
    db.session.commit()
    response = api.get(token)
    assert response.status_code == 403 and response.is_json
    assert api.post(token, [{"rep_email": org.rep.email, **ROW}]).status_code == 403


def test_deactivated_owner_is_403(org, db, token_for, api):
    token = token_for(org.hr)
    org.hr.active = False
    db.session.commit()
    response = api.get(token)
    assert response.status_code == 403
    assert "deactivated" in response.get_json()["error"]


def test_use_is_recorded(org, db, token_for, api):
    from reviewapp.api.models import ApiToken

    secret = token_for(org.lead)
    token = db.session.scalar(db.select(ApiToken))
    assert token.last_used_at is None
    assert api.get(secret).status_code == 200
    db.session.expire_all()
    assert token.last_used_at is not None


def test_tokens_are_not_logged(app, org, metrics, token_for, api, caplog):
    secret = token_for(org.lead)
    with caplog.at_level(logging.DEBUG):
        api.get(secret)
        api.post(secret, [{"rep_email": org.rep.email, **ROW}])
        api.post(secret, "not json", raw=True)
        api.post(secret + "x", [])
    assert secret not in caplog.text


def test_unknown_api_path_answers_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.is_json and response.get_json()["error"] == "not found"


def test_a_method_a_route_does_not_take_says_which_it_does(client, org):
    """405 carries Allow (RFC 9110), on the API and on pages alike; its body is still ours."""
    response = client.delete("/api/v1/metrics")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET"}
    assert response.get_json()["error"] == "not allowed"
    page = client.put("/auth/login")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]
