"""Every state-changing route refuses a request without a valid CSRF token, for everyone, and
writes nothing; the JSON API is the exception: it takes no cookies, only a bearer token."""

import re

import pytest
import sqlalchemy as sa

from reviewapp.extensions import db

WRITING = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that take no CSRF token on purpose, and what authenticates them instead. They must
# still refuse this request (no valid credential of their own) and write nothing.
EXEMPT = {
    "notifications.unsubscribe": "one-click unsubscribe from a mail client (RFC 8058): the "
                                 "signed link itself is the credential",
}


def _url_for_rule(rule) -> str:
    """The rule's path with every variable filled in (the CSRF check runs before any view)."""
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>",
                  lambda m: "1" if m.group(1) in ("int", "float") else "x", rule.rule)


def _writing_rules(app):
    return [(rule, method) for rule in app.url_map.iter_rules()
            for method in sorted(rule.methods & WRITING)]


def _row_counts() -> dict[str, int]:
    db.session.rollback()
    return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in db.metadata.sorted_tables}


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_every_writing_route_refuses_a_missing_or_forged_csrf_token(app, org, token):
    app.config["WTF_CSRF_ENABLED"] = True
    rules = _writing_rules(app)
    assert len(rules) > 40  # the whole app, not a handful
    before = _row_counts()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = org.hr.get_id()
        session["_fresh"] = True
    problems = []
    for rule, method in rules:
        url = _url_for_rule(rule)
        data = {"csrf_token": token} if token else {}
        response = client.open(url, method=method, data=data)
        if rule.endpoint.startswith("api."):
            if response.status_code != 401:  # a session cookie alone never authenticates
                problems.append(f"{method} {url}: API answered {response.status_code}")
        elif rule.endpoint in EXEMPT:
            if response.status_code not in (400, 403, 404):
                problems.append(f"{method} {url} (exempt): {response.status_code}")
        elif response.status_code != 400 or "Bad request" not in response.get_data(as_text=True):
            problems.append(f"{method} {url} ({rule.endpoint}): {response.status_code}")
    assert not problems, "\n".join(problems)
    assert _row_counts() == before


def test_a_valid_token_is_accepted(app, org):
    """The refusals above are about the token: with the page's own token the post works."""
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/auth/login", data={"csrf_token": token, "email": org.rep.email,
                                                "password": "correct-horse-battery"})
    assert response.status_code == 302
