"""Review texts have a length limit (shared with the forms), and saving a long text does not
copy it whole into the audit trail."""

import pytest
import sqlalchemy as sa

from reviewapp import text_limits
from reviewapp.audit.models import AuditEvent
from tests.reviews.test_workflow import fresh, self_form


@pytest.mark.parametrize("field", ["achievements", "note"])
def test_a_text_over_the_limit_is_refused_on_its_field(client, launched, login_as, db, field):
    review = launched.review
    login_as(review.rep)
    too_long = "x" * (text_limits.REVIEW_TEXT + 1)
    data = self_form(review, note=too_long) if field == "note" else \
        self_form(review, achievements=too_long)
    response = client.post(f"/reviews/{review.id}/self", data=data)
    assert response.status_code in (200, 422)
    label = "Achievements this period" if field == "achievements" else "The note on "
    assert (f"{label}" in response.get_data(as_text=True)
            and f": use at most {text_limits.REVIEW_TEXT:,} characters "
                f"({text_limits.REVIEW_TEXT + 1:,} now)." in response.get_data(as_text=True))
    review = fresh(db, review.id)
    assert review.achievements == "" and all(not r.self_note for r in review.ratings)


def test_twenty_megabytes_never_reach_the_service(client, launched, login_as, db):
    review = launched.review
    login_as(review.rep)
    response = client.post(f"/reviews/{review.id}/self",
                           data=self_form(review, achievements="x" * 20_000_000))
    assert response.status_code in (200, 413, 422)
    assert fresh(db, review.id).achievements == ""


def test_saving_a_long_text_audits_the_change_not_the_text(client, launched, login_as, db):
    review = launched.review
    login_as(review.rep)
    text = "Opened the northern region with three new distributors. " * 150
    assert client.post(f"/reviews/{review.id}/self",
                       data=self_form(review, achievements=text)).status_code == 302
    review = fresh(db, review.id)
    edited = text.replace("three new", "four new", 1)
    assert client.post(f"/reviews/{review.id}/self",
                       data=self_form(review, achievements=edited)).status_code == 302
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "review.self_save").order_by(AuditEvent.id)).all()
    last = events[-1]
    assert len(str(last.after["achievements"])) < 600
    assert "four" in last.after["achievements"]
