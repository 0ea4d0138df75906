"""Peer feedback on the to-do lists: the rep's nominations, the manager's approvals, each
peer's requests (whatever their role), and HR's page of who answered."""

from reviewapp.reviews.states import ReviewState
from tests.peers.helpers import answer, asked, move, nominate, request_of


def _tasks(login_as, user) -> str:
    page = login_as(user).get("/dashboard").get_data(as_text=True)
    return page.split('data-testid="review-tasks"')[1].split("</section>")[0]


def test_each_step_is_on_the_right_to_do_list(client, login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    assert "Nominate colleagues for peer feedback" in _tasks(login_as, org.rep)
    nominate(client, login_as, review, [*peers[:2], org.hr])  # HR can be a colleague too
    assert "Nominate colleagues" not in _tasks(login_as, org.rep)
    assert f"Approve the colleagues {org.rep.name} nominated" in _tasks(login_as, org.lead)
    assert "Give feedback" not in _tasks(login_as, peers[0])  # not asked yet
    login_as(org.lead).post(f"/peers/reviews/{review.id}/approve")
    assert "Approve the colleagues" not in _tasks(login_as, org.lead)
    for person in (peers[0], org.hr):
        assert f"Give feedback on {org.rep.name}&#39;s work" in _tasks(login_as, person)
    answer(client, login_as, review, peers[0])
    assert "Give feedback" not in _tasks(login_as, peers[0])
    listing = login_as(peers[0]).get("/peers/").get_data(as_text=True)
    assert org.rep.name in listing and "answered" in listing


def test_hr_sees_who_answered_what(client, login_as, peer_cycle):
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    answer(client, login_as, review, peers[0], example="Pia saw this on {c}.")
    move(review, ReviewState.MANAGER_REVIEW)
    page = login_as(org.hr).get(f"/peers/reviews/{review.id}/answers").get_data(as_text=True)
    block = page.split(f'data-testid="author-{peers[0].id}"')[1].split("</section>")[0]
    assert peers[0].name in block and "Pia saw this on Learning." in block
    review_page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Who answered (HR only" in review_page
    for user in (org.rep, org.lead, org.boss):
        assert login_as(user).get(f"/peers/reviews/{review.id}/answers").status_code == 403
        assert "Who answered" not in client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert request_of(review, peers[0]).state.value == "answered"


def test_peers_get_the_reminders_digest_once_and_only_about_their_request(client, login_as,
                                                                          peer_cycle, db):
    from datetime import timedelta

    import sqlalchemy as sa

    from reviewapp.notifications.models import OutboxMessage
    from reviewapp.notifications.reminders import send_digests

    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    answer(client, login_as, review, peers[1])
    day_before = peer_cycle.cycle.peer_due - timedelta(days=1)

    def mails(person):
        db.session.expire_all()
        return db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.user_id == person.id, OutboxMessage.kind == "digest")).all()

    send_digests(today=day_before)
    db.session.commit()
    [digest] = mails(peers[0])
    assert f"Give feedback on {org.rep.name}'s work" in digest.body_text
    assert f"/peers/requests/{request_of(review, peers[0]).id}" in digest.body_text
    assert not any(p.name in digest.body_text for p in peers if p is not peers[0])
    assert mails(peers[1]) == []  # answered: nothing to remind of
    send_digests(today=day_before)
    db.session.commit()
    assert len(mails(peers[0])) == 1  # each reminder once
