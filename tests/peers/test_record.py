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
