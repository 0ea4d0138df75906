"""Two people acting on one review at the same moment: no lost update, no half state, no 500.

Each race runs twice. *At once*: two threads, each with its own test client (its own login,
app context, session and database connection), post together; a barrier in SQLAlchemy's
before_flush holds each request until both have read the review, so both start from the same
version and their writes really collide (on SQLite one waits for the other's write lock; on
PostgreSQL for its row lock). *Interleaved*: both sessions load the page and take the form as
the browser would (with its hidden version), then one posts, then the other: the same
collision without depending on timing. The loser gets the 409 conflict page with what they
typed still on it; the database holds exactly the winner's change, the version moved once per
winning write, and a finalised review is not changed afterwards. Runs on SQLite and, with
REVIEWAPP_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import html
import re
import threading
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from reviewapp.audit.models import AuditEvent
from reviewapp.auth.models import Role
from reviewapp.cycles.services import launch, save_cycle
from reviewapp.extensions import db
from reviewapp.kpis.runs import run_validation
from reviewapp.reviews import decisions
from reviewapp.reviews.models import Acknowledgement, Review
from reviewapp.reviews.models import ReviewState as S
from reviewapp.reviews.services import (
    ManagerAssessment,
    save_manager,
    submit_manager,
)
from tests.factories import build_org, create_user, session_of
from tests.kpis.data import ALL_CANDIDATES, insert_sales
from tests.notifications.flow import manager_done, self_done
from tests.reviews.conftest import make_draft

CONFLICT = 'data-testid="conflict"'


# One launched cycle for the whole module (building it is most of the cost); each test takes a
# review of its own from it, in the state it needs, built through the services ---------------


@pytest.fixture(scope="module")
def launched(module_app):
    org = build_org()
    extra = [create_user(Role.REP, name=f"Sam Seller {i:02d}", manager=org.lead, team=org.team)
             for i in range(12)]
    metrics = insert_sales([r.id for r in (org.rep, org.rep2, org.boss_rep, org.outsider,
                                           *extra)])
    run_validation(None, "revenue", ALL_CANDIDATES, source="cli")
    db.session.commit()
    cycle = save_cycle(org.hr, None, make_draft(metrics, team_ids=[org.team.id]))
    launch(org.hr, cycle)
    db.session.commit()
    reviews = db.session.scalars(sa.select(Review.id).where(
        Review.cycle_id == cycle.id, Review.manager_id == org.lead.id).order_by(Review.id))
    return SimpleNamespace(org=org, cycle=cycle, unused=iter(list(reviews)))


@pytest.fixture
def app(module_app):
    yield module_app
    db.session.rollback()  # the next test reads afresh


@pytest.fixture
def in_self_review(app, launched):
    return db.session.get(Review, next(launched.unused))


@pytest.fixture
def in_manager_review(in_self_review):
    self_done(in_self_review)
    return in_self_review


@pytest.fixture
def in_calibration(in_manager_review):
    manager_done(in_manager_review, reconciliation_note="Explained.")
    return in_manager_review


@pytest.fixture
def shared_past_deadline(in_calibration, launched):
    """Shared, and past the acknowledgement deadline: the rep may still acknowledge, and HR may
    already finalise without the acknowledgement."""
    review = in_calibration
    decisions.share(launched.org.hr, review)
    review.cycle.acknowledgement_due = date.today() - timedelta(days=1)
    db.session.commit()
    return review


# Sessions, forms and races --------------------------------------------------------------------


def open_form(client, review_id: int, action: str) -> dict[str, str]:
    """Load the review page and take the hidden fields of the form posting to `action`, as the
    browser will send them (the version it was rendered with, when the form carries one)."""
    page = client.get(f"/reviews/{review_id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    match = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>',
                      body, re.S)
    assert match, f"no form posting to {action} on the page"
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', match.group(1))
    return {name: html.unescape(value) for name, value in hidden if name != "csrf_token"}


@pytest.fixture
def together():
    """Hold every racing request at its first flush until all of them got there (so each has
    read the review before any writes), then let them go at once."""
    state: dict = {}

    def wait_for_the_others(session, flush_context, instances):
        barrier = state.get("barrier")
        if barrier is None or threading.current_thread() not in state["racers"]:
            return
        if threading.current_thread() in state["waited"]:
            return
        state["waited"].add(threading.current_thread())
        barrier.wait(timeout=15)

    sa.event.listen(Session, "before_flush", wait_for_the_others)

    def race(*posts):
        """Post each (client, url, data) from its own thread, together; the answers, in order."""
        answers: list = [None] * len(posts)
        failures: list = []

        def post(i, client, url, data):
            try:
                answers[i] = client.post(url, data=data)
            except BaseException as exc:  # surfaced below, never swallowed
                failures.append(exc)

        threads = [threading.Thread(target=post, args=(i, *p)) for i, p in enumerate(posts)]
        state.update(barrier=threading.Barrier(len(posts)), racers=set(threads), waited=set())
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        finally:
            state["barrier"] = None
        assert not failures, failures
        assert all(a is not None for a in answers), "a racing request did not finish"
        return answers

    yield race
    sa.event.remove(Session, "before_flush", wait_for_the_others)


def fresh(review_id: int) -> Review:
    db.session.expire_all()
    return db.session.get(Review, review_id)


def events(review_id: int, action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == "review", AuditEvent.entity_id == review_id,
        AuditEvent.action == action).order_by(AuditEvent.id)).all()


def text_of(answer) -> str:
    return answer.get_data(as_text=True)


def assert_no_500(*answers) -> None:
    for answer in answers:
        assert answer.status_code < 500, text_of(answer)[:600]


def winner_and_loser(answers):
    """Exactly one request won (a redirect) and the other lost with the 409 conflict page."""
    assert_no_500(*answers)
    codes = [a.status_code for a in answers]
    assert sorted(codes) == [302, 409], codes
    loser = codes.index(409)
    assert CONFLICT in text_of(answers[loser])
    return 1 - loser, loser


def manager_form(review, text: str, *, rating: int, version) -> dict[str, str]:
    data = {"strengths": f"{text} strengths", "development_areas": f"{text} development",
            "overall_comment": f"{text} overall", "reconciliation_note": "Explained.",
            "action": "save", "version": str(version)}
    for r in review.ratings:
        data[f"manager_rating_{r.cycle_competency_id}"] = str(rating)
        data[f"manager_note_{r.cycle_competency_id}"] = f"{text} note"
    return data


# 1. The same review saved from two sessions ---------------------------------------------------


def test_two_sessions_saving_the_manager_side_at_once_one_wins_one_gets_409(
        app, in_manager_review, together):
    review = in_manager_review
    opened = review.version
    url = f"/reviews/{review.id}/manager"
    tab_a, tab_b = session_of(app, review.manager), session_of(app, review.manager)
    forms = [manager_form(review, "AAA", rating=2, version=opened),
             manager_form(review, "BBB", rating=5, version=opened)]
    answers = together((tab_a, url, forms[0]), (tab_b, url, forms[1]))
    won, lost = winner_and_loser(answers)
    mine, theirs = ("AAA", "BBB")[won], ("AAA", "BBB")[lost]
    assert f"{theirs} strengths" in text_of(answers[lost]), "the loser's text is not kept"
    # One manager, two tabs at the same moment: the other save was their own (it named them
    # in the third person).
    assert "You saved this review in another window or tab" in text_of(answers[lost])
    after = fresh(review.id)
    assert after.version == opened + 1
    assert after.strengths == f"{mine} strengths" and after.overall_comment == f"{mine} overall"
    assert {(r.manager_rating, r.manager_note) for r in after.ratings} == \
        {(2 if mine == "AAA" else 5, f"{mine} note")}, "half of the loser's write was kept"
    assert len(events(review.id, "review.manager_save")) == 1


def test_two_sessions_saving_the_manager_side_interleaved_the_later_gets_409(
        app, in_manager_review):
    review = in_manager_review
    url = f"/reviews/{review.id}/manager"
    tab_a, tab_b = session_of(app, review.manager), session_of(app, review.manager)
    form_a, form_b = open_form(tab_a, review.id, url), open_form(tab_b, review.id, url)
    assert form_a["version"] == form_b["version"] == str(review.version)
    first = tab_a.post(url, data=manager_form(review, "AAA", rating=2,
                                              version=form_a["version"]))
    assert first.status_code == 302
    second = tab_b.post(url, data=manager_form(review, "BBB", rating=5,
                                               version=form_b["version"]))
    assert second.status_code == 409 and CONFLICT in text_of(second)
    assert "BBB strengths" in text_of(second)
    # One manager in two tabs: the other save was theirs.
    assert "You saved this review in another window or tab" in text_of(second)
    after = fresh(review.id)
    assert after.version == int(form_a["version"]) + 1
    assert after.strengths == "AAA strengths"
    assert {r.manager_note for r in after.ratings} == {"AAA note"}


def test_the_self_assessment_saved_from_two_tabs_at_once(app, in_self_review, together):
    review = in_self_review
    url, opened = f"/reviews/{review.id}/self", review.version

    def form(text):
        data = {"achievements": text, "goals_reflection": "", "development_wishes": "",
                "action": "save", "version": str(opened)}
        data.update({f"self_note_{r.cycle_competency_id}": text for r in review.ratings})
        return data

    answers = together((session_of(app, review.rep), url, form("tab one")),
                       (session_of(app, review.rep), url, form("tab two")))
    won, lost = winner_and_loser(answers)
    texts = ("tab one", "tab two")
    assert texts[lost] in text_of(answers[lost])
    after = fresh(review.id)
    assert after.version == opened + 1 and after.achievements == texts[won]
    assert {r.self_note for r in after.ratings} == {texts[won]}


# 2. Calibration against the manager -----------------------------------------------------------


def test_a_calibration_adjustment_and_the_managers_potential_at_once(
        app, in_calibration, launched, together):
    review = in_calibration
    opened, cid = review.version, review.ratings[0].cycle_competency_id
    hr = session_of(app, launched.org.hr)
    manager = session_of(app, review.manager)
    calibrate_url = f"/reviews/{review.id}/calibrate/{cid}"
    potential_url = f"/reviews/{review.id}/potential"
    adjustment = {**open_form(hr, review.id, calibrate_url), f"calibrated_{cid}": "5",
                  f"reason_{cid}": "Three other managers saw the same."}
    potential = {**open_form(manager, review.id, potential_url), "potential": "3"}
    answers = together((hr, calibrate_url, adjustment), (manager, potential_url, potential))
    won, lost = winner_and_loser(answers)
    after = fresh(review.id)
    assert after.version == opened + 1
    rating = next(r for r in after.ratings if r.cycle_competency_id == cid)
    if won == 0:  # HR's adjustment stands; the manager's potential was not written
        assert (rating.calibrated_rating, after.potential) == (5, None)
    else:
        assert (rating.calibrated_rating, after.potential) == (None, 3)
        assert "Three other managers saw the same." in text_of(answers[lost])


def test_two_calibrators_adjusting_one_rating_interleaved_the_later_gets_409(
        app, in_calibration, launched):
    """HR's second calibrator posts the form she opened before the first one saved: without a
    version on the form her rating would silently replace the first one's."""
    review = in_calibration
    cid = review.ratings[0].cycle_competency_id
    url = f"/reviews/{review.id}/calibrate/{cid}"
    second_hr = create_user(Role.HR_ADMIN, name="Hana Second")
    first, second = session_of(app, launched.org.hr), session_of(app, second_hr)
    form_first, form_second = open_form(first, review.id, url), open_form(second, review.id, url)
    answer = first.post(url, data={**form_first, f"calibrated_{cid}": "5",
                                   f"reason_{cid}": "First calibrator's reason."})
    assert answer.status_code == 302
    late = second.post(url, data={**form_second, f"calibrated_{cid}": "1",
                                  f"reason_{cid}": "Second calibrator's reason."})
    assert late.status_code == 409 and CONFLICT in text_of(late)
    assert "Second calibrator&#39;s reason." in text_of(late) or \
        "Second calibrator's reason." in text_of(late)
    after = fresh(review.id)
    rating = next(r for r in after.ratings if r.cycle_competency_id == cid)
    assert rating.calibrated_rating == 5
    assert rating.calibration_reason == "First calibrator's reason."
    assert after.version == int(form_first["version"]) + 1
    assert len(events(review.id, "review.calibrate")) == 1


