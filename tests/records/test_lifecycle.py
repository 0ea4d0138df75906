"""A record's life: added when its review is finalised, rendered once, stored for good, served
byte for byte, superseded by a reopen, followed by a new version; drafts before finalising."""

import hashlib
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from reviewapp.extensions import db
from reviewapp.records.models import RecordStatus, ReviewRecord
from reviewapp.reviews import decisions
from reviewapp.reviews.models import Review, ReviewState
from reviewapp.reviews.services import submit_manager
from tests.records import builders
from tests.records.conftest import pdf_text, render_pending


def _records(review_id=None):
    query = sa.select(ReviewRecord).order_by(ReviewRecord.id)
    if review_id is not None:
        query = query.where(ReviewRecord.review_id == review_id)
    return list(db.session.scalars(query))


def test_finalising_adds_one_pending_record_and_rendering_stores_it(app, signing):
    org = builders.launched_cycle(1)
    review = org.reviews[0]
    builders.write_review(org, review)
    db.session.commit()
    assert _records() == []
    builders.finalise(org, review)
    [record] = _records()
    assert record.status == RecordStatus.PENDING and record.version == 1
    assert record.document_id == f"RR-{review.id:06d}-1"
    db.session.commit()
    [record] = render_pending()
    assert record.status == RecordStatus.RENDERED and record.signed
    assert record.rendered_at is not None and record.attempts == 1


def test_a_refused_finalisation_adds_no_record(app, signing, login_as):
    org = builders.launched_cycle(1)
    review = org.reviews[0]
    builders.write_review(org, review)
    decisions.share(org.hr, review)
    db.session.commit()
    # Shared but not acknowledged, before the deadline: refused, nothing written.
    response = login_as(org.hr).post(f"/reviews/{review.id}/finalize", data={"confirm": "1"})
    assert response.status_code == 422
    assert _records() == []


def test_the_stored_bytes_are_served_as_they_are_every_time(app, signing, client, login_as):
    org = builders.finalised_cycle(1)
    [record] = render_pending()
    stored_sha = record.sha256
    login_as(org.reps[0])
    first = client.get(f"/records/{record.id}.pdf")
    second = client.get(f"/records/{record.id}.pdf")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data == record.pdf
    assert hashlib.sha256(first.data).hexdigest() == stored_sha
    assert first.headers["Content-Type"] == "application/pdf"
    assert first.headers["Content-Disposition"] == \
        'attachment; filename="2025-Q4_review_jane-doe.pdf"'
    assert first.headers["Cache-Control"] == "private, no-store"
    # Nothing re-rendered the record on the way.
    db.session.expire_all()
    again = db.session.get(ReviewRecord, record.id)
    assert again.sha256 == stored_sha and again.attempts == 1


def test_the_database_refuses_to_change_stored_bytes(app, signing):
    builders.finalised_cycle(1)
    [record] = render_pending()
    for column, value in (("pdf", b"%PDF-forged"), ("sha256", "0" * 64),
                          ("content_sha256", "0" * 64), ("document_id", "RR-999999-9")):
        with pytest.raises(DatabaseError, match="stored once and never changed"):
            with db.engine.begin() as conn:
                conn.execute(sa.update(ReviewRecord.__table__)
                             .where(ReviewRecord.__table__.c.id == record.id)
                             .values({column: value}))
    # Marking it superseded is a change of its standing, not of its bytes: allowed.
    with db.engine.begin() as conn:
        conn.execute(sa.update(ReviewRecord.__table__)
                     .where(ReviewRecord.__table__.c.id == record.id).values(superseded=True))


