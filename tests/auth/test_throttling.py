"""Login throttling per account and per address, a per-user limit on password changes and a
per-token limit on the JSON API (Flask-Limiter). The suite runs these against the storage in
REVIEWAPP_RATELIMIT_STORAGE_URI (Redis in CI's PostgreSQL run), in memory otherwise."""

import os
import re

import pytest
from limits.storage import storage_from_string

from reviewapp.api.services import create_token
from reviewapp.auth import services as auth_services
from reviewapp.auth.models import Role
from reviewapp.extensions import limiter
from tests.factories import TEST_PASSWORD

LOCKOUT = "Too many failed attempts. Wait a few minutes, then try again."


def attempt(client, email, password, address="10.0.0.1"):
    return client.post("/auth/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def page_text(response, email="") -> str:
    """The answer without what differs per request (the CSRF token, the email typed in)."""
    text = re.sub(r'name="csrf_token"[^>]*', "", response.get_data(as_text=True))
    return text.replace(email, "EMAIL") if email else text


def test_the_suite_uses_the_configured_storage(app):
    uri = os.environ.get("REVIEWAPP_RATELIMIT_STORAGE_URI")
    kind = type(limiter.storage).__name__
    if uri:
        assert uri.startswith("redis") and kind == "RedisStorage"
        assert limiter.storage.check(), f"cannot reach the limiter storage at {uri}"
    else:
        assert kind == "MemoryStorage"


def test_many_wrong_passwords_lock_the_account_even_for_the_right_one(client, create_user):
    user = create_user(Role.REP, email="target@example.test")
    answers = [attempt(client, user.email, f"guess-{i}", address=f"10.1.{i}.1").status_code
               for i in range(40)]
    limit = 10  # LOGIN_LIMIT_PER_ACCOUNT's default: 10 failures per 15 minutes
    assert answers[:limit] == [200] * limit
    assert set(answers[limit:]) == {429}
    right = attempt(client, user.email, TEST_PASSWORD, address="10.9.9.9")
    assert right.status_code == 429
    assert LOCKOUT in right.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_the_lockout_says_the_same_for_an_account_that_does_not_exist(app, client,
                                                                      create_user):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per 15 minutes"
    create_user(Role.REP, email="exists@example.test")
    answers = {}
    for email in ("exists@example.test", "nobody@example.test"):
        for i in range(3):
            attempt(client, email, "wrong-password", address=f"10.2.{i}.1")
        answers[email] = attempt(client, email, "wrong-password", address="10.2.9.1")
    existing, unknown = answers.values()
    assert existing.status_code == unknown.status_code == 429
    assert page_text(existing, "exists@example.test") == page_text(unknown, "nobody@example.test")
    assert LOCKOUT in page_text(existing) and "account" not in LOCKOUT.lower()


def test_one_address_trying_many_accounts_is_throttled(app, client, create_user):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "5 per 15 minutes"
    for i in range(5):
        assert attempt(client, f"person{i}@example.test", "x", address="10.3.0.1"
                       ).status_code == 200
    assert attempt(client, "person9@example.test", "x", address="10.3.0.1").status_code == 429
    user = create_user(Role.REP)
    assert attempt(client, user.email, TEST_PASSWORD, address="10.3.0.2").status_code == 302


def test_successful_logins_do_not_count(app, create_user):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per 15 minutes"
    user = create_user(Role.REP)
    for _ in range(5):
        client = app.test_client()
        assert attempt(client, user.email, TEST_PASSWORD).status_code == 302


def test_unknown_user_and_wrong_password_get_the_same_answer_and_work(client, create_user,
                                                                      monkeypatch):
    """Same page, and one scrypt check each, so that timing tells nothing either."""
    create_user(Role.REP, email="known@example.test")
    checks = []
    real = auth_services.check_password_hash
    monkeypatch.setattr(auth_services, "check_password_hash",
                        lambda h, p: checks.append(h) or real(h, p))
    wrong = attempt(client, "known@example.test", "wrong-password")
    unknown = attempt(client, "unknown@example.test", "wrong-password", address="10.0.0.2")
    assert wrong.status_code == unknown.status_code == 200
    assert page_text(wrong, "known@example.test") == page_text(unknown, "unknown@example.test")
    assert len(checks) == 2


def test_password_change_guesses_are_throttled_per_user(app, create_user, login_as):
    app.config["PASSWORD_LIMIT_PER_USER"] = "3 per 15 minutes"
    user = create_user(Role.REP)
    client = login_as(user)
    data = {"current_password": "a-wrong-guess", "new_password": "brand-new-secret",
            "confirm": "brand-new-secret"}
    assert [client.post("/auth/password", data=data).status_code for _ in range(3)] == [200] * 3
    data["current_password"] = TEST_PASSWORD
    locked = client.post("/auth/password", data=data)
    assert locked.status_code == 429
    assert LOCKOUT in locked.get_data(as_text=True)


def test_api_has_a_limit_per_token(app, client, create_user, db):
    app.config["API_LIMIT_PER_TOKEN"] = "3 per minute"
    manager = create_user(Role.MANAGER)
    (_, first), (_, second) = create_token(manager, "first"), create_token(manager, "second")
    db.session.commit()

    def get(token):
        return client.get("/api/v1/metrics", headers={"Authorization": f"Bearer {token}"})

    assert [get(first).status_code for _ in range(3)] == [200] * 3
    refused = get(first)
    assert refused.status_code == 429
    assert refused.is_json and "too many requests" in refused.json["error"]
    assert int(refused.headers["Retry-After"]) > 0
    assert get(second).status_code == 200
    # One limit for the token over the whole API, not one per endpoint.
    other_endpoint = client.post("/api/v1/observations", json={"rows": []},
                                 headers={"Authorization": f"Bearer {first}"})
    assert other_endpoint.status_code == 429
    # Nor one per way of writing the header (each spelling got a fresh allowance).
    for spelling in (f"bearer {first}", f"BEARER {first}", f"Bearer   {first}",
                     f" Bearer {first} "):
        assert client.get("/api/v1/metrics",
                          headers={"Authorization": spelling}).status_code == 429, spelling


def test_api_failed_authentication_is_throttled_per_address(app, client):
    app.config["API_AUTH_FAILURES_PER_ADDRESS"] = "3 per minute"
    for i in range(3):
        response = client.get("/api/v1/metrics", headers={"Authorization": f"Bearer ra_{i}"})
        assert response.status_code == 401
    assert client.get("/api/v1/metrics",
                      headers={"Authorization": "Bearer ra_x"}).status_code == 429
    assert client.post("/api/v1/observations", json={"rows": []},
                       headers={"Authorization": "Bearer ra_y"}).status_code == 429


@pytest.mark.skipif(not os.environ.get("REVIEWAPP_RATELIMIT_STORAGE_URI"),
                    reason="needs REVIEWAPP_RATELIMIT_STORAGE_URI (Redis)")
def test_counts_live_in_the_shared_storage(app, client):
    """Another app server, with its own connection, sees the failures counted here."""
    attempt(client, "shared@example.test", "wrong-password")
    other_server = storage_from_string(app.config["RATELIMIT_STORAGE_URI"],
                                       **app.config["RATELIMIT_STORAGE_OPTIONS"])
    prefix = app.config["RATELIMIT_STORAGE_OPTIONS"]["key_prefix"]
    keys = [k.decode() for k in other_server.storage.keys(f"{prefix}:*")]
    assert any("shared@example.test" in k for k in keys), keys


def test_the_unknown_user_check_costs_what_a_real_one_does():
    """The stand-in hash has the parameters a stored password gets, so its check takes as long."""
    from werkzeug.security import generate_password_hash

    stored = generate_password_hash("a password someone chose", method="scrypt")
    assert auth_services._DUMMY_HASH.split("$")[0] == stored.split("$")[0]
    assert not auth_services.check_password_hash(auth_services._DUMMY_HASH, "not-a-real-password")