def test_a_stale_manager_tab_after_calibration_gets_409_with_its_text(
        app, in_manager_review, launched):
    """The manager's second tab still shows the form from manager review; meanwhile the review
    went to calibration and HR adjusted a rating. Saving that tab must not write, and must not
    throw the manager's text away with a bare refusal."""
    review = in_manager_review
    url = f"/reviews/{review.id}/manager"
    tab = session_of(app, review.manager)
    stale = open_form(tab, review.id, url)
    save_manager(review.manager, review, ManagerAssessment(
        "s", "d", "o", "Explained.",
        {r.cycle_competency_id: (3, "Written in the first tab.") for r in review.ratings}),
        expected_version=None)
    submit_manager(review.manager, review)
    cid = review.ratings[0].cycle_competency_id
    decisions.adjust_rating(launched.org.hr, review, cid, 5, "Calibrated.")
    db.session.commit()
    version = review.version
    answer = tab.post(url, data=manager_form(review, "STALE TAB", rating=1,
                                             version=stale["version"]))
    assert answer.status_code == 409 and CONFLICT in text_of(answer)
    assert "STALE TAB note" in text_of(answer) and "STALE TAB strengths" in text_of(answer)
    after = fresh(review.id)
    assert after.version == version and after.state == S.CALIBRATION
    assert {r.manager_note for r in after.ratings} == {"Written in the first tab."}
    assert next(r for r in after.ratings if r.cycle_competency_id == cid).calibrated_rating == 5