def test_reopening_supersedes_the_record_and_finalising_again_adds_version_2(
        app, signing, client, login_as):
    org = builders.finalised_cycle(1)
    [first] = render_pending()
    review = org.reviews[0]
    login_as(org.hr)
    assert client.post(f"/reviews/{review.id}/reopen",
                       data={"reason": "The wrong target was used."}).status_code == 302
    db.session.expire_all()
    first = db.session.get(ReviewRecord, first.id)
    assert first.superseded and first.superseded_at is not None
    assert first.status == RecordStatus.RENDERED  # kept as it was
    # The rep no longer gets the superseded record; HR still does.
    login_as(org.reps[0])
    assert client.get(f"/records/{first.id}.pdf").status_code == 403
    login_as(org.hr)
    assert client.get(f"/records/{first.id}.pdf").data == first.pdf
    # Manager review again, then on to finalised: a second version.
    review = db.session.get(Review, review.id)
    assert review.state == ReviewState.MANAGER_REVIEW
    submit_manager(org.manager, review)
    builders.finalise(org, review)
    db.session.commit()
    render_pending()
    records = _records(review.id)
    assert [(r.version, r.superseded) for r in records] == [(1, True), (2, False)]
    assert records[1].document_id.endswith("-2")
    login_as(org.reps[0])
    response = client.get(f"/records/{records[1].id}.pdf")
    assert response.status_code == 200
    assert 'filename="2025-Q4_review_jane-doe_v2.pdf"' in response.headers["Content-Disposition"]
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert records[1].sha256 in page and "Download the record" in page


def test_without_a_key_records_are_stored_unsigned_and_the_page_says_so(
        app, unsigned, client, login_as):
    org = builders.finalised_cycle(1)
    [record] = render_pending()
    assert record.status == RecordStatus.RENDERED and not record.signed
    assert record.signer is None and b"/ByteRange" not in record.pdf
    page = login_as(org.hr).get(f"/reviews/{org.reviews[0].id}").get_data(as_text=True)
    assert "Stored unsigned: no signing key was configured" in page
    assert "Not signed: no signing key was configured" in \
        " ".join(pdf_text_of(record.pdf, app).split())


def pdf_text_of(data: bytes, app) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.pdf"
        path.write_bytes(data)
        return pdf_text(path)


def test_a_failed_rendering_keeps_its_reason_and_can_be_retried(app, signing, client, login_as,
                                                                tmp_path):
    org = builders.finalised_cycle(1)
    good_key = app.config["SIGNING_KEY"]
    (tmp_path / "broken.pem").write_text("not a key")
    app.config["SIGNING_KEY"] = str(tmp_path / "broken.pem")
    [record] = render_pending()
    assert record.status == RecordStatus.FAILED
    assert "Cannot load the signing key" in record.error
    cycle_page = login_as(org.hr).get(f"/cycles/{org.cycle.id}").get_data(as_text=True)
    assert "0 of 1</strong> finalised reviews have their record" in cycle_page
    assert "Cannot load the signing key" in cycle_page and "Retry" in cycle_page
    # The rep cannot retry, nor read the internal reason (a key's path); HR can, once the key
    # is right again.
    rep_page = login_as(org.reps[0]).get(f"/reviews/{record.review_id}").get_data(as_text=True)
    assert 'data-testid="record-failed"' in rep_page
    assert "signing key" not in rep_page and "broken.pem" not in rep_page
    assert client.post(f"/records/{record.id}/retry").status_code == 403
    app.config["SIGNING_KEY"] = good_key
    login_as(org.hr)
    assert client.post(f"/records/{record.id}/retry").status_code == 302
    [record] = render_pending()
    assert record.status == RecordStatus.RENDERED and record.attempts == 2
    cycle_page = client.get(f"/cycles/{org.cycle.id}").get_data(as_text=True)
    assert "1 of 1</strong> finalised reviews have their record" in cycle_page
    # Retrying a rendered record is refused with the reason, and changes nothing.
    client.post(f"/records/{record.id}/retry")
    db.session.expire_all()
    assert db.session.get(ReviewRecord, record.id).status == RecordStatus.RENDERED


