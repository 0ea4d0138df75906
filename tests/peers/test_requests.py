"""Nominating, approving and answering peer feedback through the pages: who may do what, and
bad input refused with a specific message that changes nothing."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from reviewapp.audit.models import AuditEvent
from reviewapp.auth.models import Role
from reviewapp.errors import ActionUnavailable
from reviewapp.extensions import db
from reviewapp.notifications.models import Notification
from reviewapp.peers.models import PeerAnswer, PeerRequest, PeerRequestState
from reviewapp.reviews.models import Review
from tests.factories import create_user
from tests.peers.helpers import (
    answer,
    answer_form,
    approve,
    asked,
    fresh_review,
    nominate,
    request_of,
    requests_on,
)

S = PeerRequestState


def _notes(user) -> list[str]:
    return list(db.session.scalars(sa.select(Notification.message).where(
        Notification.user_id == user.id)))


def test_rep_nominates_manager_approves_peers_are_asked(client, login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    nominate(client, login_as, review, peers[:3])
    assert [r.state for r in requests_on(review)] == [S.PROPOSED] * 3
    assert any("nominated 3 colleagues" in m for m in _notes(org.lead))
    assert not _notes(peers[0])  # nobody is asked before the manager approves

    page = login_as(org.lead).get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "waiting for the manager&#39;s approval" in page and "Approve and ask 3" in page
    approve(client, login_as, review)
    assert [r.state for r in requests_on(review)] == [S.REQUESTED] * 3
    assert any(f"{org.rep.name} would value your feedback" in m for m in _notes(peers[0]))

    # The peer sees the request on the dashboard and can open it.
    dashboard = login_as(peers[0]).get("/dashboard").get_data(as_text=True)
    assert f"Give feedback on {org.rep.name}" in dashboard
    request = request_of(review, peers[0])
    assert login_as(peers[0]).get(f"/peers/requests/{request.id}").status_code == 200


def test_nominations_need_the_minimum_and_respect_the_maximum(client, login_as, peer_cycle):
    review, peers = peer_cycle.review, peer_cycle.peers
    response = nominate(client, login_as, review, peers[:2], expect=422)
    assert "Nominate at least 3 colleagues" in response.get_data(as_text=True)
    assert requests_on(review) == []
    extra = [peer_cycle.org.rep2, peer_cycle.org.boss_rep]
    response = nominate(client, login_as, review, peers + extra, expect=422)
    assert "At most 5 peers per review" in response.get_data(as_text=True)
    assert requests_on(review) == []


@pytest.mark.parametrize("who", ["rep", "lead"])
def test_nobody_is_asked_about_their_own_review_or_the_one_they_write(client, login_as,
                                                                      peer_cycle, who):
    review, org = peer_cycle.review, peer_cycle.org
    response = nominate(client, login_as, review, [getattr(org, who), *peer_cycle.peers[:2]],
                        expect=422)
    text = response.get_data(as_text=True)
    assert ("own review" in text) if who == "rep" else ("writes this review" in text)
    assert requests_on(review) == []


def test_a_rep_cannot_request_feedback_on_someone_elses_review(client, login_as, peer_cycle):
    org = peer_cycle.org
    ravi = db.session.scalar(sa.select(Review).where(Review.rep_id == org.rep2.id))
    login_as(org.rep)  # Rita on Ravi's review: it does not exist for her
    response = client.post(f"/peers/reviews/{ravi.id}/nominate",
                           data={"peers": [str(p.id) for p in peer_cycle.peers[:3]]})
    assert response.status_code == 404
    login_as(org.lead)  # the manager may decide, not nominate
    response = client.post(f"/peers/reviews/{ravi.id}/nominate",
                           data={"peers": [str(p.id) for p in peer_cycle.peers[:3]]})
    assert response.status_code == 403
    login_as(org.rep)  # nor approve on her own
    nominate(client, login_as, peer_cycle.review, peer_cycle.peers[:3])
    login_as(org.rep)
    assert client.post(f"/peers/reviews/{peer_cycle.review.id}/approve").status_code == 403
    assert [r.state for r in requests_on(peer_cycle.review)] == [S.PROPOSED] * 3


def test_manager_removes_a_nomination_and_adds_someone(client, login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    nominate(client, login_as, review, peers[:3])
    first = request_of(review, peers[0])
    login_as(org.lead)
    response = client.post(f"/peers/reviews/{review.id}/requests/{first.id}/remove")
    assert response.status_code == 302
    response = client.post(f"/peers/reviews/{review.id}/add", data={"peer": str(peers[3].id)})
    assert response.status_code == 302
    states = {r.peer_id: r.state for r in requests_on(review)}
    assert states == {peers[0].id: S.REMOVED, peers[1].id: S.PROPOSED,
                      peers[2].id: S.PROPOSED, peers[3].id: S.REQUESTED}
    # An asked peer stays asked: only they can decline.
    added = request_of(review, peers[3])
    response = client.post(f"/peers/reviews/{review.id}/requests/{added.id}/remove")
    assert response.status_code == 422
    assert "has been asked already" in response.get_data(as_text=True)
    assert request_of(review, peers[3]).state == S.REQUESTED
    history = client.get(f"/reviews/{review.id}/history").get_data(as_text=True)
    for action in ("peer nominate", "peer remove", "peer add"):
        assert f"<td>{action}</td>" in history
    assert f"<dd>{peers[0].name}</dd>" in history  # nominations are no secret; answers are


def test_an_answer_needs_an_example_for_every_rating(client, login_as, peer_cycle):
    review, peers = peer_cycle.review, peer_cycle.peers
    asked(client, login_as, review, peers[:3])
    response = answer(client, login_as, review, peers[0], expect=422, example="  ")
    assert "Give one concrete example" in response.get_data(as_text=True)
    none = {c.name: "none" for c in review.cycle.competencies}
    response = answer(client, login_as, review, peers[0], expect=422, ratings=none)
    assert "Rate at least one competency" in response.get_data(as_text=True)
    for wrong in ("7", "0", "four"):
        response = answer(client, login_as, review, peers[0], expect=422,
                          ratings={"Learning": wrong})
        assert "Ratings run from 1 to 5" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PeerAnswer)) == 0
    assert request_of(review, peers[0]).state == S.REQUESTED

    answer(client, login_as, review, peers[0], ratings={"Learning": "none"})
    assert request_of(review, peers[0]).state == S.ANSWERED
    stored = db.session.scalars(sa.select(PeerAnswer)).all()
    assert len(stored) == len(review.cycle.competencies)
    assert sum(1 for a in stored if a.rating is None and a.example == "") == 1
    # Final once given, and nothing of it touched the review itself (its "saved by").
    response = answer(client, login_as, review, peers[0], expect=422)
    assert "cannot be changed" in response.get_data(as_text=True)
    assert fresh_review(review.id).updated_by_id != peers[0].id


def test_decline_needs_a_reason_and_tells_the_manager(client, login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    request = request_of(review, peers[1])
    login_as(peers[1])
    response = client.post(f"/peers/requests/{request.id}/decline", data={"reason": " "})
    assert response.status_code == 422
    assert "Say why you decline" in response.get_data(as_text=True)
    assert request_of(review, peers[1]).state == S.REQUESTED
    response = client.post(f"/peers/requests/{request.id}/decline",
                           data={"reason": "We have not worked together this quarter."})
    assert response.status_code == 302
    assert request_of(review, peers[1]).state == S.DECLINED
    assert any("We have not worked together" in m for m in _notes(org.lead))
    page = login_as(org.lead).get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "declined: “We have not worked together this quarter.”" in page
    # Still there for the reviewer once the review is in calibration (it went missing when
    # the manager could no longer change the peers).
    from reviewapp.reviews.states import ReviewState
    from tests.peers.helpers import move

    move(review, ReviewState.CALIBRATION)
    page = login_as(org.lead).get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "declined: “We have not worked together this quarter.”" in page
    page = login_as(org.rep).get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "We have not worked together" not in page


def test_one_more_nomination_is_one_colleague(client, login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    nominate(client, login_as, review, peers[:3])
    nominate(client, login_as, review, peers[3:4])
    assert any(f"{org.rep.name} nominated 1 colleague for" in m for m in _notes(org.lead))


def test_a_peer_who_answered_cannot_become_the_reviewer(client, login_as, peer_cycle):
    """Reassigning got round the rule that a reviewer is never a peer: the new reviewer read a
    summary holding their own answer, and knew the others' by elimination."""
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    colleague = create_user(Role.MANAGER, name="Kai Colleague")
    asked(client, login_as, review, [*peers[:2], colleague])
    answer(client, login_as, review, colleague)
    login_as(org.hr)
    response = client.post(f"/reviews/{review.id}/reassign", data={
        "manager": str(colleague.id), "reason": "Reporting line changed."})
    assert response.status_code == 422
    assert "Kai Colleague is one of this review&#39;s peers (answered)" in response.get_data(
        as_text=True)
    assert fresh_review(review.id).manager_id == org.lead.id