# 3. Finalising against an edit ----------------------------------------------------------------


ACK_COMMENT = "I see the forecasting point; the target felt high."


def acknowledgement(review) -> dict[str, str]:
    return {"typed_name": review.rep.name, "read_confirmed": "1", "comment": ACK_COMMENT}


def test_finalising_while_the_rep_acknowledges_at_once(
        app, shared_past_deadline, launched, together):
    review = shared_past_deadline
    opened = review.version
    hr, rep = session_of(app, launched.org.hr), session_of(app, review.rep)
    finalize_url, ack_url = f"/reviews/{review.id}/finalize", f"/reviews/{review.id}/acknowledge"
    finalise = {**open_form(hr, review.id, finalize_url), "confirm": "1"}
    ack = {**open_form(rep, review.id, ack_url), **acknowledgement(review)}
    answers = together((hr, finalize_url, finalise), (rep, ack_url, ack))
    won, lost = winner_and_loser(answers)
    after = fresh(review.id)
    acks = db.session.scalars(sa.select(Acknowledgement)
                              .where(Acknowledgement.review_id == review.id)).all()
    assert after.version == opened + 1
    if won == 0:  # finalised without the acknowledgement; the rep's comment is on her page
        assert after.state == S.FINALIZED and acks == []
        assert ACK_COMMENT in html.unescape(text_of(answers[lost]))
    else:  # acknowledged; HR sees the acknowledgement before finalising
        assert after.state == S.ACKNOWLEDGED and [a.comment for a in acks] == [ACK_COMMENT]
    states = [e.after["state"] for e in events(review.id, "review.state")]
    assert states[-1] == after.state.value and states.count(after.state.value) == 1


