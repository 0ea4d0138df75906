"""Launch: the checks that refuse it, and what a launch creates and freezes."""

import sqlalchemy as sa

from reviewapp.cycles.catalogue import set_weight_bounds
from reviewapp.cycles.models import Competency, Cycle, CycleStatus
from reviewapp.metrics.models import KpiStatus
from reviewapp.reviews.models import CompetencyRating, KpiScore, Review, ReviewState
from tests.reviews.cycle_fixtures import (  # noqa: F401
    MEETINGS_SENTENCE,
    activity,
    cycle_form,
    kpis_fixture,
)


def _draft(client, kpis, rows, **overrides) -> Cycle:
    response = client.post("/cycles/new", data=cycle_form(kpis.org, rows, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    return _cycle(kpis)


def _cycle(kpis) -> Cycle:
    from reviewapp.extensions import db

    db.session.expire_all()
    return db.session.scalar(sa.select(Cycle))


def _count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _refused(client, cycle, db, *fragments):
    page = client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert 'data-testid="launch-problems"' in page
    response = client.post(f"/cycles/{cycle.id}/launch", follow_redirects=True)
    flashed = response.get_data(as_text=True)
    assert "was not launched" in flashed
    for fragment in fragments:
        assert fragment in page and fragment in flashed
    db.session.expire_all()
    assert db.session.get(Cycle, cycle.id).status == CycleStatus.DRAFT
    assert _count(db, Review) == 0


def test_launch_is_refused_for_a_metric_that_is_not_a_kpi(client, kpis, login_as, db):
    login_as(kpis.org.hr)
    cycle = _draft(client, kpis, [(kpis.meetings, 12, 1), (kpis.calls, 40, 1)])
    _refused(client, cycle, db, "Calls per day is not a validated KPI (status: not predictive")


def test_launch_is_refused_for_more_than_five_kpis(client, kpis, login_as, db):
    login_as(kpis.org.hr)
    extra = [activity(f"kpi_{i}", f"Extra KPI {i}", status=KpiStatus.KPI) for i in range(4)]
    db.session.commit()
    cycle = _draft(client, kpis, [(m, 5, 1) for m in [kpis.meetings, kpis.proposals, *extra]])
    _refused(client, cycle, db, "6 KPIs chosen; at most 5")


def test_launch_is_refused_when_the_weight_is_outside_hr_bounds(client, kpis, login_as, db):
    login_as(kpis.org.hr)
    page = client.post("/cycles/new", data=cycle_form(
        kpis.org, [(kpis.meetings, 12, 1)], quant_weight="0.9")).get_data(as_text=True)
    cycle = _cycle(kpis)
    _refused(client, cycle, db, "The quantitative weight 0.90 is outside HR&#39;s bounds "
                                "0.30–0.70")
    assert page  # saved: a draft may be outside the bounds until launch
    # Widening the bounds makes it launchable.
    set_weight_bounds(kpis.org.hr, 0.2, 0.9)
    db.session.commit()
    assert 'data-testid="launch-ok"' in client.get(f"/cycles/{cycle.id}").get_data(as_text=True)


def test_a_launch_creates_one_review_per_rep_and_freezes_the_rules(client, kpis, login_as, db):
    org = kpis.org
    login_as(org.hr)
    cycle = _draft(client, kpis, [(kpis.meetings, 12, 1), (kpis.proposals, 5, 1)],
                   people=[str(org.outsider.id)])
    kpi = cycle.kpis[0]
    client.post(f"/cycles/{cycle.id}/targets?kpi={kpi.id}", data={f"target_{org.rep.id}": "20"})
    page = client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert "Ready to launch: 4 reps will get a review" in page

    response = client.post(f"/cycles/{cycle.id}/launch", follow_redirects=True)
    assert "4 reviews are open for self-assessment" in response.get_data(as_text=True)
    cycle = _cycle(kpis)
    assert cycle.status == CycleStatus.LAUNCHED and cycle.launched_by_id == org.hr.id
    reviews = list(db.session.scalars(sa.select(Review)))
    assert sorted(r.rep.name for r in reviews) == [
        "Bob Direct", "Olga Outsider", "Ravi Rep", "Rita Rep"]
    assert {r.state for r in reviews} == {ReviewState.SELF_REVIEW}
    assert {r.rep_id: r.manager_id for r in reviews}[org.rep.id] == org.lead.id
    assert _count(db, CompetencyRating) == 4 * 5 and _count(db, KpiScore) == 4 * 2
    targets = {(s.review.rep_id, s.cycle_kpi.metric_id): s.target
               for s in db.session.scalars(sa.select(KpiScore))}
    assert targets[(org.rep.id, kpis.meetings.id)] == 20
    assert targets[(org.rep2.id, kpis.meetings.id)] == 12
    # Launching twice is refused and creates nothing more.
    response = client.post(f"/cycles/{cycle.id}/launch", follow_redirects=True)
    assert "already been launched" in response.get_data(as_text=True)
    assert _count(db, Review) == 4


def test_launch_freezes_competency_anchors(client, kpis, login_as, db):
    org = kpis.org
    login_as(org.hr)
    cycle = _draft(client, kpis, [(kpis.meetings, 12, 1)])
    client.post(f"/cycles/{cycle.id}/launch")
    relationships = db.session.scalar(sa.select(Competency).where(
        Competency.name == "Relationships"))
    old_anchor = relationships.anchors[3]
    client.post(f"/cycles/competencies/{relationships.id}/edit", data={
        "name": "Relationships", **{f"anchor_{n}": f"Rewritten {n}." for n in range(1, 6)},
        "active": "y"})
    db.session.expire_all()
    assert db.session.get(Competency, relationships.id).anchors[3] == "Rewritten 4."
    page = client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert old_anchor in page and "Rewritten 4." not in page


def test_launch_freezes_kpi_evidence(client, kpis, login_as, db):
    org = kpis.org
    login_as(org.hr)
    cycle = _draft(client, kpis, [(kpis.meetings, 12, 1)])
    client.post(f"/cycles/{cycle.id}/launch")
    cycle = _cycle(kpis)
    assert cycle.kpis[0].evidence_run_id == kpis.run.id
    page = client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert MEETINGS_SENTENCE in page and f'href="/kpis/runs/{kpis.run.id}"' in page
    assert "has since gone under review" not in page

    # A later run puts the metric under review: the cycle keeps the evidence it launched with.
    kpis.meetings.kpi_status = KpiStatus.UNDER_REVIEW
    kpis.meetings.name = "Meetings (renamed)"
    db.session.commit()
    page = client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert MEETINGS_SENTENCE in page and f'href="/kpis/runs/{kpis.run.id}"' in page
    assert "Meetings has since gone under review" in page
    assert "Meetings (renamed)" not in page


def test_launch_refuses_a_departed_manager_a_second_review_of_a_quarter_and_passed_deadlines(
        launched, db):
    """Probe: a rep whose manager had left got a review nobody could write; a second cycle for
    the same quarter gave its reps two reviews and two self-assessments to write; a cycle whose
    deadlines were all in 2020 showed 'Ready to launch'."""
    from datetime import date, timedelta

    import pytest

    from reviewapp.auth.models import Role
    from reviewapp.cycles.services import LaunchRefused, launch, launch_check, save_cycle
    from tests.factories import create_team, create_user
    from tests.reviews.conftest import make_draft

    org, metrics = launched.org, launched.metrics
    again = save_cycle(org.hr, None, make_draft(metrics, name="Same quarter again",
                                                team_ids=[org.team.id]))
    problems = " ".join(launch_check(again).problems)
    assert "already have a review for" in problems and org.rep.name in problems
    assert "2025 Q4 review" in problems
    with pytest.raises(LaunchRefused):
        launch(org.hr, again)

    gone = create_user(Role.MANAGER, name="Gil Gone")
    team = create_team("Beta", manager=gone)
    create_user(Role.REP, name="Bea Beta", manager=gone, team=team)
    gone.active = False
    late = save_cycle(org.hr, None, make_draft(
        metrics, name="Beta catch-up", team_ids=[team.id],
        self_due=date.today() - timedelta(days=30)))
    db.session.flush()
    problems = " ".join(launch_check(late).problems)
    assert "manager has left" in problems and "Bea Beta" in problems
    assert "deadlines have passed" in problems and "self-assessment" in problems
    # A demo replaying an earlier quarter launches on the day it is set in.
    replay = launch_check(late, today=date.today() - timedelta(days=40)).problems
    assert not any("passed" in p for p in replay)