def _answered_meanwhile(request, state, **values):
    """Another request of the same peer (a second tab) moved the request on and committed,
    after this one read it."""
    with db.engine.begin() as conn:
        conn.execute(sa.update(PeerRequest).where(PeerRequest.id == request.id)
                     .values(state=state, **values))


def test_an_answer_and_a_decline_at_once_leave_exactly_one(login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    from reviewapp.peers import services

    # A decline racing an answer that landed first: the request stays answered, untouched.
    client = login_as(org.lead)
    asked(client, login_as, review, peers[:3])
    request = request_of(review, peers[0])
    _answered_meanwhile(request, S.ANSWERED)
    with pytest.raises(ActionUnavailable, match="answered this request"):
        services.decline(peers[0], request, "We have not worked together.")
    db.session.rollback()
    assert request_of(review, peers[0]).state == S.ANSWERED
    assert not any("declined" in m for m in _notes(org.lead))

    # An answer (or a second answer: a double click) racing a decline: no answers are kept,
    # so none can reach the summary of a "declined" peer; no database error either.
    request = request_of(review, peers[1])
    _answered_meanwhile(request, S.DECLINED, decline_reason="No time.")
    ratings = {c.id: (4, "Saw it.") for c in review.cycle.competencies}
    with pytest.raises(ActionUnavailable, match="declined this request"):
        services.answer(peers[1], request, ratings)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PeerAnswer)) == 0
    assert request_of(review, peers[1]).state == S.DECLINED