def test_the_rep_acknowledging_a_review_hr_just_finalised_gets_409_with_her_comment(
        app, shared_past_deadline, launched):
    review = shared_past_deadline
    hr, rep = session_of(app, launched.org.hr), session_of(app, review.rep)
    ack_url, finalize_url = f"/reviews/{review.id}/acknowledge", f"/reviews/{review.id}/finalize"
    ack = open_form(rep, review.id, ack_url)
    finalise = open_form(hr, review.id, finalize_url)
    opened = review.version
    assert hr.post(finalize_url, data={**finalise, "confirm": "1"}).status_code == 302
    finalised = fresh(review.id)
    assert finalised.state == S.FINALIZED
    assert finalised.version == opened + 1, "one decision, one new version"
    late = rep.post(ack_url, data={**ack, **acknowledgement(review)})
    assert_no_500(late)
    assert late.status_code == 409 and CONFLICT in text_of(late)
    assert ACK_COMMENT in html.unescape(text_of(late)), "the rep's comment is lost"
    after = fresh(review.id)
    assert (after.state, after.version) == (S.FINALIZED, finalised.version)
    assert after.acknowledgement is None


def test_hr_finalising_a_review_the_rep_changed_since_gets_409(
        app, shared_past_deadline, launched):
    """HR opened the review before the rep asked for a conversation: finalising that page
    would close the review without HR ever seeing the request."""
    review = shared_past_deadline
    hr, rep = session_of(app, launched.org.hr), session_of(app, review.rep)
    finalize_url = f"/reviews/{review.id}/finalize"
    conversation_url = f"/reviews/{review.id}/conversation"
    finalise = open_form(hr, review.id, finalize_url)
    asked = rep.post(conversation_url, data={**open_form(rep, review.id, conversation_url),
                                             "note": "Can we talk about the target?"})
    assert asked.status_code == 302
    version = fresh(review.id).version
    # Without script the button asks on a page first; that page must not swap in the version
    # of now, or confirming it would finalise what HR never saw.
    unconfirmed = hr.post(finalize_url, data=finalise)
    assert unconfirmed.status_code == 409 and CONFLICT in text_of(unconfirmed)
    late = hr.post(finalize_url, data={**finalise, "confirm": "1"})
    assert late.status_code == 409 and CONFLICT in text_of(late)
    assert "Can we talk about the target?" in html.unescape(text_of(late))
    after = fresh(review.id)
    assert (after.state, after.version) == (S.SHARED, version)