def test_a_draft_before_finalising_shows_only_what_its_reader_may_see(app, signing, client,
                                                                      login_as):
    org = builders.launched_cycle(1)
    review = org.reviews[0]
    builders.write_review(org, review)  # now in calibration: the rep sees their side only
    db.session.commit()
    login_as(org.reps[0])
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Download a draft (PDF)" in page
    response = client.get(f"/records/reviews/{review.id}/draft.pdf")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert 'filename="2025-Q4_review_jane-doe_DRAFT.pdf"' in \
        response.headers["Content-Disposition"]
    text = " ".join(pdf_text_of(response.data, app).split())
    assert "DRAFT" in text and "Draft performance review" in text
    assert "Closed the quarter above plan" in text  # their own self-assessment
    assert "Customers ask for them by name" not in text  # the manager's notes: not yet
    assert "Not shown in this draft" in text
    # The KPI numbers of their own page, with the evidence, and no score.
    assert "Your KPIs" in text and "Why it counts" in text
    assert "Score overridden" not in text and "computed" not in text
    assert b"/ByteRange" not in response.data  # never signed
    assert _records() == []  # never stored
    # The manager's draft has both sides.
    login_as(org.manager)
    text = " ".join(pdf_text_of(client.get(f"/records/reviews/{review.id}/draft.pdf").data,
                                app).split())
    assert "Customers ask for them by name" in text and "DRAFT" in text


def test_a_draft_is_rendered_again_only_when_what_it_shows_changes(app, signing, client,
                                                                   login_as, monkeypatch):
    from reviewapp.records import render

    renders = []
    real = render.render_pdf
    monkeypatch.setattr(render, "render_pdf",
                        lambda content, digest, **kw: renders.append(digest) or real(
                            content, digest, **kw))
    org = builders.launched_cycle(1)
    review = org.reviews[0]
    builders.write_review(org, review)
    db.session.commit()
    draft = f"/records/reviews/{review.id}/draft.pdf"
    first = login_as(org.manager).get(draft)
    again = client.get(draft)
    assert first.status_code == again.status_code == 200
    assert again.data == first.data and len(renders) == 1
    # The rep sees less of the review: her draft is her own, not the manager's.
    rep_draft = login_as(org.reps[0]).get(draft).data
    assert len(renders) == 2 and rep_draft != first.data
    assert "Customers ask for them by name" not in pdf_text_of(rep_draft, app)
    # A change to what the draft shows renders it anew.
    fresh = db.session.get(Review, review.id)
    fresh.reconciliation_note = "Discussed the gap between the two sides in the 1:1."
    db.session.commit()
    changed = login_as(org.manager).get(draft).data
    assert len(renders) == 3
    assert "Discussed the gap" in " ".join(pdf_text_of(changed, app).split())


def test_a_finalised_review_offers_the_record_not_a_draft(app, signing, client, login_as):
    org = builders.finalised_cycle(1)
    render_pending()
    login_as(org.reps[0])
    response = client.get(f"/records/reviews/{org.reviews[0].id}/draft.pdf")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "download its record instead" in page and "Download the record" in page


def test_a_record_rendered_after_new_data_shows_the_review_as_finalised(app, signing, client,
                                                                         login_as):
    """The record is rendered after finalising (a job, a retry): its chart and goals came from
    the data at that moment, so a later import drew 55 beside a frozen actual of 20."""
    from reviewapp.goals.services import GoalDraft, create_goal
    from reviewapp.metrics.models import Observation
    from reviewapp.records import content as record_content

    org = builders.launched_cycle(1)
    review = org.reviews[0]
    meetings = org.cycle.kpis[0].metric
    create_goal(org.manager, GoalDraft(scope="individual", title="Book the meetings",
                                       kind="metric", owner_id=review.rep_id,
                                       quarter=builders.PERIOD, metric_id=meetings.id,
                                       start_value=0, target_value=10_000))
    builders.write_review(org, review)
    builders.finalise(org, review)
    db.session.commit()
    as_finalised = record_content.build(review, document_id="x", version=1, organisation="o")
    db.session.execute(sa.update(Observation).where(
        Observation.rep_id == review.rep_id, Observation.period_start == org.cycle.period_start)
        .values(value=9999.0))
    db.session.commit()
    moved = record_content.build(review, document_id="x", version=1, organisation="o")
    assert moved["kpi_history"] != as_finalised["kpi_history"]  # the data did move
    [record] = render_pending()
    assert record.content["kpi_history"] == as_finalised["kpi_history"]
    assert record.content["goals"] == as_finalised["goals"]
    assert record.content["signature"] == {"signer": record.signer}
    # The finalised review's page keeps the goals as finalised too.
    [goal] = as_finalised["goals"]
    assert goal["progress"] != moved["goals"][0]["progress"]
    login_as(org.hr)
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert goal["progress"] in page and moved["goals"][0]["progress"] not in page