def test_peer_texts_have_a_length_limit(client, login_as, peer_cycle):
    review, peers = peer_cycle.review, peer_cycle.peers
    asked(client, login_as, review, peers[:3])
    response = answer(client, login_as, review, peers[0], expect=422, example="x" * 4001)
    assert "at most 4,000 characters (4,001 now)" in response.get_data(as_text=True)
    request = request_of(review, peers[1])
    login_as(peers[1])
    response = client.post(f"/peers/requests/{request.id}/decline", data={"reason": "y" * 5000})
    assert response.status_code == 422
    assert "Your reason: use at most 4,000 characters" in response.get_data(as_text=True)
    assert [r.state for r in requests_on(review)] == [S.REQUESTED] * 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PeerAnswer)) == 0


def test_a_request_exists_only_for_its_peer(client, login_as, peer_cycle):
    """Another peer, the rep, the manager, HR: none of them can open (or answer) a peer's
    request, so nobody reads another peer's answer."""
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    answer(client, login_as, review, peers[0])
    request = request_of(review, peers[0])
    for other in (peers[1], org.rep, org.lead, org.boss, org.hr, org.outsider):
        login_as(other)
        assert client.get(f"/peers/requests/{request.id}").status_code == 404
        assert client.post(f"/peers/requests/{request.id}/answer",
                           data=answer_form(review)).status_code == 404
    # A peer does not see the review either.
    login_as(peers[1])
    assert client.get(f"/reviews/{review.id}").status_code == 404
    own = client.get(f"/peers/requests/{request_of(review, peers[1]).id}")
    assert "Saw it in the" not in own.get_data(as_text=True)


