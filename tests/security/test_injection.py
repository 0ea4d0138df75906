"""Injection and XSS: payloads in names and free text are stored as text, escaped in every
page of the route matrix, and never evaluated by the template engine."""

import re

import pytest
import sqlalchemy as sa

from reviewapp.extensions import db
from tests import factories
from tests.test_route_matrix import ALL_SETUPS, GET_CASES, ROUTES, _actor_user

PAYLOAD = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>{{7*7}}'; DROP TABLE users;--"
ESCAPED_MARKERS = ("<script>alert(1)", "<img src=x onerror")
# Free-text columns people (or imports) fill in: (table, column).
TEXT_COLUMNS = [("users", "name"), ("teams", "name"), ("metrics", "name"),
                ("metrics", "description"), ("goals", "title"), ("goals", "description"),
                ("goal_check_ins", "note"), ("goal_milestones", "title"),
                ("goal_comments", "body"), ("competencies", "name"),
                ("competencies", "description"), ("cycle_competencies", "name"),
                ("cycles", "name"), ("kpi_behaviour_notes", "body"),
                ("reviews", "achievements"), ("reviews", "strengths"),
                ("reviews", "overall_comment"), ("api_tokens", "name")]


@pytest.fixture(scope="module")
def poisoned(module_app, empty_tables):
    empty_tables()
    org = factories.build_org()
    for setup in ALL_SETUPS:
        setup(org)
    tables = db.metadata.tables
    with db.engine.begin() as conn:
        from reviewapp.reviews.lock import unlock_all_for_maintenance

        unlock_all_for_maintenance(conn)
        for table, column in TEXT_COLUMNS:
            if table in tables and column in tables[table].c:
                t = tables[table]
                length = getattr(t.c[column].type, "length", None) or 10_000
                text = sa.literal(PAYLOAD[:max(0, length - 10)]) + " #" + sa.cast(t.c.id,
                                                                                  sa.String)
                conn.execute(sa.update(t).values({column: text}))  # unique names stay unique
    db.session.expire_all()
    return org


PAGES = [(e, i) for e, i in GET_CASES if not e.startswith(("static", "api."))]


@pytest.mark.parametrize("endpoint,index", PAGES, ids=[f"{e}[{i}]" for e, i in PAGES])
def test_payloads_are_escaped_in_every_page(module_app, poisoned, endpoint, index):
    case = ROUTES[endpoint][index]
    url = case.url(poisoned)
    db.session.commit()
    problems = []
    for actor in ("hr", "lead", "rep"):
        user = _actor_user(poisoned, actor)
        client = module_app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
        response = client.get(url)
        if response.status_code >= 500:
            problems.append(f"{actor}: {url} answered {response.status_code}")
            continue
        if response.mimetype != "text/html":
            continue  # JSON, CSV, PDFs and archives are not parsed as HTML by a browser
        body = response.get_data(as_text=True)
        for marker in ESCAPED_MARKERS:
            if marker in body:
                problems.append(f"{actor}: {url} shows {marker!r} unescaped")
        if "{{7*7}}" not in body and "&lt;script&gt;" in body:
            problems.append(f"{actor}: {url} evaluated or mangled the template payload")
    assert not problems, "\n".join(problems)


def test_the_payload_reached_the_pages(module_app, poisoned):
    """The check above must see the payload, or it proves nothing."""
    client = module_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = poisoned.hr.get_id()
    body = client.get("/admin/users").get_data(as_text=True)
    assert body.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5
    assert re.search(r"\{\{7\*7\}\}", body)
