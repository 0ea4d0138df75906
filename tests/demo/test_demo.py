"""The demo organisation loads deterministically and idempotently, and carries the whole chain:
data in, the lab decides the KPIs, only KPIs score a review next to the qualitative ratings.

The demo is loaded once for the module (it renders and signs 26 records): the tests read it, and
the first loads it again to show that nothing changes."""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from reviewapp.auth.models import Role, Team, User
from reviewapp.cycles.models import Cycle
from reviewapp.demo.reviews import cycle_name, demo_quarter
from reviewapp.extensions import db as _db
from reviewapp.goals.models import Goal
from reviewapp.kpis.models import ValidationRun
from reviewapp.metrics.models import KpiStatus, Metric, Observation
from reviewapp.peers.models import PeerAnswer, PeerRequest
from reviewapp.reviews.models import Review, ReviewState
from reviewapp.reviews.scoring import DIVERGENCE_THRESHOLD

COUNTED = [User, Team, Observation, ValidationRun, Goal, Cycle, Review, PeerRequest, PeerAnswer]


@pytest.fixture(scope="module")
def loaded(module_app):
    """The demo, loaded once; the output of that load."""
    result = module_app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def db(loaded):
    yield _db
    _db.session.rollback()


@pytest.fixture
def runner(module_app):
    return module_app.test_cli_runner()


def snapshot(db):
    people = sorted(
        (u.email, u.role.value, u.manager.email if u.manager else None,
         u.team.name if u.team else None)
        for u in db.session.scalars(sa.select(User)))
    counts = {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
              for m in COUNTED}
    return people, counts


def test_demo_load_twice_changes_nothing_and_tells_the_story(loaded, runner, db):
    assert "Demo logins" in loaded and "hr@demo.reviewapp.test" in loaded
    people, counts = snapshot(db)
    roles = [r for _, r, _, _ in people]
    assert roles.count("hr_admin") == 1 and roles.count("manager") == 3
    assert roles.count("rep") == 24 and counts["Team"] == 3

    statuses = dict(db.session.execute(sa.select(Metric.key, Metric.kpi_status)).all())
    assert statuses["calls_per_day"] == KpiStatus.NOT_PREDICTIVE
    assert statuses["meetings"] == KpiStatus.KPI and statuses["proposals"] == KpiStatus.KPI
    run = db.session.scalar(sa.select(ValidationRun))
    priya = db.session.scalar(sa.select(User).where(User.name == "Priya Shah"))
    assert priya.id in [t["rep_id"] for t in run.teachable_moments]

    previous, cycle = db.session.scalars(sa.select(Cycle).order_by(Cycle.period_start)).all()
    for c in (previous, cycle):
        assert sorted(k.metric.key for k in c.kpis) == ["meetings", "proposals"]
        assert all(k.evidence_run_id and k.evidence_sentence for k in c.kpis)
    assert {r.state for r in db.session.scalars(sa.select(Review).where(
        Review.cycle_id == previous.id))} == {ReviewState.FINALIZED}
    reviews = db.session.scalars(sa.select(Review).where(Review.cycle_id == cycle.id)).all()
    assert {r.state for r in reviews} == set(ReviewState) - {ReviewState.NOT_STARTED}
    divergent = [r for r in reviews if r.state.rank >= ReviewState.CALIBRATION.rank
                 and abs(r.quant_score - r.qual_score) >= DIVERGENCE_THRESHOLD]
    assert divergent and all(r.reconciliation_note for r in divergent)
    acks = [r.acknowledgement for r in reviews if r.acknowledgement]
    assert any(a.comment for a in acks)
    assert any(r.conversation_requested_at for r in reviews)
    assert any(x.calibrated_rating is not None for r in reviews for x in r.ratings)
    # Dated from today: the current cycle's later deadlines are ahead, a few reviews overdue.
    today = date.today()
    assert cycle.manager_due > today and cycle.acknowledgement_due > today
    overdue = [r for r in reviews if r.deadline and r.deadline.overdue(today)]
    assert 0 < len(overdue) <= 4
    # Every rep wrote their own self-assessment: no two alike.
    texts = [r.achievements for r in reviews if r.achievements]
    assert len(texts) > 10 and len(set(texts)) == len(texts)
    # The lenient manager rates higher than the others while their KPI scores do not.
    def mean(values):
        return sum(values) / len(values)
    scored = [r for r in reviews if r.qual_score is not None and r.quant_score is not None]
    kai = [r for r in scored if r.manager.name == "Kai Jensen"]
    others = [r for r in scored if r.manager.name != "Kai Jensen"]
    assert mean([r.qual_score - r.quant_score for r in kai]) > \
        mean([r.qual_score - r.quant_score for r in others]) + 0.5
    calls = db.session.scalar(sa.select(Metric).where(Metric.key == "calls_per_day"))
    assert db.session.scalar(sa.select(Goal.id).where(Goal.metric_id == calls.id))

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "peer feedback: already loaded" in second.output
    db.session.expire_all()
    assert snapshot(db) == (people, counts)
    manager = db.session.scalar(sa.select(User).where(User.role == Role.MANAGER))
    assert len(manager.reports) == 8


