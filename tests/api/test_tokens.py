"""The API tokens page: create (shown once, stored as a hash), list, revoke; who may."""

import hashlib
import re

import sqlalchemy as sa

from reviewapp.api.models import ApiToken
from reviewapp.audit.models import AuditEvent
from reviewapp.auth.models import Role

TOKEN = re.compile(r"ra_[A-Za-z0-9_-]{43}")


def count(db, model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def audited(db, action, entity_id):
    return db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.entity_id == entity_id)) is not None


def test_token_is_shown_once_and_only_its_hash_is_stored(client, org, login_as, db):
    login_as(org.lead)
    response = client.post("/account/tokens", data={"name": "CRM nightly"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secrets = TOKEN.findall(response.get_data(as_text=True))
    assert len(set(secrets)) == 1
    secret = secrets[0]

    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == org.lead.id))
    assert token.name == "CRM nightly"
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:10] and len(token.prefix) < len(secret)
    assert secret not in {token.name, token.prefix, token.token_hash}
    assert audited(db, "api_token.create", token.id)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "api_token.create"))
    assert secret not in repr(event.after) and token.token_hash not in repr(event.after)

    page = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in page
    assert TOKEN.search(page) is None
    assert token.prefix in page and "CRM nightly" in page and "never" in page


def test_the_list_shows_created_last_used_and_revoked(client, org, login_as, db, token_for, api):
    used, unused, revoked = token_for(org.lead, "used"), token_for(org.lead, "unused"), \
        token_for(org.lead, "old")
    assert api.get(used).status_code == 200
    tokens = {t.name: t for t in db.session.scalars(sa.select(ApiToken))}
    login_as(org.lead)
    assert client.post(f"/account/tokens/{tokens['old'].id}/revoke").status_code == 302
    db.session.expire_all()
    page = client.get("/account/tokens").get_data(as_text=True)
    rows = {name: page[page.index(f"<td>{name}</td>"):].split("</tr>", 1)[0]
            for name in ("used", "unused", "old")}
    assert tokens["used"].last_used_at is not None
    assert tokens["used"].last_used_at.strftime("%Y-%m-%d %H:%M") in rows["used"]
    assert "never" in rows["unused"] and "active" in rows["unused"]
    assert "revoked" in rows["old"] and "Revoke</button>" not in rows["old"]
    assert tokens["unused"].created_at.strftime("%Y-%m-%d") in rows["unused"]
    assert unused and revoked  # secrets are not on the page
    assert used not in page and unused not in page and revoked not in page


def test_tokens_are_personal(client, org, login_as, token_for):
    token_for(org.lead, "lead's")
    login_as(org.boss)
    assert "lead&#39;s" not in client.get("/account/tokens").get_data(as_text=True)


def test_name_is_required(client, org, login_as, db):
    login_as(org.hr)
    response = client.post("/account/tokens", data={"name": "  "})
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
    assert count(db, ApiToken) == 0


def test_a_rep_may_not_have_tokens(client, org, login_as, db):
    login_as(org.rep)
    assert client.get("/account/tokens").status_code == 403
    assert client.post("/account/tokens", data={"name": "mine"}).status_code == 403
    assert count(db, ApiToken) == 0
    assert "API tokens" not in client.get(f"/people/{org.rep.id}").get_data(as_text=True)


def test_managers_see_the_link_on_their_profile(client, org, login_as):
    login_as(org.lead)
    assert "/account/tokens" in client.get(f"/people/{org.lead.id}").get_data(as_text=True)
    assert "/account/tokens" not in client.get(f"/people/{org.rep.id}").get_data(as_text=True)


def test_revoking_a_token_stops_it(client, org, login_as, db, token_for, api):
    secret = token_for(org.lead)
    token = db.session.scalar(sa.select(ApiToken))
    login_as(org.lead)
    response = client.post(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 302
    db.session.expire_all()
    assert token.revoked_at is not None
    assert audited(db, "api_token.revoke", token.id)
    assert api.get(secret).status_code == 401
    # Revoking again changes nothing and is not audited twice.
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "api_token.revoke")) == 1


def test_revoking_someone_elses_token_is_404(client, org, login_as, db, token_for, api):
    secret = token_for(org.lead)
    token = db.session.scalar(sa.select(ApiToken))
    for actor in (org.boss, org.hr, org.other_manager):
        login_as(actor)
        assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    db.session.expire_all()
    assert token.revoked_at is None
    assert api.get(secret).status_code == 200


def test_a_manager_turned_rep_loses_the_page(client, org, login_as, db, token_for):
    token_for(org.lead)
    org.lead.role = Role.REP
    db.session.commit()
    login_as(org.lead)
    assert client.get("/account/tokens").status_code == 403


def test_csrf_guards_the_form_but_not_bearer_requests(app, client, org, login_as, db, metrics,
                                                       token_for, api):
    secret = token_for(org.lead)
    app.config["WTF_CSRF_ENABLED"] = True
    login_as(org.lead)

    assert client.post("/account/tokens", data={"name": "forged"}).status_code == 400
    token = db.session.scalar(sa.select(ApiToken))
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 400
    db.session.expire_all()
    assert count(db, ApiToken) == 1 and token.revoked_at is None

    page = client.get("/account/tokens").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/account/tokens", data={"name": "real", "csrf_token": csrf})
    assert response.status_code == 200 and TOKEN.search(response.get_data(as_text=True))
    assert count(db, ApiToken) == 2

    response = api.post(secret, [{"rep_email": org.rep.email, "period": "2026-Q1",
                                  "metric": "calls", "value": 10}])
    assert response.status_code == 201, response.get_json()
    # Without a token the API answers 401, not a CSRF failure: the cookie is simply ignored.
    assert client.post("/api/v1/observations", json=[]).status_code == 401