def test_answers_freeze_at_finalising(client, login_as, peer_cycle):
    review, peers = peer_cycle.review, peer_cycle.peers
    asked(client, login_as, review, peers[:3])
    answer(client, login_as, review, peers[0])
    stored = fresh_review(review.id)
    now = db.func.now()
    db.session.execute(sa.update(Review).where(Review.id == review.id).values(
        self_submitted_at=now, manager_submitted_at=now, shared_at=now, finalized_at=now,
        state="finalized"))
    db.session.commit()
    response = answer(client, login_as, stored, peers[1], expect=422)
    assert "only possible while the review is" in response.get_data(as_text=True)
    request = request_of(stored, peers[2])
    login_as(peers[2])
    assert client.post(f"/peers/requests/{request.id}/decline",
                       data={"reason": "No."}).status_code == 422
    page = client.get(f"/peers/requests/{request.id}").get_data(as_text=True)
    assert "the review is finalised" in page
    # The database refuses too, whatever writes.
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(sa.update(PeerAnswer).where(PeerAnswer.review_id == review.id)
                     .values(example="changed"))
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(sa.update(PeerRequest).where(PeerRequest.id == request.id)
                     .values(state="declined", decline_reason="late"))


def test_after_the_peer_deadline_nobody_answers(client, login_as, peer_cycle):
    review, peers = peer_cycle.review, peer_cycle.peers
    asked(client, login_as, review, peers[:3])
    peer_cycle.cycle.peer_due = date.today() - timedelta(days=1)
    db.session.commit()
    response = answer(client, login_as, review, peers[0], expect=422)
    assert "Peer feedback closed on" in response.get_data(as_text=True)
    assert "Give feedback on" not in login_as(peers[0]).get("/dashboard").get_data(
        as_text=True)


def test_answers_are_audited_on_the_request_not_the_review(client, login_as, peer_cycle):
    """The review's audit trail (which its manager reads) never records an answer; HR's
    organisation log keeps it on the request."""
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    answer(client, login_as, review, peers[0])
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.actor_id == peers[0].id)).all()
    assert [(e.action, e.entity_type) for e in events] == [("peer.answer", "peer_request")]
    assert events[0].after is None  # no content in the log either
    history = login_as(org.lead).get(f"/reviews/{review.id}/history").get_data(as_text=True)
    assert "peer.answer" not in history


def _options(page: str, select_id: str) -> list[str]:
    block = page.split(f'id="{select_id}"')[1].split("</select>")[0]
    return [part.split(">", 1)[1].split("<", 1)[0] for part in block.split("<option")[1:]
            if 'value=""' not in part.split(">", 1)[0]]


def test_the_picker_lists_the_nearest_colleagues_and_finds_the_rest(client, login_as,
                                                                    peer_cycle):
    """An organisation of hundreds is not a drop-down of hundreds: the rep's team first, at
    most CANDIDATES_SHOWN, a search (name or email, in SQL) for anyone else."""
    from reviewapp.peers.services import CANDIDATES_SHOWN

    review, org = peer_cycle.review, peer_cycle.org
    crowd = [create_user(Role.REP, name=f"Zed Colleague {i:03d}", manager=org.other_manager,
                         team=org.other_team, commit=False) for i in range(CANDIDATES_SHOWN + 10)]
    create_user(Role.REP, name="Zoe Faraway", email="zoe.faraway@example.test",
                manager=org.other_manager, team=org.other_team, commit=False)
    db.session.commit()
    page = login_as(org.rep).get(f"/reviews/{review.id}").get_data(as_text=True)
    listed = _options(page, "peers-choice")
    assert len(listed) == CANDIDATES_SHOWN
    # Rita's own team first (Ravi and Bob Direct), not the rep or her reviewer.
    assert listed[:2] == ["Bob Direct (Alpha)", "Ravi Rep (Alpha)"]
    assert not any(name.startswith(("Rita Rep", "Leo Lead")) for name in listed)
    everyone = len(peer_cycle.peers) + len(crowd) + 7  # and Zoe, the org's others, HR, managers
    assert f"show {CANDIDATES_SHOWN} of {everyone} colleagues" in page

    assert "Zoe Faraway (Omega)" not in listed  # beyond the first 50 by name
    found = login_as(org.rep).get(f"/reviews/{review.id}?peer_q=farAway")
    text = found.get_data(as_text=True)
    assert _options(text, "peers-choice") == ["Zoe Faraway (Omega)"]
    assert "1 colleague match “farAway”" in text
    assert 'value="farAway"' in text
    by_email = login_as(org.rep).get(f"/reviews/{review.id}?peer_q=zoe.farAWAY%40").get_data(
        as_text=True)
    assert _options(by_email, "peers-choice") == ["Zoe Faraway (Omega)"]
    # The manager's "ask another" list searches the same way; a % is a literal, not a wildcard.
    manager_page = login_as(org.lead).get(f"/reviews/{review.id}?peer_q=%25").get_data(
        as_text=True)
    assert _options(manager_page, "peer-add") == []
    assert "0 colleagues match “%”" in manager_page

    # Choosing someone beyond the first page still works: the form checks the person, not
    # the list shown.
    nominate(client, login_as, review, crowd[-3:])
    assert [r.peer_id for r in requests_on(review)] == [p.id for p in crowd[-3:]]


