"""Long texts are audited as what changed, not copied whole into every audit event."""

from reviewapp.audit.models import AuditEvent
from reviewapp.audit.services import LONG_TEXT, record
from reviewapp.extensions import db


def test_a_long_text_is_stored_as_a_diff(app, org):
    old = ("The rep opened twelve new accounts this quarter. " * 200).strip()
    new = old.replace("twelve new accounts this quarter. The rep opened", "nine", 1)
    assert len(old) > LONG_TEXT
    event = record(org.lead, "review.manager_save", "review", 1,
                   before={"strengths": old, "rating": 3}, after={"strengths": new, "rating": 4})
    db.session.commit()
    stored = db.session.get(AuditEvent, event.id)
    assert stored.before["rating"] == 3 and stored.after["rating"] == 4
    assert len(str(stored.before["strengths"])) < 200
    assert len(str(stored.after["strengths"])) < 600
    assert f"{len(old)} characters" in stored.before["strengths"]
    assert "nine" in stored.after["strengths"] and "twelve" in stored.after["strengths"]


def test_short_texts_are_kept_whole(app, org):
    event = record(org.lead, "x", "review", 1, before={"note": "old"}, after={"note": "new"})
    assert event.before == {"note": "old"} and event.after == {"note": "new"}


def test_a_long_text_that_appears_is_summarised(app, org):
    text = "word " * 2000
    event = record(org.lead, "x", "review", 1, before={"note": ""}, after={"note": text})
    assert len(event.after["note"]) < 600 and "10000 characters" in event.after["note"]
