"""A copied session or remember-me cookie dies with logout, a password change, deactivation
and HR's "sign out everywhere"; a remember-me cookie lives 30 days (configurable), enforced
by the server, not only by the browser's expiry date."""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest

from reviewapp.audit.models import AuditEvent
from reviewapp.auth.models import Role
from reviewapp.auth.services import make_set_password_token
from reviewapp.extensions import db
from tests.factories import TEST_PASSWORD

REMEMBER = "remember_token"


def log_in(app, user, remember=False):
    client = app.test_client()
    data = {"email": user.email, "password": TEST_PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/auth/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client, response


def copy_cookie(app, source, name):
    """A new client holding only one cookie of another (a stolen or copied cookie)."""
    cookie = source.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    thief = app.test_client()
    thief.set_cookie(name, cookie.value)
    return thief


def logged_in(client) -> bool:
    return client.get("/dashboard").status_code == 200


def test_copied_session_cookie_dies_with_logout(app, create_user):
    user = create_user(Role.REP)
    client, _ = log_in(app, user)
    thief = copy_cookie(app, client, "session")
    assert logged_in(thief)
    client.post("/auth/logout")
    assert not logged_in(client)
    assert not logged_in(thief)


def test_copied_remember_cookie_dies_with_logout(app, create_user):
    user = create_user(Role.REP)
    client, _ = log_in(app, user, remember=True)
    thief = copy_cookie(app, client, REMEMBER)
    assert logged_in(thief)  # the remember cookie alone logs in, as it should
    client.post("/auth/logout")
    assert not logged_in(copy_cookie(app, client, REMEMBER) if client.get_cookie(REMEMBER)
                         else app.test_client())
    assert not logged_in(thief)


def test_password_change_ends_other_sessions_and_keeps_this_one(app, create_user):
    user = create_user(Role.REP)
    client, _ = log_in(app, user, remember=True)
    other_device, _ = log_in(app, user, remember=True)
    stolen_remember = copy_cookie(app, other_device, REMEMBER)
    response = client.post("/auth/password", data={
        "current_password": TEST_PASSWORD, "new_password": "brand-new-secret",
        "confirm": "brand-new-secret"})
    assert response.status_code == 302
    assert logged_in(client)
    assert logged_in(copy_cookie(app, client, REMEMBER))  # the new remember cookie works
    assert not logged_in(other_device)
    assert not logged_in(stolen_remember)


def test_password_set_from_a_link_ends_every_session(app, create_user):
    user = create_user(Role.REP)
    client, _ = log_in(app, user, remember=True)
    thief = copy_cookie(app, client, REMEMBER)
    url = f"/auth/set-password/{make_set_password_token(user)}"
    db.session.commit()
    response = app.test_client().post(url, data={"new_password": "a-fine-password",
                                                 "confirm": "a-fine-password"})
    assert response.status_code == 302
    assert not logged_in(client)
    assert not logged_in(thief)


def test_reactivation_does_not_revive_old_cookies(app, create_user, org, login_as):
    user = create_user(Role.REP)
    client, _ = log_in(app, user, remember=True)
    thief = copy_cookie(app, client, REMEMBER)
    hr = login_as(org.hr)
    assert hr.post(f"/admin/users/{user.id}/active", data={"active": "0"}).status_code == 302
    assert hr.post(f"/admin/users/{user.id}/active", data={"active": "1"}).status_code == 302
    assert not logged_in(client)
    assert not logged_in(thief)
    assert log_in(app, user)[0].get("/dashboard").status_code == 200


def test_deactivation_through_the_edit_form_ends_sessions(app, create_user, org, login_as, db):
    user = create_user(Role.REP)
    client, _ = log_in(app, user)
    hr = login_as(org.hr)
    response = hr.post(f"/admin/users/{user.id}/edit", data={
        "email": user.email, "name": user.name, "role": "rep", "manager": 0, "team": 0})
    assert response.status_code == 302
    db.session.expire_all()
    assert not user.active
    user.active = True
    db.session.commit()
    assert not logged_in(client)


def test_hr_signs_a_person_out_everywhere(app, create_user, org, login_as, db):
    user = create_user(Role.MANAGER)
    client, _ = log_in(app, user, remember=True)
    thief = copy_cookie(app, client, REMEMBER)
    page = login_as(org.hr).get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert f"/admin/users/{user.id}/sign-out" in page
    response = login_as(org.hr).post(f"/admin/users/{user.id}/sign-out")
    assert response.status_code == 302
    assert not logged_in(client)
    assert not logged_in(thief)
    event = db.session.scalar(db.select(AuditEvent).where(
        AuditEvent.action == "user.sign_out_everywhere", AuditEvent.entity_id == user.id))
    assert event is not None and event.actor_id == org.hr.id
    assert log_in(app, user)[0].get("/dashboard").status_code == 200


def test_only_hr_signs_others_out(app, create_user, org, login_as):
    client, _ = log_in(app, org.rep)
    response = login_as(org.lead).post(f"/admin/users/{org.rep.id}/sign-out")
    assert response.status_code == 403
    assert logged_in(client)


def test_a_session_without_a_generation_is_refused(app, create_user):
    """A cookie in the old form (a bare user id) must not outlive the upgrade."""
    user = create_user(Role.REP)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
    assert not logged_in(client)


def _expiry(response, name) -> datetime:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            for part in header.split(";"):
                if part.strip().lower().startswith("expires="):
                    return parsedate_to_datetime(part.split("=", 1)[1])
    raise AssertionError(f"no {name} cookie with an expiry")


def test_remember_cookie_lasts_30_days_by_default(app, create_user):
    user = create_user(Role.REP)
    _, response = log_in(app, user, remember=True)
    days = (_expiry(response, REMEMBER) - datetime.now(UTC)) / timedelta(days=1)
    assert 29.9 < days <= 30


def test_remember_duration_is_configurable(app, create_user):
    app.config["REMEMBER_COOKIE_DURATION"] = 7 * 24 * 3600
    user = create_user(Role.REP)
    _, response = log_in(app, user, remember=True)
    days = (_expiry(response, REMEMBER) - datetime.now(UTC)) / timedelta(days=1)
    assert 6.9 < days <= 7


@pytest.mark.parametrize("age_days,works", [(29, True), (31, False)])
def test_server_refuses_a_remember_cookie_past_its_lifetime(app, create_user, monkeypatch,
                                                            age_days, works):
    """The browser's expiry date is a hint; a copied cookie is judged by the server."""
    from reviewapp.auth import sessions

    user = create_user(Role.REP)
    issued = datetime.now(UTC) - timedelta(days=age_days)
    monkeypatch.setattr(sessions, "_now", lambda: issued)
    client, _ = log_in(app, user, remember=True)
    monkeypatch.undo()
    assert logged_in(copy_cookie(app, client, REMEMBER)) is works