@pytest.fixture
def login_as(module_app):
    def _login(user):
        client = module_app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return client
    return _login


def _review_of(db, name: str) -> Review:
    return db.session.scalar(sa.select(Review).join(User, User.id == Review.rep_id)
                             .join(Cycle, Cycle.id == Review.cycle_id)
                             .where(User.name == name, Cycle.name == cycle_name(demo_quarter())))


def _person(db, name: str) -> User:
    return db.session.scalar(sa.select(User).where(User.name == name))


def test_demo_peer_feedback(loaded, db, login_as):
    """Peer input on several reviews of the current cycle, and a customer voice."""
    assert "peer feedback: 6 reviews, 15 answers" in loaded
    reviewed = db.session.scalars(sa.select(PeerAnswer.review_id).distinct()).all()
    assert len(reviewed) >= 5

    marcus = _person(db, "Marcus Cole")
    grace = _review_of(db, "Grace Liu")
    page = login_as(marcus).get(f"/reviews/{grace.id}").get_data(as_text=True)
    assert "4 peers answered (of 4 asked)" in page and "median" in page
    assert 'data-testid="customer-voice"' in page and "CSAT" in page
    for name in ("Priya Shah", "Ana Lima", "Jon Park", "Ben Carter"):  # asked, never linked
        assert f"<td>{name}</td><td>asked</td>" in page
    tasks = login_as(marcus).get("/dashboard").get_data(as_text=True)
    assert "Approve the colleagues Pedro Alves nominated" in tasks

    hana = _review_of(db, "Hana Sato")
    page = login_as(_person(db, "Sofia Marin")).get(f"/reviews/{hana.id}").get_data(
        as_text=True)
    assert "Not enough responses to keep them anonymous" in page

    hr = _person(db, "Hannah Reed")
    calibration = login_as(hr).get(f"/cycles/{grace.cycle_id}/calibration").get_data(
        as_text=True)
    differs = calibration.split('data-testid="peer-differs"')[1].split("</table>")[0]
    assert "Lena Vogel" in differs and "Collaboration" in differs

    omar = _review_of(db, "Omar Haddad")
    tasks = login_as(_person(db, "Priya Shah")).get("/dashboard").get_data(as_text=True)
    assert "Give feedback on Omar Haddad" in tasks
    assert login_as(_person(db, "Priya Shah")).get(f"/reviews/{omar.id}").status_code == 404



def test_every_why_it_counts_link_of_a_review_opens_for_whoever_reads_it(loaded, db, login_as):
    """A rep was sent to the run page, which is the lab's (403); they get the KPI list with
    its evidence, managers and HR the run."""
    review = _review_of(db, "Priya Shah")
    hr = db.session.scalar(sa.select(User).where(User.email == "hr@demo.reviewapp.test"))
    for user in (review.rep, review.rep.manager, hr):
        client = login_as(user)
        page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
        links = re.findall(r'<td class="evidence"[^>]*>[^<]*<a href="([^"]+)"', page)
        assert links, user.name
        for link in links:
            assert client.get(link).status_code == 200, (user.name, link)


def test_no_notification_or_email_of_the_demo_says_review_twice(loaded, db):
    """The demo's cycle is '2026-Q3 quarterly review': 'the 2026-Q3 quarterly review review'."""
    from reviewapp.notifications.models import Notification, OutboxMessage

    texts = list(db.session.scalars(sa.select(Notification.message)))
    for subject, body in db.session.execute(sa.select(OutboxMessage.subject,
                                                      OutboxMessage.body_text)):
        texts += [subject, body]
    assert texts
    assert not [t for t in texts if re.search(r"\breview review\b", t, re.I)]


def test_the_run_pages_never_show_a_signed_zero(loaded, db, login_as):
    """The out-of-sample gain's sign decides a KPI; at three decimals calls' -0.000112 read
    '-0.000'. Every figure on the run and history pages keeps its significant digits."""
    client = login_as(db.session.scalar(sa.select(User).where(User.role == Role.HR_ADMIN)))
    run = db.session.scalar(sa.select(ValidationRun).order_by(ValidationRun.id.desc()))
    metric = db.session.scalar(sa.select(Metric).where(Metric.key == "calls_per_day"))
    for url in (f"/kpis/runs/{run.id}", f"/kpis/metrics/{metric.id}"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert not re.search(r">\s*-0(\.0+)?\s*<", page.get_data(as_text=True)), url
