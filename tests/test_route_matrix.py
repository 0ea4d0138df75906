"""Every registered route, for every role and anonymous, answers with the expected status.

A new route must be added to ROUTES; test_every_route_is_listed fails until it is. Actors:
anon; rep (Rita, reports to lead); outsider (a rep in another branch); lead (Rita's manager);
boss (lead's manager); other (a manager of another branch); hr.

One test per case tries every actor and reports all mismatches at once. Every page a GET
returns must keep the strict Content-Security-Policy: no inline script, no style="" attribute,
no inline event handler (tests/inline_code.py). A GET must not write:
the SQL each GET request sends is recorded and any INSERT, UPDATE or DELETE fails the case.
GET cases share one organisation with every area's records, built once; a case whose URL adds
records of its own, or a request that writes, leaves it spoilt and the next use rebuilds it.
POST cases build their own data, try the actors expected to be refused first (a refused POST
must write nothing) and rebuild after every request that wrote.
"""

import importlib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from reviewapp.auth.services import make_set_password_token
from reviewapp.extensions import db
from tests import factories
from tests.inline_code import inline_code

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
    "dashboard.notifications_read": [
        Case("POST", lambda o: "/notifications/read", everyone(302))],
    "dashboard.people": [Case("GET", lambda o: "/people", {**MANAGERS_AND_HR, "hr": 302})],
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
    "admin.user_sign_out": [
        Case("POST", lambda o: f"/admin/users/{o.rep.id}/sign-out", HR_ONLY_POST),
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
                "tests.goals.routes", "tests.reviews.routes", "tests.reviews.cycle_routes",
                "tests.notifications.routes", "tests.peers.routes", "tests.records.routes"]
SETUP_FOR: dict[str, Callable] = {}  # endpoint -> the setup of the area that lists it
ALL_SETUPS: list[Callable] = []  # every area's setup, in AREA_MODULES order
for _name in AREA_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:
        if not _name.startswith(str(exc.name)):  # a missing area, not a broken one
            raise
        continue
    if hasattr(_module, "setup"):
        ALL_SETUPS.append(_module.setup)
    for _endpoint, _cases in _module.ROUTES.items():
        ROUTES.setdefault(_endpoint, []).extend(_cases)
        if hasattr(_module, "setup"):
            SETUP_FOR[_endpoint] = _module.setup


def _actor_user(org, actor: str):
    return {"rep": org.rep, "outsider": org.outsider, "lead": org.lead, "boss": org.boss,
            "other": org.other_manager, "hr": org.hr}.get(actor)


def _refused(actor: str, status: int) -> bool:
    """Whether a response with this status means the actor was turned away."""
    return status in (401, 403, 404) or (actor == "anon" and status == LOGIN)


_WRITE = re.compile(
    r"^\s*(?:INSERT|UPDATE|DELETE|REPLACE|MERGE|UPSERT|TRUNCATE|CREATE|DROP|ALTER)\b"
    r"|^\s*WITH\b.*\b(?:INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM)\b",
    re.IGNORECASE | re.DOTALL)


def _writes(statements: list[str]) -> list[str]:
    """The statements that write, shortened, each once (with a count if repeated)."""
    found = Counter(" ".join(s.split())[:120] for s in statements if _WRITE.match(s))
    return [f"{text} (x{n})" if n > 1 else text for text, n in found.items()]


class StatementLog:
    """The SQL sent through the engine while recording (a before_cursor_execute listener)."""

    def __init__(self) -> None:
        self._current: list[str] | None = None

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self._current is not None:
            self._current.append(statement)

    @contextmanager
    def recording(self) -> Iterator[list[str]]:
        self._current = statements = []
        try:
            yield statements
        finally:
            self._current = None


class MatrixData:
    """The records in the database: the shared build (unchanged), or anything else."""

    def __init__(self, empty_tables: Callable[[], None]) -> None:
        self._empty_tables = empty_tables
        self.org: SimpleNamespace | None = None
        self.pristine = False  # the database holds the shared build and nothing else

    def build(self, setups: list[Callable]) -> SimpleNamespace:
        """Start over: the organisation plus the records of the given area setups."""
        self._empty_tables()
        self.org = factories.build_org()
        for setup in setups:
            setup(self.org)
        self.pristine = False
        return self.org

    def shared(self) -> SimpleNamespace:
        """The organisation with every area's records, rebuilt only if something changed it."""
        if not self.pristine:
            self.build(ALL_SETUPS)
            self.pristine = True
        return self.org

    def spoil(self) -> None:
        self.pristine = False


@pytest.fixture(scope="module")
def statement_log(module_app) -> Iterator[StatementLog]:
    log = StatementLog()
    sa.event.listen(db.engine, "before_cursor_execute", log)
    yield log
    sa.event.remove(db.engine, "before_cursor_execute", log)


