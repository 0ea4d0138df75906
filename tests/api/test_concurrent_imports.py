"""Two API imports at the same moment, against a real threaded server: no 500, no half state.

The app runs in a werkzeug server thread (each request its own app context, session and
database connection, as under gunicorn); two clients with their own tokens post overlapping
rows at once, round after round. Each answer is 201 or the documented 409, everything a 201
reported is stored exactly once, and the roll-ups agree with the observations. Runs on SQLite
and, with REVIEWAPP_TEST_DATABASE_URL, on PostgreSQL.
"""

import threading

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from reviewapp.auth.models import Role, User
from reviewapp.metrics import rollups
from reviewapp.metrics.models import ImportBatch, Observation
from tests.factories import create_user

ROUNDS = 6


@pytest.fixture
def server(app):
    app.config["RATELIMIT_ENABLED"] = False
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)


def _rows(reps, period: str, value_of) -> list[dict]:
    return [{"rep_email": rep.email, "period": period, "metric": "calls", "value": value_of(i)}
            for i, rep in enumerate(reps)]


def _race(url: str, bodies: list[tuple[str, dict]]) -> list[requests.Response]:
    """Post every body at once (a barrier lines the threads up); the answers, in order."""
    barrier = threading.Barrier(len(bodies))
    answers: list = [None] * len(bodies)

    def post(i: int, token: str, body: dict) -> None:
        barrier.wait()
        answers[i] = requests.post(f"{url}/api/v1/observations", json=body, timeout=60,
                                   headers={"Authorization": f"Bearer {token}"})

    threads = [threading.Thread(target=post, args=(i, *b)) for i, b in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    return answers


def test_overlapping_imports_answer_201_or_409_and_write_each_value_once(
        org, db, metrics, token_for, server):
    hr = org.hr
    reps = [create_user(Role.REP, manager=org.lead, team=org.team, commit=False)
            for _ in range(40)]
    db.session.commit()
    tokens = [token_for(hr, "crm a"), token_for(org.lead, "crm b")]
    statuses, written = [], {}
    for round_ in range(ROUNDS):
        period = f"2025-{round_ + 1:02d}"
        # Same values where they overlap in odd rounds (the later one adds the rest); other
        # values in even rounds (the later one must be refused: they would change).
        same = round_ % 2 == 1
        first = {"rows": _rows(reps[:30], period, lambda i: float(i)), "source_name": "a"}
        second = {"rows": _rows(reps[10:], period,
                                (lambda i: float(i + 10)) if same else (lambda i: 1000.0 + i)),
                  "source_name": "b"}
        answers = _race(server, [(tokens[0], first), (tokens[1], second)])
        for answer, body in zip(answers, (first, second), strict=True):
            statuses.append(answer.status_code)
            assert answer.status_code in (201, 409), answer.text
            if answer.status_code == 409:
                assert "nothing was written" in answer.json()["error"]
            else:
                for row in body["rows"]:
                    written[(row["rep_email"], row["period"])] = row["value"]
        assert 201 in [a.status_code for a in answers]
    db.session.expire_all()
    stored = {(email, period.strftime("%Y-%m")): value for email, period, value in
              db.session.execute(sa.select(User.email, Observation.period_start,
                                           Observation.value).join(User,
                                                                   User.id == Observation.rep_id))}
    assert stored == written
    applied = db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch))
    assert applied == statuses.count(201)
    assert rollups.differences(db.session.connection()).empty
