"""Every registered route, for every role and anonymous, answers with the expected status.

A new route must be added to ROUTES; test_every_route_is_listed fails until it is. Actors:
anon; rep (Rita, reports to lead); outsider (a rep in another branch); lead (Rita's manager);
boss (lead's manager); other (a manager of another branch); hr.
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from reviewapp.auth.services import make_set_password_token

ACTORS = ["anon", "rep", "outsider", "lead", "boss", "other", "hr"]
LOGIN = 302  # anonymous users are sent to the login page


@dataclass
class Case:
    method: str
    url: Callable  # (org) -> str
    expect: dict  # actor -> status; "*" is the default
    data: dict | None = None

    def status_for(self, actor: str) -> int:
        return self.expect.get(actor, self.expect.get("*"))


def everyone(status: int, **overrides) -> dict:
    return {"*": status, **overrides}


HR_ONLY = {"anon": LOGIN, "*": 403, "hr": 200}
HR_ONLY_POST = {"anon": LOGIN, "*": 403, "hr": 302}
MANAGERS_AND_HR = {"anon": LOGIN, "rep": 403, "outsider": 403, "*": 200}
# Rita's own page: herself, the managers above her and HR; others get 404.
RITA_SCOPE = {"anon": LOGIN, "rep": 200, "lead": 200, "boss": 200, "hr": 200, "*": 404}

ROUTES: dict[str, list[Case]] = {
    "static": [Case("GET", lambda o: "/static/css/app.css", everyone(200))],
    "auth.login": [Case("GET", lambda o: "/auth/login", everyone(302, anon=200))],
    "auth.logout": [Case("POST", lambda o: "/auth/logout", everyone(302))],
    "auth.password": [Case("GET", lambda o: "/auth/password", everyone(200, anon=LOGIN))],
    "auth.set_password_from_link": [
        Case("GET", lambda o: f"/auth/set-password/{make_set_password_token(o.rep)}",
             everyone(200)),
        Case("GET", lambda o: "/auth/set-password/forged", everyone(400)),
    ],
    "dashboard.home": [Case("GET", lambda o: "/", everyone(302))],
    "dashboard.index": [Case("GET", lambda o: "/dashboard", everyone(200, anon=LOGIN))],
    "dashboard.people": [Case("GET", lambda o: "/people", MANAGERS_AND_HR)],
    "dashboard.person": [
        Case("GET", lambda o: f"/people/{o.rep.id}", RITA_SCOPE),
        Case("GET", lambda o: "/people/999999", everyone(404, anon=LOGIN)),
    ],
    "admin.users": [Case("GET", lambda o: "/admin/users", HR_ONLY)],
    "admin.user_new": [Case("GET", lambda o: "/admin/users/new", HR_ONLY)],
    "admin.user_edit": [Case("GET", lambda o: f"/admin/users/{o.rep.id}/edit", HR_ONLY)],
    "admin.user_active": [
        Case("POST", lambda o: f"/admin/users/{o.rep.id}/active", HR_ONLY_POST,
             data={"active": "0"}),
    ],
    "admin.user_link": [
        Case("POST", lambda o: f"/admin/users/{o.rep.id}/set-password-link", HR_ONLY),
    ],
    "admin.users_import": [Case("GET", lambda o: "/admin/users/import", HR_ONLY)],
    "admin.teams": [Case("GET", lambda o: "/admin/teams", HR_ONLY)],
    "admin.team_edit": [Case("GET", lambda o: f"/admin/teams/{o.team.id}/edit", HR_ONLY)],
}


# Each area lists its routes in tests/<area>/routes.py: ROUTES (endpoint -> cases) and an
# optional setup(org) that adds the records its URLs point at (stored on org).
AREA_MODULES = ["tests.metrics.routes", "tests.api.routes", "tests.kpis.routes",
                "tests.goals.routes", "tests.reviews.routes", "tests.reviews.cycle_routes"]
SETUP_FOR: dict[str, Callable] = {}  # endpoint -> the setup of the area that lists it
for _name in AREA_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:
        if not _name.startswith(str(exc.name)):  # a missing area, not a broken one
            raise
        continue
    for _endpoint, _cases in _module.ROUTES.items():
        ROUTES.setdefault(_endpoint, []).extend(_cases)
        if hasattr(_module, "setup"):
            SETUP_FOR[_endpoint] = _module.setup


def _actor_user(org, actor: str):
    return {"rep": org.rep, "outsider": org.outsider, "lead": org.lead, "boss": org.boss,
            "other": org.other_manager, "hr": org.hr}.get(actor)


def test_every_route_is_listed(app):
    registered = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(registered - set(ROUTES))
    assert not missing, f"routes missing from the route x role matrix: {missing}"
    stale = sorted(set(ROUTES) - registered)
    assert not stale, f"matrix lists routes that no longer exist: {stale}"


CASES = [(endpoint, i, actor) for endpoint, cases in ROUTES.items()
         for i in range(len(cases)) for actor in ACTORS]


@pytest.mark.parametrize("endpoint,index,actor", CASES,
                         ids=[f"{e}[{i}]-{a}" for e, i, a in CASES])
def test_route_status_for_actor(client, org, login_as, endpoint, index, actor):
    case = ROUTES[endpoint][index]
    if endpoint in SETUP_FOR:
        SETUP_FOR[endpoint](org)
    user = _actor_user(org, actor)
    if user is not None:
        login_as(user)
    url = case.url(org)
    if case.method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data=case.data or {})
    expected = case.status_for(actor)
    assert response.status_code == expected, (
        f"{case.method} {url} as {actor}: {response.status_code}, expected {expected}"
    )
    if expected == LOGIN and actor == "anon":
        assert "/auth/login" in response.headers["Location"]