def test_a_record_whose_job_was_lost_can_be_rendered_from_the_cycle_page(app, signing, client,
                                                                        login_as):
    """Redis down at finalising, or a worker that died: the record stays pending with no job.
    The cycle page says so and offers to render it, which it does."""
    app.config["RECORDS_JOBS"] = "manual"  # the job is never run, as if it were lost
    org = builders.finalised_cycle(1)
    page = login_as(org.hr).get(f"/cycles/{org.cycle.id}").get_data(as_text=True)
    assert 'data-testid="records-waiting"' in page
    assert "Render the waiting, missing and failed records" in page
    app.config["RECORDS_JOBS"] = "inline"
    assert client.post(f"/records/cycles/{org.cycle.id}/render").status_code == 302
    db.session.expire_all()
    [record] = _records()
    assert record.status == RecordStatus.RENDERED


def test_the_record_prints_scores_as_the_review_page_does(app):
    # The page prints 3.125 as 3.13 (halves up); the record printed 3.12 (Python's "{:.2f}"
    # rounds half to even), and 1.325 (binary 1.32499...) as 1.32 on both.
    from reviewapp.records import content as record_content
    from reviewapp.records.render import record_html
    from reviewapp.records.services import draft_visibility, organisation
    from reviewapp.reviews.scoring import format_score

    org = builders.launched_cycle(1)
    review = org.reviews[0]
    builders.write_review(org, review)
    content = record_content.build(review, document_id="DRAFT-1", version=0,
                                   organisation=organisation(),
                                   seen=draft_visibility(org.hr, review), draft=True)
    content["scores"].update(overall=3.125, quant=0.5 * 1.25 + 0.5 * 1.40, qual=3.0,
                             divergence=None, divergent=False)
    with app.test_request_context():
        html = record_html(content, "0" * 64)
    assert format_score(3.125) == "3.13" and format_score(0.5 * 1.25 + 0.5 * 1.40) == "1.33"
    assert '<span class="value">3.13</span>' in html
    assert '<span class="value">1.33</span>' in html


def test_a_reassigned_review_says_so_in_its_record(app, signing):
    """Marcus wrote every rating, HR reassigned the review to Sofia, and the signed record
    said 'Manager: Sofia' with no trace of Marcus or of why it moved."""
    from reviewapp.auth.models import Role
    from tests.factories import create_user

    org = builders.launched_cycle(1)
    review = org.reviews[0]
    builders.write_review(org, review)
    sofia = create_user(Role.MANAGER, name="Sofia Marin", manager=org.boss)
    decisions.reassign(org.hr, review, sofia, "Marcus left the company.")
    builders.finalise(org, review)
    db.session.commit()
    [record] = render_pending()
    assert record.content["manager"] == "Sofia Marin"
    assert record.content["earlier_managers"] == ["Marcus Cole"]
    [moved] = [e for e in record.content["history"] if e["kind"] == "reassign"]
    assert moved["reason"] == "Marcus left the company." and moved["by"] == org.hr.name
    text = " ".join(pdf_text_of(record.pdf, app).split())
    assert "Sofia Marin (reassigned from Marcus Cole" in text
    assert "Reviewer: Marcus Cole" in text and "Marcus left the company." in text