def test_a_manager_save_after_finalising_changes_nothing(app, in_manager_review, launched):
    review = in_manager_review
    url = f"/reviews/{review.id}/manager"
    tab = session_of(app, review.manager)
    stale = open_form(tab, review.id, url)
    hr = launched.org.hr
    save_manager(review.manager, review, ManagerAssessment(
        "s", "d", "o", "Explained.",
        {r.cycle_competency_id: (3, "Final note.") for r in review.ratings}),
        expected_version=None)
    submit_manager(review.manager, review)
    decisions.share(hr, review)
    decisions.acknowledge(review.rep, review, typed_name=review.rep.name, read_confirmed=True)
    decisions.finalize(hr, review)
    db.session.commit()
    version = review.version
    answer = tab.post(url, data=manager_form(review, "AFTER THE END", rating=1,
                                             version=stale["version"]))
    assert_no_500(answer)
    assert answer.status_code == 409 and "AFTER THE END strengths" in text_of(answer)
    after = fresh(review.id)
    assert (after.state, after.version) == (S.FINALIZED, version)
    assert {r.manager_note for r in after.ratings} == {"Final note."}


# 4. HR's decisions from a page that is no longer there ----------------------------------------


def calibrate_meanwhile(review, launched) -> int:
    """A second HR admin adjusts a rating while the first one's page is open; the version."""
    other_hr = create_user(Role.HR_ADMIN, name="Hana Meanwhile")
    cid = review.ratings[0].cycle_competency_id
    decisions.adjust_rating(other_hr, review, cid, 1, "Calibrated down meanwhile.")
    db.session.commit()
    return review.version


def post_after_calibration(app, review, launched, url: str, data: dict):
    """HR opens the form posting to `url`, another HR admin calibrates, then the form is posted:
    it must lose with the conflict page. (HR's browser, the answer, the version after.)"""
    tab = session_of(app, launched.org.hr)
    stale = open_form(tab, review.id, url)
    version = calibrate_meanwhile(review, launched)
    answer = tab.post(url, data={**stale, **data})
    assert answer.status_code == 409 and CONFLICT in text_of(answer)
    return tab, answer, version


def test_sharing_from_a_page_older_than_a_calibration_gets_409(app, in_calibration, launched):
    """Sharing shows the rep what the sharer saw: a rating calibrated after the page opened
    would reach the rep unseen by the person who shared it."""
    review = in_calibration
    url = f"/reviews/{review.id}/share"
    tab, answer, version = post_after_calibration(app, review, launched, url, {"confirm": "1"})
    after = fresh(review.id)
    assert after.shared_at is None and after.state == S.CALIBRATION
    assert after.version == version and events(review.id, "review.share") == []
    # The page it answers with is current: sharing from it works.
    assert tab.post(url, data={**open_form(tab, review.id, url), "confirm": "1"}).status_code == 302
    assert fresh(review.id).shared_at is not None


def test_returning_from_a_stale_page_gets_409_with_the_reason_kept(app, in_calibration,
                                                                   launched):
    review = in_calibration
    url = f"/reviews/{review.id}/return"
    _, answer, version = post_after_calibration(
        app, review, launched, url, {"reason": "Rework the forecasting section."})
    assert "Rework the forecasting section." in text_of(answer)
    after = fresh(review.id)
    assert after.state == S.CALIBRATION and after.version == version


def test_two_reassignments_from_one_page_the_later_gets_409(app, in_manager_review, launched):
    review = in_manager_review
    org = launched.org
    url = f"/reviews/{review.id}/reassign"
    first, second = session_of(app, org.hr), session_of(app, create_user(
        Role.HR_ADMIN, name="Hana Second Reassigner"))
    form_first, form_second = open_form(first, review.id, url), open_form(second, review.id, url)
    assert first.post(url, data={**form_first, "manager": str(org.boss.id),
                                 "reason": "Leo is on leave."}).status_code == 302
    late = second.post(url, data={**form_second, "manager": str(org.other_manager.id),
                                  "reason": "Otto takes Leo's team."})
    assert late.status_code == 409 and CONFLICT in text_of(late)
    assert fresh(review.id).manager_id == org.boss.id
    assert len(events(review.id, "review.reassign")) == 1
