"""The main pages send as many SQL statements for a team of 50 as for a team of 5 (no N+1).

The same organisation is built twice, with 5 and with 50 reps under one manager: a team,
metric data imported for everyone, a team goal and an individual goal per rep, a launched
cycle with a review per rep. Each page is fetched by the role that uses it and the statements
it sends are counted; every page whose count grows with the team is reported at once.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from reviewapp.auth.models import Role
from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.extensions import db
from reviewapp.goals.services import GoalDraft, create_goal
from reviewapp.metrics.catalogue import add_metric
from reviewapp.metrics.importer import apply_import, prepare_import
from reviewapp.metrics.models import KpiStatus
from reviewapp.metrics.periods import current_quarter
from reviewapp.reviews.models import Review
from tests.factories import create_team, create_user

SIZES = (5, 50)
PAGE_SIZE = 20  # under the larger team: a list of the whole team shows up as such


@dataclass
class Built:
    hr: object
    lead: object
    rep: object
    cycle_id: int
    review_id: int


def build(n_reps: int) -> Built:
    """HR, a manager with a team of n_reps, data, goals and a launched cycle."""
    hr = create_user(Role.HR_ADMIN, commit=False)
    lead = create_user(Role.MANAGER, commit=False)
    team = create_team(manager=lead, commit=False)
    reps = [create_user(Role.REP, manager=lead, team=team, commit=False) for _ in range(n_reps)]
    db.session.commit()
    revenue = add_metric(None, key="revenue", name="Revenue", kind="outcome",
                         direction="higher", rollup="sum")
    calls = add_metric(None, key="calls", name="Calls", kind="activity", direction="higher",
                       rollup="mean")
    meetings = add_metric(None, key="meetings", name="Meetings", kind="activity",
                          direction="higher", rollup="sum")
    meetings.kpi_status = KpiStatus.KPI
    quarter = current_quarter()
    months = [quarter.shift(-1).start, quarter.start]
    lines = ["rep_email,period,metric,value"]
    for i, rep in enumerate(reps):
        for month in months:
            for offset in (0, 1):
                label = f"{month.year}-{month.month + offset:02d}"
                lines += [f"{rep.email},{label},revenue,{1000 + i}",
                          f"{rep.email},{label},calls,{30 + i % 7}",
                          f"{rep.email},{label},meetings,{4 + i % 3}"]
    plan = prepare_import(hr, ("\n".join(lines) + "\n").encode(), "data.csv", source="cli")
    assert plan.ok, plan.errors[:3]
    apply_import(hr, plan)
    team_goal, _ = create_goal(lead, GoalDraft(
        scope="team", title="Team revenue", kind="metric", team_id=team.id,
        quarter=quarter.label, metric_id=revenue.id, start_value=0, target_value=10_000))
    for rep in reps:
        create_goal(lead, GoalDraft(
            scope="individual", title="Calls", kind="metric", owner_id=rep.id,
            quarter=quarter.label, metric_id=calls.id, start_value=20, target_value=40,
            parent_id=team_goal.id))
    today = date.today()
    cycle = save_cycle(hr, None, CycleDraft(
        name="Cycle", period=quarter.label, self_due=today + timedelta(days=5),
        manager_due=today + timedelta(days=10), calibration_due=today + timedelta(days=15),
        acknowledgement_due=today + timedelta(days=20), team_ids=[team.id],
        competency_ids=[c.id for c in ensure_default_competencies()],
        kpis=[(meetings.id, 10.0, 1.0)]))
    launch(hr, cycle)
    db.session.commit()
    review = db.session.scalar(sa.select(Review).where(Review.rep_id == reps[0].id))
    return Built(hr=hr, lead=lead, rep=reps[0], cycle_id=cycle.id, review_id=review.id)


# (name, who looks, url)
PAGES = [
    ("rep dashboard", "rep", lambda b: "/dashboard"),
    ("manager dashboard", "lead", lambda b: "/dashboard"),
    ("HR dashboard", "hr", lambda b: "/dashboard"),
    ("goals list (manager)", "lead", lambda b: "/goals/"),
    ("goals list (HR)", "hr", lambda b: "/goals/"),
    ("goal tree (manager)", "lead", lambda b: "/goals/tree"),
    ("goal tree (HR)", "hr", lambda b: "/goals/tree"),
    ("team metrics (manager)", "lead", lambda b: "/metrics/team"),
    ("team metrics (HR)", "hr", lambda b: "/metrics/team?grain=month"),
    ("rep metrics", "lead", lambda b: f"/metrics/people/{b.rep.id}"),
    ("cycle page", "hr", lambda b: f"/cycles/{b.cycle_id}"),
    ("cycle page (manager)", "lead", lambda b: f"/cycles/{b.cycle_id}"),
    ("cycle page, searched and sorted", "hr", lambda b: f"/cycles/{b.cycle_id}?q=rep&sort=-state"),
    ("people list (manager)", "lead", lambda b: "/people?sort=-team"),
    ("people list (HR)", "hr", lambda b: "/admin/users?q=example&sort=manager"),
    ("team metrics sorted by a metric", "lead", lambda b: "/metrics/team?sort=calls&dir=desc"),
    ("review page (manager)", "lead", lambda b: f"/reviews/{b.review_id}"),
    ("review page (rep)", "rep", lambda b: f"/reviews/{b.review_id}"),
    ("KPI lab", "lead", lambda b: "/kpis/"),
    ("KPI lab (HR)", "hr", lambda b: "/kpis/"),
]


def count_statements(app, built: Built) -> dict[str, tuple[int, int, int]]:
    """Statements, status and the most bound parameters one statement carried, of each page,
    each fetched twice (the first warms caches)."""
    statements: list[int] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        statements.append(len(parameters or ()))

    out = {}
    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        for name, who, url in PAGES:
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = getattr(built, who).get_id()
                session["_fresh"] = True
            client.get(url(built))
            statements.clear()
            response = client.get(url(built))
            out[name] = (len(statements), response.status_code, max(statements, default=0))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
    return out


@pytest.fixture
def counts(app, empty_tables):
    found = {}
    app.config["PAGE_SIZE"] = PAGE_SIZE  # fewer rows than the larger team (`app` restores it)
    for size in SIZES:
        built = build(size)
        found[size] = count_statements(app, built)
        empty_tables()
    return found


def test_every_main_page_sends_as_many_statements_for_50_reps_as_for_5(counts):
    small, large = (counts[s] for s in SIZES)
    broken = [f"{name}: answered {small[name][1]}/{large[name][1]}" for name in small
              if small[name][1] != 200 or large[name][1] != 200]
    assert not broken, broken
    grows = [f"{name}: {small[name][0]} statements for {SIZES[0]} reps, "
             f"{large[name][0]} for {SIZES[1]}" for name in small
             if small[name][0] != large[name][0]]
    assert not grows, "\n".join(grows)



def test_no_statement_lists_the_whole_team(counts):
    """A page reads its rows, not its scope: no statement carries an id per member of the team
    (a scope travels as a subquery or as one array/JSON parameter, see model_types.among), so
    the statement's text and its cost in the driver do not grow with the team."""
    large = counts[SIZES[1]]
    listing = [f"{name}: a statement with {params} parameters for a team of {SIZES[1]}"
               for name, (_, _, params) in large.items() if params >= SIZES[1] - 1]
    assert not listing, "\n".join(listing)