@pytest.fixture(scope="module")
def matrix_data(module_app, empty_tables) -> MatrixData:
    return MatrixData(empty_tables)


def _prepare(case: Case, org, log: StatementLog) -> tuple[str, dict, list[str]]:
    """The case's URL (some URL functions make their records on first use), the actors' user
    ids, and what that setup wrote."""
    with log.recording() as statements:
        url = case.url(org)
        user_ids = {actor: user.get_id() for actor in ACTORS
                    if (user := _actor_user(org, actor)) is not None}
        db.session.commit()  # leave no transaction open while the requests run
    return url, user_ids, _writes(statements)


def _request(app, log: StatementLog, case: Case, url: str, user_id: int | None):
    """One request by a fresh client logged in as user_id (None: anonymous), and its writes."""
    client = app.test_client()
    if user_id is not None:
        with client.session_transaction() as session:
            session["_user_id"] = user_id
            session["_fresh"] = True
    with log.recording() as statements:
        if case.method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data=case.data or {})
    return response, _writes(statements)


def _status_problem(case: Case, url: str, actor: str, response) -> str | None:
    expected = case.status_for(actor)
    if response.status_code != expected:
        return f"{actor}: {case.method} {url} answered {response.status_code}, expected {expected}"
    if expected == LOGIN and actor == "anon" and "/auth/login" not in response.location:
        return f"{actor}: {case.method} {url} redirected to {response.location}, not the login"
    return None


def _csp_problems(response) -> list[str]:
    """What the strict Content-Security-Policy would block in an HTML page (it must be none)."""
    if "Content-Security-Policy" not in response.headers:
        return ["no Content-Security-Policy header"]
    if response.mimetype != "text/html":
        return []
    return inline_code(response.get_data(as_text=True))


def _fail_on(problems: list[str], endpoint: str, index: int) -> None:
    if problems:
        pytest.fail(f"{endpoint}[{index}]:\n  " + "\n  ".join(problems), pytrace=False)


def test_every_route_is_listed(module_app):
    registered = {rule.endpoint for rule in module_app.url_map.iter_rules()}
    missing = sorted(registered - set(ROUTES))
    assert not missing, f"routes missing from the route x role matrix: {missing}"
    stale = sorted(set(ROUTES) - registered)
    assert not stale, f"matrix lists routes that no longer exist: {stale}"


def _cases(method_is_get: bool) -> list[tuple[str, int]]:
    return [(endpoint, i) for endpoint, cases in ROUTES.items()
            for i, case in enumerate(cases) if (case.method == "GET") == method_is_get]


GET_CASES = _cases(True)
POST_CASES = _cases(False)


@pytest.mark.parametrize("endpoint,index", GET_CASES, ids=[f"{e}[{i}]" for e, i in GET_CASES])
def test_get_route_for_every_actor(module_app, matrix_data, statement_log, endpoint, index):
    case = ROUTES[endpoint][index]
    problems: list[str] = []
    url = None
    for actor in ACTORS:
        if url is None:
            url, user_ids, setup_writes = _prepare(case, matrix_data.shared(), statement_log)
            if setup_writes:  # records of this case's own: not the shared build any more
                matrix_data.spoil()
        response, writes = _request(module_app, statement_log, case, url, user_ids.get(actor))
        if problem := _status_problem(case, url, actor, response):
            problems.append(problem)
        problems.extend(f"{actor}: GET {url}: {found}" for found in _csp_problems(response))
        if writes:
            problems.append(f"{actor}: GET {url} wrote: " + "; ".join(writes))
            matrix_data.spoil()
            url = None  # the next actor gets the data as it was
    _fail_on(problems, endpoint, index)


@pytest.mark.parametrize("endpoint,index", POST_CASES, ids=[f"{e}[{i}]" for e, i in POST_CASES])
def test_post_route_for_every_actor(module_app, matrix_data, statement_log, endpoint, index):
    case = ROUTES[endpoint][index]
    setups = [SETUP_FOR[endpoint]] if endpoint in SETUP_FOR else []
    problems: list[str] = []
    url = None
    # Those who must be turned away go first: they change nothing, so one build serves them
    # all; whoever may act changes data, so the next actor gets a fresh build.
    actors = sorted(ACTORS, key=lambda actor: not _refused(actor, case.status_for(actor)))
    for actor in actors:
        if url is None:
            url, user_ids, _ = _prepare(case, matrix_data.build(setups), statement_log)
        response, writes = _request(module_app, statement_log, case, url, user_ids.get(actor))
        if problem := _status_problem(case, url, actor, response):
            problems.append(problem)
        if writes:
            if _refused(actor, response.status_code):
                problems.append(f"{actor}: POST {url} was refused with {response.status_code} "
                                f"but wrote: " + "; ".join(writes))
            url = None
    _fail_on(problems, endpoint, index)
