"""Numbers too large for the database in a URL, a query or a form: a 404 or a 400 page, never
a 500. SQLite refuses to bind an integer above 2**63 - 1 (OverflowError), PostgreSQL stores
ids as 32-bit integers; a probe found a dozen pages answering 500 to an id of 10**23."""

import re

import pytest

HUGE = "99999999999999999999999"


def _int_rules(app):
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items()
                if conv.__class__.__name__.lower().startswith(("integer", "bounded"))]
        if ints and len(ints) == len(rule.arguments):
            yield rule


@pytest.mark.parametrize("huge", [HUGE, str(2**31)])
def test_every_route_with_an_id_answers_404_to_one_too_large(app, client, login_as, org, huge):
    login_as(org.hr)
    failures = []
    for rule in _int_rules(app):
        url = re.sub(r"<(?:int:)?[^>]+>", huge, rule.rule)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            status = client.open(url, method=method).status_code
            if status >= 500 or status == 200:
                failures.append(f"{method} {url}: {status}")
    assert not failures, failures


@pytest.mark.parametrize("url", [
    "/mail/outbox?page=" + HUGE, "/goals/?owner=" + HUGE, "/metrics/team?team=" + HUGE,
    "/people?page=" + HUGE + "&team=" + HUGE, "/goals/tree?team=" + HUGE,
    "/goals/new?parent=" + HUGE + "&owner=" + HUGE,
])
def test_a_huge_number_in_a_query_is_not_a_server_error(client, login_as, org, url):
    login_as(org.hr)
    assert client.get(url, follow_redirects=True).status_code < 500


def test_a_huge_number_in_a_form_is_refused_not_a_server_error(client, login_as, org):
    login_as(org.rep)
    answer = client.post("/notifications/read", data={"first": HUGE, "last": HUGE})
    assert answer.status_code < 500
