"""Logging in and out, passwords, set-password links."""

import re

import pytest

from reviewapp.auth.models import Role
from reviewapp.auth.services import make_set_password_token
from reviewapp.extensions import db
from tests.factories import TEST_PASSWORD


def post_login(client, email, password, next_url=""):
    return client.post("/auth/login", data={"email": email, "password": password,
                                            "next": next_url})


def test_login_with_any_case_email_then_logout(client, create_user):
    user = create_user(Role.REP, email="mixed@example.test")
    response = post_login(client, "  MIXED@Example.TEST ", TEST_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200
    assert user.name in client.get("/dashboard").get_data(as_text=True)
    client.post("/auth/logout")
    assert client.get("/dashboard").status_code == 302


@pytest.mark.parametrize("email,password", [
    ("rep@example.test", "wrong-password"),
    ("nobody@example.test", TEST_PASSWORD),
])
def test_bad_credentials_get_one_generic_message(client, create_user, email, password):
    create_user(Role.REP, email="rep@example.test")
    response = post_login(client, email, password)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Email or password is not correct." in body
    assert "no user" not in body.lower() and "unknown" not in body.lower()
    assert client.get("/dashboard").status_code == 302


def test_deactivated_user_cannot_log_in_and_loses_session(client, create_user, db):
    user = create_user(Role.REP)
    post_login(client, user.email, TEST_PASSWORD)
    assert client.get("/dashboard").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/dashboard").status_code == 302
    response = post_login(client, user.email, TEST_PASSWORD)
    assert "Email or password is not correct." in response.get_data(as_text=True)


@pytest.mark.parametrize("target,expected", [
    ("/people", "/people"),
    ("https://evil.example/x", "/dashboard"),
    ("//evil.example/x", "/dashboard"),
    ("/\\evil.example", "/dashboard"),
    ("javascript:alert(1)", "/dashboard"),
])
def test_next_only_redirects_to_own_paths(client, create_user, target, expected):
    user = create_user(Role.MANAGER)
    response = post_login(client, user.email, TEST_PASSWORD, next_url=target)
    assert response.headers["Location"] == expected


def test_anonymous_is_sent_to_login_with_next(client):
    response = client.get("/people")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_session_cookie_flags(client, create_user, app):
    user = create_user(Role.REP)
    response = post_login(client, user.email, TEST_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    client.post("/auth/logout")
    app.config["SESSION_COOKIE_SECURE"] = True
    response = post_login(client, user.email, TEST_PASSWORD)
    assert "Secure" in response.headers["Set-Cookie"]


def test_change_password(client, create_user, login_as):
    user = create_user(Role.REP)
    login_as(user)
    response = client.post("/auth/password", data={
        "current_password": "not-mine-at-all", "new_password": "brand-new-secret",
        "confirm": "brand-new-secret"})
    assert "That is not your current password." in response.get_data(as_text=True)
    response = client.post("/auth/password", data={
        "current_password": TEST_PASSWORD, "new_password": "short", "confirm": "short"})
    assert "at least 10 characters" in response.get_data(as_text=True)
    response = client.post("/auth/password", data={
        "current_password": TEST_PASSWORD, "new_password": "brand-new-secret",
        "confirm": "brand-new-secret"})
    assert response.status_code == 302
    client.post("/auth/logout")
    assert post_login(client, user.email, "brand-new-secret").status_code == 302


def test_set_password_link_works_once(client, create_user, app):
    user = create_user(Role.REP, password=None)
    token = make_set_password_token(user)
    db.session.commit()  # as the page's request or the CLI does
    url = f"/auth/set-password/{token}"
    assert client.get(url).status_code == 200
    response = client.post(url, data={"new_password": "a-fine-password",
                                      "confirm": "a-fine-password"})
    assert response.status_code == 302
    assert post_login(client, user.email, "a-fine-password").status_code == 302
    client.post("/auth/logout")
    again = client.get(url)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)


def test_a_fresh_set_password_link_voids_the_earlier_ones(client, create_user, app):
    """HR makes a fresh link when the first was lost or sent to the wrong person: that first
    link must stop working, not stay valid for its seven days."""
    user = create_user(Role.REP, password=None)
    hr = create_user(Role.HR_ADMIN)
    first = make_set_password_token(user)
    db.session.commit()
    client.post("/auth/login", data={"email": hr.email, "password": TEST_PASSWORD})
    page = client.post(f"/admin/users/{user.id}/set-password-link").get_data(as_text=True)
    fresh = re.search(r"/auth/set-password/([\w.\-]+)", page).group(1)
    client.post("/auth/logout")
    refused = client.get(f"/auth/set-password/{first}")
    assert refused.status_code == 400
    assert "A newer link has been made" in refused.get_data(as_text=True)
    assert client.post(f"/auth/set-password/{first}", data={
        "new_password": "a-fine-password", "confirm": "a-fine-password"}).status_code == 400
    assert client.get(f"/auth/set-password/{fresh}").status_code == 200


def test_set_password_link_tampered_or_expired(client, create_user, app):
    user = create_user(Role.REP, password=None)
    token = make_set_password_token(user)
    assert client.get(f"/auth/set-password/{token}x").status_code == 400
    app.config["SET_PASSWORD_TOKEN_MAX_AGE"] = -1
    response = client.get(f"/auth/set-password/{token}")
    assert "expired" in response.get_data(as_text=True)


def test_csrf_is_enforced_on_forms(app, create_user):
    create_user(Role.REP, email="csrf@example.test")
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/auth/login", data={"email": "csrf@example.test",
                                                "password": TEST_PASSWORD})
    assert response.status_code == 400
    response = client.post("/auth/logout")
    assert response.status_code == 400


def test_password_fields_say_what_they_hold_and_the_length_before_a_failed_try(client,
                                                                                create_user):
    """WCAG 1.3.5, and password managers: a set-password form is a new password; the
    10-character minimum was revealed only by a refusal."""
    login = client.get("/auth/login").get_data(as_text=True)
    assert re.search(r'<input[^>]*autocomplete="username"[^>]*id="email"|'
                     r'<input[^>]*id="email"[^>]*autocomplete="username"', login)
    assert 'autocomplete="current-password"' in login
    user = create_user(Role.REP, password=None)
    token = make_set_password_token(user)
    db.session.commit()
    page = client.get(f"/auth/set-password/{token}").get_data(as_text=True)
    assert page.count('autocomplete="new-password"') == 2
    assert "At least 10 characters." in page
