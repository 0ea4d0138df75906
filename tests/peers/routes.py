"""Route × role expectations for peer feedback (see tests/test_route_matrix.py).

Rita's review (in the review area's matrix cycle, with peer feedback switched on) asks Olga
(the outsider, a rep of another branch) and Ravi; Bob's nomination waits for the manager.
"""

from datetime import date, timedelta

from reviewapp.extensions import db
from reviewapp.peers.models import PeerRequest, PeerRequestState
from tests.reviews.routes import _review
from tests.test_route_matrix import LOGIN, Case, everyone

S = PeerRequestState


def setup(org) -> None:
    review = _review(org)
    cycle = review.cycle
    cycle.peer_feedback, cycle.peer_due = True, date.today() + timedelta(days=8)
    org.olga_request = PeerRequest(review_id=review.id, peer_id=org.outsider.id,
                                   nominated_by_id=org.rep.id, state=S.REQUESTED)
    org.ravi_request = PeerRequest(review_id=review.id, peer_id=org.rep2.id,
                                   nominated_by_id=org.rep.id, state=S.REQUESTED)
    org.bob_nomination = PeerRequest(review_id=review.id, peer_id=org.boss_rep.id,
                                     nominated_by_id=org.rep.id, state=S.PROPOSED)
    db.session.add_all([org.olga_request, org.ravi_request, org.bob_nomination])
    db.session.commit()


ONLY_OLGA = {"anon": LOGIN, "outsider": 200, "*": 404}
# On Rita's review: those who cannot know it exists get 404; those who can, 403 unless they act.
ON_REVIEW = {"anon": LOGIN, "outsider": 404, "other": 404, "*": 403}

ROUTES = {
    "peers.index": [Case("GET", lambda o: "/peers/", everyone(200, anon=LOGIN))],
    "peers.request_page": [
        Case("GET", lambda o: f"/peers/requests/{o.olga_request.id}", ONLY_OLGA),
        Case("GET", lambda o: "/peers/requests/999999", everyone(404, anon=LOGIN)),
    ],
    # An empty answer is refused with its reason (422) for Olga; nobody else may know of it.
    "peers.answer": [Case("POST", lambda o: f"/peers/requests/{o.olga_request.id}/answer",
                          {**ONLY_OLGA, "outsider": 422})],
    "peers.decline": [Case("POST", lambda o: f"/peers/requests/{o.olga_request.id}/decline",
                           {**ONLY_OLGA, "outsider": 302},
                           data={"reason": "We have not worked together."})],
    # Nobody chosen: Rita is refused with a message (422); only she may nominate.
    "peers.nominate": [Case("POST", lambda o: f"/peers/reviews/{o.review.id}/nominate",
                            {**ON_REVIEW, "rep": 422})],
    "peers.approve": [Case("POST", lambda o: f"/peers/reviews/{o.review.id}/approve",
                           {**ON_REVIEW, "lead": 302})],
    "peers.remove": [Case(
        "POST", lambda o: f"/peers/reviews/{o.review.id}/requests/{o.bob_nomination.id}/remove",
        {**ON_REVIEW, "lead": 302})],
    "peers.add": [Case("POST", lambda o: f"/peers/reviews/{o.review.id}/add",
                       {**ON_REVIEW, "lead": 422})],
    "peers.authors": [Case("GET", lambda o: f"/peers/reviews/{o.review.id}/answers",
                           {**ON_REVIEW, "hr": 200})],
    "peers.settings": [
        Case("GET", lambda o: "/peers/settings", {"anon": LOGIN, "hr": 200, "*": 403}),
        Case("POST", lambda o: "/peers/settings", {"anon": LOGIN, "hr": 302, "*": 403},
             data={"metric": ""}),
    ],
}
