"""The finalised record (PDF) shows the peers' aggregate per competency (counts, median,
examples), never a name; the rep and managers who download it find no peer named in it."""

import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.records.models import ReviewRecord
from reviewapp.reviews import decisions
from reviewapp.reviews.states import ReviewState
from tests.peers.crawl import crawl, pdf_text
from tests.peers.helpers import answer, asked, fresh_review, move
from tests.records.conftest import render_pending, unsigned  # noqa: F401  (fixture)


def test_the_record_carries_the_aggregate_and_no_name(app, client, login_as, peer_cycle,
                                                      unsigned):  # noqa: F811
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    for i, peer in enumerate(peers[:3]):
        answer(client, login_as, review, peer, ratings={"Learning": str(3 + i)},
               example=f"Record marker {i} for {{c}}.")
    review = move(review, ReviewState.ACKNOWLEDGED)
    decisions.finalize(org.hr, fresh_review(review.id))
    db.session.commit()
    [record] = render_pending()
    section = record.content["peers"]
    assert section["shown"] and section["answered"] == 3 and section["asked"] == 3
    learning = next(r for r in section["competencies"] if r["name"] == "Learning")
    assert learning["median"] == 4.0 and learning["distribution"]["5"] == 1
    assert learning["examples"] == [f"Record marker {i} for Learning." for i in range(3)]
    text = pdf_text(record.pdf)
    assert "Peer feedback" in text and "Record marker 0 for Learning." in text
    assert "median 4" in text

    for user in (org.rep, org.lead, org.boss):
        reader = app.test_client()
        with reader.session_transaction() as session:
            session["_user_id"], session["_fresh"] = user.get_id(), True
        pages = crawl(reader)
        pdfs = [body for url, body in pages.items() if url.endswith(".pdf")]
        assert any("Record marker 1 for Learning." in body for body in pdfs), user.name
        for body in pdfs:  # (the pages are the swap test's, in test_anonymity.py)
            assert not any(peer.name in body for peer in peers), user.name


def test_a_record_below_the_minimum_says_so(app, client, login_as, peer_cycle,
                                            unsigned):  # noqa: F811
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:3])
    for peer in peers[:2]:
        answer(client, login_as, review, peer, example="Hidden marker {c}.")
    review = move(review, ReviewState.ACKNOWLEDGED)
    decisions.finalize(org.hr, fresh_review(review.id))
    db.session.commit()
    [record] = render_pending()
    assert record.content["peers"]["shown"] is False
    assert record.content["peers"]["competencies"] == []
    text = pdf_text(record.pdf)
    assert "Not enough responses to keep them anonymous" in text and "Hidden marker" not in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReviewRecord)) == 1


def test_a_request_still_open_at_finalising_stays_closed_after_a_reopen(
        app, client, login_as, peer_cycle, unsigned):  # noqa: F811
    """Finalised with 3 of 4 answers, reopened, the fourth peer answered and the second record
    showed 4 of 4: the two records side by side told what that peer said."""
    review, peers, org = peer_cycle.review, peer_cycle.peers, peer_cycle.org
    asked(client, login_as, review, peers[:4])
    for i, peer in enumerate(peers[:3]):
        answer(client, login_as, review, peer, ratings={"Learning": str(2 + i)})
    review = move(review, ReviewState.ACKNOWLEDGED)
    decisions.finalize(org.hr, fresh_review(review.id))
    db.session.commit()
    [first] = render_pending()
    assert first.content["peers"]["shown"] and first.content["peers"]["answered"] == 3
    # The review's own page says what the record says: shown, not "once everyone answered".
    login_as(org.rep)
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "shown once everyone asked has answered" not in page

    decisions.reopen(org.hr, fresh_review(review.id), "Wrong KPI target.")
    db.session.commit()
    late = peers[3]
    answer(client, login_as, review, late, expect=422)
    login_as(late)
    listed = client.get("/peers/").get_data(as_text=True)
    assert "to answer" not in listed and "closed" in listed
    from reviewapp.auth.models import Role
    from tests.factories import create_user

    newcomer = create_user(Role.REP, name="Nia Newcomer")
    login_as(org.lead)  # nor may anyone new be asked
    assert client.post(f"/peers/reviews/{review.id}/add",
                       data={"peer": newcomer.id}).status_code == 422