def _mail_to(user):
    from reviewapp.notifications.models import OutboxMessage

    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.user_id == user.id).order_by(OutboxMessage.id)))


def test_a_peer_is_emailed_when_asked_with_a_link_to_the_form(client, login_as, peer_cycle):
    """Peers got an in-app notification only: their first email was the digest a week before
    the deadline, though the README promised the request by email."""
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    [mail] = _mail_to(peers[0])
    request = request_of(review, peers[0])
    assert mail.kind.value == "peer_feedback_requested"
    assert org.rep.name in mail.subject
    assert f"/peers/requests/{request.id}" in mail.link and f"/reviews/{review.id}" not in \
        mail.body_text
    assert "anonymous" in mail.body_text
    # Asked by the manager, the peer is told so (it said the rep "would value" it).
    login_as(org.lead)
    assert client.post(f"/peers/reviews/{review.id}/add",
                       data={"peer": str(peers[3].id)}).status_code == 302
    [added] = _mail_to(peers[3])
    assert org.lead.name in added.body_text
    assert any(org.lead.name in m for m in _notes(peers[3]))
    # The kind is on the peer's preferences page, to be turned to the digest or off.
    page = login_as(peers[0]).get("/account/notifications").get_data(as_text=True)
    assert "asked for feedback on a colleague" in page


def test_managers_above_the_rep_are_not_peers_and_removed_ones_stay_removed(
        client, login_as, peer_cycle):
    """The manager above reads the aggregate from calibration on: as a peer they could take
    their own answer out of it. A colleague the manager removed came back when the rep posted
    the nomination again."""
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    response = nominate(client, login_as, review, [org.boss, *peers[:2]], expect=422)
    assert "manager" in response.get_data(as_text=True) and requests_on(review) == []
    nominate(client, login_as, review, peers[:3])
    first = request_of(review, peers[0])
    login_as(org.lead)
    assert client.post(
        f"/peers/reviews/{review.id}/requests/{first.id}/remove").status_code == 302
    response = nominate(client, login_as, review, [peers[0]], expect=422)
    assert "removed" in response.get_data(as_text=True)
    assert request_of(review, peers[0]).state == S.REMOVED
    login_as(org.lead)  # the manager who removed them may still ask them
    assert client.post(f"/peers/reviews/{review.id}/add",
                       data={"peer": str(peers[0].id)}).status_code == 302
    assert request_of(review, peers[0]).state == S.REQUESTED


def test_no_peer_reminder_once_the_deadline_has_passed(client, login_as, peer_cycle, runner):
    """`flask reminders send --today` the day after the deadline sent every peer 'overdue since
    ...' for a form that answers 'closed': the peer query used the real date."""
    from datetime import timedelta

    from reviewapp.notifications.reminders import open_items

    review, peers = peer_cycle.review, peer_cycle.peers
    asked(client, login_as, review, peers[:3])
    due = review.cycle.peer_due
    before = [i for i in open_items(today=due - timedelta(days=1)) if i.user.id == peers[0].id]
    after = [i for i in open_items(today=due + timedelta(days=1)) if i.user.id == peers[0].id]
    assert len(before) == 1 and after == []
