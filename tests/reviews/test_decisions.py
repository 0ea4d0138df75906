"""After the manager's review: calibration, sharing, acknowledgement, finalising, the lock,
reopening, reassigning and the audit trail, through the pages and the services."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from reviewapp.audit.models import AuditEvent
from reviewapp.auth.models import Role, User
from reviewapp.errors import ActionUnavailable, NotAllowed
from reviewapp.metrics.models import Observation
from reviewapp.notifications.models import Notification
from reviewapp.numbers import figure
from reviewapp.reviews import decisions
from reviewapp.reviews.models import Acknowledgement, CompetencyRating, KpiScore, Review
from reviewapp.reviews.models import ReviewState as S
from tests.factories import create_user
from tests.reviews.test_workflow import fresh, manager_form, submit_self

CONFIRMED = {"confirm": "1"}  # one-way actions ask first (tests/reviews/test_confirmations.py)


@pytest.fixture
def in_calibration(client, launched, login_as, db):
    """Rita's review through the real pages: self-assessment, the manager's review, submitted."""
    review = launched.review
    submit_self(client, login_as, review)
    login_as(review.manager)
    response = client.post(f"/reviews/{review.id}/manager",
                           data=manager_form(fresh(db, review.id), rating="3", action="submit",
                                             reconciliation_note="Explained."))
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    review = fresh(db, review.id)
    assert review.state == S.CALIBRATION
    return review


@pytest.fixture
def shared(client, in_calibration, login_as, db):
    login_as(_hr(db))
    assert client.post(f"/reviews/{in_calibration.id}/share", data=CONFIRMED).status_code == 302
    return fresh(db, in_calibration.id)


@pytest.fixture
def acknowledged(client, shared, login_as, db):
    login_as(shared.rep)
    response = client.post(f"/reviews/{shared.id}/acknowledge", data={
        "typed_name": shared.rep.name, "read_confirmed": "1",
        "comment": "I see the forecasting point; the KPI target felt high."})
    assert response.status_code == 302
    return fresh(db, shared.id)


@pytest.fixture
def finalized(client, acknowledged, login_as, db):
    login_as(_hr(db))
    assert client.post(f"/reviews/{acknowledged.id}/finalize", data=CONFIRMED).status_code == 302
    review = fresh(db, acknowledged.id)
    assert review.state == S.FINALIZED
    return review


def _hr(db) -> User:
    return db.session.scalar(sa.select(User).where(User.role == Role.HR_ADMIN))


def _events(db, review, action):
    return db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.entity_type == "review", AuditEvent.entity_id == review.id,
        AuditEvent.action == action).order_by(AuditEvent.id)).all()


# Calibration ---------------------------------------------------------------------------------


def test_hr_adjusts_a_rating_with_a_reason_beside_the_original(
        client, in_calibration, login_as, db):
    review = in_calibration
    cid = review.ratings[0].cycle_competency_id
    qual_before = review.qual_score
    login_as(_hr(db))
    refused = client.post(f"/reviews/{review.id}/calibrate/{cid}",
                          data={f"calibrated_{cid}": "5", f"reason_{cid}": "  "})
    assert refused.status_code == 422
    assert "Write the reason" in refused.get_data(as_text=True)
    assert fresh(db, review.id).ratings[0].calibrated_rating is None
    response = client.post(f"/reviews/{review.id}/calibrate/{cid}", data={
        f"calibrated_{cid}": "5", f"reason_{cid}": "Three other managers saw the same."})
    assert response.status_code == 302
    review = fresh(db, review.id)
    rating = review.ratings[0]
    assert (rating.manager_rating, rating.calibrated_rating) == (3, 5)
    assert rating.calibration_reason == "Three other managers saw the same."
    assert review.qual_score > qual_before
    (event,) = _events(db, review, "review.calibrate")
    assert event.before["calibrated"] is None and event.after["calibrated"] == 5
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Changed in calibration" in page and f'data-testid="calibrated-{cid}"' in page


def test_the_manager_is_locked_out_and_told_during_calibration(
        client, in_calibration, login_as, db):
    review = in_calibration
    login_as(review.manager)
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert 'data-testid="calibrating"' in page
    response = client.post(f"/reviews/{review.id}/manager",
                           data=manager_form(review, note="A late change."))
    assert response.status_code == 422
    cid = review.ratings[0].cycle_competency_id
    assert client.post(f"/reviews/{review.id}/calibrate/{cid}", data={
        f"calibrated_{cid}": "5", f"reason_{cid}": "Mine."}).status_code == 403
    assert all(r.manager_note != "A late change." for r in fresh(db, review.id).ratings)


def test_hr_returns_a_review_to_its_manager_with_a_reason(client, in_calibration, login_as, db):
    review = in_calibration
    login_as(_hr(db))
    assert client.post(f"/reviews/{review.id}/return", data={"reason": ""}).status_code == 422
    assert client.post(f"/reviews/{review.id}/return",
                       data={"reason": "Notes need evidence."}).status_code == 302
    assert fresh(db, review.id).state == S.MANAGER_REVIEW
    notes = db.session.scalars(sa.select(Notification.message).where(
        Notification.user_id == review.manager_id)).all()
    assert any("returned" in n and "Notes need evidence." in n for n in notes), notes


@pytest.mark.parametrize("how", ["return", "reopen"])
def test_back_with_the_manager_the_managers_ratings_count_again(
        client, in_calibration, login_as, db, how):
    """A calibrated rating left in place outweighed what the manager rated in the rework,
    unseen on their form. Returning or reopening clears it (the audit trail keeps it) and the
    page says why the review came back."""
    review = in_calibration
    cid = review.ratings[0].cycle_competency_id
    login_as(_hr(db))
    assert client.post(f"/reviews/{review.id}/calibrate/{cid}", data={
        f"calibrated_{cid}": "1", f"reason_{cid}": "Below the others."}).status_code == 302
    if how == "reopen":
        shared_ok = client.post(f"/reviews/{review.id}/share", data=CONFIRMED)
        assert shared_ok.status_code == 302
        login_as(review.rep)
        assert client.post(f"/reviews/{review.id}/acknowledge", data={
            "typed_name": review.rep.name, "read_confirmed": "1"}).status_code == 302
        login_as(_hr(db))
        assert client.post(f"/reviews/{review.id}/finalize", data=CONFIRMED).status_code == 302
        assert client.post(f"/reviews/{review.id}/reopen",
                           data={"reason": "The notes need evidence."}).status_code == 302
    else:
        assert client.post(f"/reviews/{review.id}/return",
                           data={"reason": "The notes need evidence."}).status_code == 302
    review = fresh(db, review.id)
    assert review.state == S.MANAGER_REVIEW
    assert all(r.calibrated_rating is None and r.rating == r.manager_rating
               for r in review.ratings)
    (cleared,) = _events(db, review, "review.calibration_cleared")
    assert cleared.before[review.ratings[0].cycle_competency.name]["calibrated"] == 1
    login_as(review.manager)
    client.post(f"/reviews/{review.id}/manager",
                data=manager_form(review, rating="5", reconciliation_note="Reworked."))
    review = fresh(db, review.id)
    assert review.qual_score == pytest.approx(5.0)
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert 'data-testid="sent-back"' in page and "The notes need evidence." in page


def test_calibration_that_opens_a_gap_needs_a_note_before_sharing(
        client, launched, login_as, db):
    """The divergence rule holds at sharing too: a calibration that moves the two sides 1.5 or
    more apart holds the review back (alone or in 'share all') until its manager explains."""
    review = launched.review
    submit_self(client, login_as, review)
    login_as(review.manager)
    client.post(f"/reviews/{review.id}/manager", data=manager_form(fresh(db, review.id)))
    quant = fresh(db, review.id).quant_score
    login_as(review.manager)
    response = client.post(f"/reviews/{review.id}/manager", data=manager_form(
        fresh(db, review.id), rating=str(round(quant)), action="submit"))
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    review = fresh(db, review.id)
    assert review.state == S.CALIBRATION and not review.reconciliation_note
    far = "1" if quant >= 3 else "5"
    login_as(_hr(db))
    for rating in review.ratings:
        cid = rating.cycle_competency_id
        assert client.post(f"/reviews/{review.id}/calibrate/{cid}", data={
            f"calibrated_{cid}": far, f"reason_{cid}": "Against the others."}).status_code == 302
    refused = client.post(f"/reviews/{review.id}/share", data=CONFIRMED)
    assert refused.status_code == 422
    assert "no reconciliation note explains why" in refused.get_data(as_text=True)
    page = client.post(f"/cycles/{review.cycle_id}/share-all", data=CONFIRMED,
                       follow_redirects=True).get_data(as_text=True)
    assert "0 reviews were shared" in page and "Not shared, for a reconciliation note" in page
    assert review.rep.name in page
    assert fresh(db, review.id).state == S.CALIBRATION
    # Returned, explained, submitted: calibrated afresh, it shares.
    client.post(f"/reviews/{review.id}/return", data={"reason": "Explain the gap."})
    login_as(review.manager)
    response = client.post(f"/reviews/{review.id}/manager", data=manager_form(
        fresh(db, review.id), rating=far, action="submit", reconciliation_note="Explained."))
    assert response.status_code == 302
    login_as(_hr(db))
    assert client.post(f"/reviews/{review.id}/share", data=CONFIRMED).status_code == 302
    assert fresh(db, review.id).state == S.SHARED


def test_potential_is_set_by_the_reviewer_and_kept_out_of_scores(
        client, in_calibration, login_as, db):
    review = in_calibration
    overall = review.overall_score
    login_as(review.manager)
    assert client.post(f"/reviews/{review.id}/potential",
                       data={"potential": "3"}).status_code == 302
    assert client.post(f"/reviews/{review.id}/potential",
                       data={"potential": "7"}).status_code == 422
    review = fresh(db, review.id)
    assert review.potential == 3 and review.overall_score == overall


# Sharing and acknowledgement -----------------------------------------------------------------


def test_before_sharing_the_rep_sees_no_ratings_after_it_everything(
        client, in_calibration, login_as, db):
    review = in_calibration
    login_as(review.rep)
    before = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Seen in three customer escalations." not in before
    assert client.post(f"/reviews/{review.id}/share", data=CONFIRMED).status_code == 403
    login_as(review.manager)
    # HR shares here
    assert client.post(f"/reviews/{review.id}/share", data=CONFIRMED).status_code == 422
    login_as(_hr(db))
    assert client.post(f"/reviews/{review.id}/share", data=CONFIRMED).status_code == 302
    login_as(review.rep)
    after = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Seen in three customer escalations." in after
    assert 'data-testid="acknowledge-form"' in after and 'data-testid="kpi-table"' in after
    assert db.session.scalar(sa.select(Notification).where(
        Notification.user_id == review.rep_id)) is not None


def test_a_manager_shares_when_the_cycle_allows_it(client, in_calibration, login_as, db):
    review = in_calibration
    review.cycle.managers_share = True
    db.session.commit()
    login_as(review.manager)
    assert client.post(f"/reviews/{review.id}/share", data=CONFIRMED).status_code == 302
    assert fresh(db, review.id).state == S.SHARED


def test_acknowledging_needs_the_full_name_and_the_tick(client, shared, login_as, db):
    review = shared
    login_as(review.rep)
    wrong = client.post(f"/reviews/{review.id}/acknowledge",
                        data={"typed_name": "R.", "read_confirmed": "1"})
    assert wrong.status_code == 422 and "Type your full name" in wrong.get_data(as_text=True)
    untick = client.post(f"/reviews/{review.id}/acknowledge",
                         data={"typed_name": review.rep.name.upper()})
    assert untick.status_code == 422 and "does not mean I agree" in untick.get_data(as_text=True)
    assert fresh(db, review.id).state == S.SHARED
    ok = client.post(f"/reviews/{review.id}/acknowledge", data={
        "typed_name": f"  {review.rep.name.lower()} ", "read_confirmed": "1",
        "comment": "Read, <b>not</b> agreed."})
    assert ok.status_code == 302
    review = fresh(db, review.id)
    assert review.state == S.ACKNOWLEDGED
    ack = review.acknowledgement
    assert ack.typed_name == review.rep.name.lower() and ack.comment == "Read, <b>not</b> agreed."
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Read, &lt;b&gt;not&lt;/b&gt; agreed." in page
    again = client.post(f"/reviews/{review.id}/acknowledge",
                        data={"typed_name": review.rep.name, "read_confirmed": "1"})
    assert again.status_code == 422  # cannot be redone, edited or withdrawn
    assert len(fresh(db, review.id).acknowledgements) == 1


def test_the_rep_answers_texts_have_a_limit_and_change_nothing_when_over(
        client, shared, login_as, db):
    review = shared
    login_as(review.rep)
    over = client.post(f"/reviews/{review.id}/acknowledge", data={
        "typed_name": review.rep.name, "read_confirmed": "1", "comment": "x" * 10_001})
    assert over.status_code == 422
    assert "Your comment: use at most 10,000 characters (10,001 now)." in over.get_data(
        as_text=True)
    over = client.post(f"/reviews/{review.id}/conversation", data={"note": "y" * 4_001})
    assert over.status_code == 422
    assert "Your note: use at most 4,000 characters" in over.get_data(as_text=True)
    review = fresh(db, review.id)
    assert review.state == S.SHARED and review.conversation_requested_at is None
    assert not review.acknowledgements


def test_hr_reasons_have_a_limit(client, in_calibration, login_as, db):
    review = in_calibration
    login_as(_hr(db))
    over = client.post(f"/reviews/{review.id}/return", data={"reason": "r" * 4_001})
    assert over.status_code == 422
    assert "The reason: use at most 4,000 characters" in over.get_data(as_text=True)
    rating = review.ratings[0]
    over = client.post(f"/reviews/{review.id}/calibrate/{rating.cycle_competency_id}", data={
        f"calibrated_{rating.cycle_competency_id}": "1",
        f"reason_{rating.cycle_competency_id}": "r" * 4_001})
    assert over.status_code == 422
    review = fresh(db, review.id)
    assert review.state == S.CALIBRATION and review.ratings[0].calibrated_rating is None


def test_a_typed_name_matches_whatever_apostrophe_the_keyboard_makes(
        client, shared, login_as, db):
    """Phones type ’ for ': "Liam O’Neil" is the name "Liam O'Neil"."""
    review = shared
    review.rep.name = "Liam O'Neil-Brown"
    db.session.commit()
    login_as(review.rep)
    ok = client.post(f"/reviews/{review.id}/acknowledge", data={
        "typed_name": "liam o’neil‐brown", "read_confirmed": "1"})
    assert ok.status_code == 302, ok.get_data(as_text=True)[:300]
    assert fresh(db, review.id).state == S.ACKNOWLEDGED


def test_only_the_rep_acknowledges(client, shared, login_as, db):
    for who in (shared.manager, _hr(db)):
        login_as(who)
        assert client.post(f"/reviews/{shared.id}/acknowledge", data={
            "typed_name": shared.rep.name, "read_confirmed": "1"}).status_code == 403


def test_asking_for_a_conversation_keeps_the_review_shared(client, shared, login_as, db):
    review = shared
    login_as(review.rep)
    assert client.post(f"/reviews/{review.id}/conversation",
                       data={"note": "The target."}).status_code == 302
    review = fresh(db, review.id)
    assert review.state == S.SHARED and review.conversation_requested_at is not None
    login_as(review.manager)
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert 'data-testid="conversation"' in page and "The target." in page
    # What the manager does about it, on the page their to-do links to.
    assert f"Meet {review.rep.name} to talk it through" in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert f"Talk with {review.rep.name} about their review (asked on " in dashboard
    login_as(review.rep)
    assert "to talk it through" not in client.get(f"/reviews/{review.id}").get_data(as_text=True)


# Finalising and the lock ---------------------------------------------------------------------


def test_without_acknowledgement_hr_finalises_only_after_the_deadline(
        client, shared, login_as, db):
    review = shared
    login_as(_hr(db))
    early = client.post(f"/reviews/{review.id}/finalize", data=CONFIRMED)
    assert early.status_code == 422 and "not acknowledged" in early.get_data(as_text=True)
    review.cycle.acknowledgement_due = date.today() - timedelta(days=1)
    db.session.commit()
    assert client.post(f"/reviews/{review.id}/finalize", data=CONFIRMED).status_code == 302
    review = fresh(db, review.id)
    assert review.state == S.FINALIZED and review.acknowledgement is None
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert 'data-testid="not-acknowledged"' in page


def test_only_hr_finalises(client, acknowledged, login_as, db):
    for who in (acknowledged.manager, acknowledged.rep):
        login_as(who)
        response = client.post(f"/reviews/{acknowledged.id}/finalize", data=CONFIRMED)
        assert response.status_code == 403
    assert fresh(db, acknowledged.id).state == S.ACKNOWLEDGED


def test_a_finalised_review_refuses_every_edit_path(client, finalized, login_as, db):
    review = finalized
    snapshot = (review.version, review.overall_score,
                [(r.manager_rating, r.manager_note) for r in review.ratings],
                [(k.actual, k.override_score) for k in review.kpi_scores])
    cid = review.ratings[0].cycle_competency_id
    attempts = [
        (review.rep, f"/reviews/{review.id}/self", {"action": "save", "achievements": "x",
                                                    "version": str(review.version)}),
        (review.manager, f"/reviews/{review.id}/manager", manager_form(review, note="late")),
        (review.manager, f"/reviews/{review.id}/kpis/{review.kpi_scores[0].id}/override",
         {"override_score": "5", "justification": "late", "version": str(review.version)}),
        (review.manager, f"/reviews/{review.id}/potential", {"potential": "1"}),
        (_hr(db), f"/reviews/{review.id}/calibrate/{cid}",
         {f"calibrated_{cid}": "1", f"reason_{cid}": "late"}),
        (_hr(db), f"/reviews/{review.id}/return", {"reason": "late"}),
        (review.rep, f"/reviews/{review.id}/acknowledge",
         {"typed_name": review.rep.name, "read_confirmed": "1"}),
        (review.rep, f"/reviews/{review.id}/conversation", {"note": "late"}),
        (_hr(db), f"/reviews/{review.id}/reassign", {"manager": str(review.manager_id)}),
        (_hr(db), f"/reviews/{review.id}/finalize", {}),
    ]
    for who, url, data in attempts:
        login_as(who)
        response = client.post(url, data=data)
        assert response.status_code in (403, 422), (url, response.status_code)
    with pytest.raises((NotAllowed, ActionUnavailable)):
        decisions.adjust_rating(_hr(db), review, cid, 1, "late")
    db.session.rollback()
    # New data for the rep arrives through the import: the finalised record does not move.
    db.session.execute(sa.update(Observation).where(Observation.rep_id == review.rep_id)
                       .values(value=Observation.value * 10))
    db.session.commit()
    login_as(_hr(db))
    client.get(f"/reviews/{review.id}")
    after = fresh(db, review.id)
    assert snapshot == (after.version, after.overall_score,
                        [(r.manager_rating, r.manager_note) for r in after.ratings],
                        [(k.actual, k.override_score) for k in after.kpi_scores])


@pytest.mark.parametrize("table,change", [
    (Review, {"strengths": "edited behind the app"}),
    (CompetencyRating, {"manager_rating": 1}),
    (KpiScore, {"override_score": 5, "override_justification": "sql"}),
    (Acknowledgement, {"comment": "edited"}),
])
def test_the_database_refuses_a_direct_update_of_a_finalised_review(
        finalized, db, table, change):
    column = table.id if table is Review else table.review_id
    with pytest.raises(DBAPIError) as refused, db.engine.begin() as conn:
        conn.execute(sa.update(table).where(column == finalized.id).values(**change))
    assert "finalized" in str(refused.value).lower()


def test_the_database_refuses_deleting_or_adding_rows_of_a_finalised_review(finalized, db):
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(sa.delete(CompetencyRating).where(
            CompetencyRating.review_id == finalized.id))
    with pytest.raises(DBAPIError), db.engine.begin() as conn:
        conn.execute(sa.insert(Acknowledgement).values(
            review_id=finalized.id, user_id=finalized.rep_id, typed_name="x", comment="",
            superseded=False, acknowledged_at=finalized.finalized_at))


def test_hr_reopens_with_a_reason_and_the_old_acknowledgement_is_kept(
        client, finalized, login_as, db):
    review = finalized
    login_as(review.manager)
    assert client.post(f"/reviews/{review.id}/reopen",
                       data={"reason": "Mine."}).status_code == 403
    login_as(_hr(db))
    assert client.post(f"/reviews/{review.id}/reopen", data={"reason": ""}).status_code == 422
    assert client.post(f"/reviews/{review.id}/reopen",
                       data={"reason": "The wrong target was used."}).status_code == 302
    review = fresh(db, review.id)
    assert review.state == S.MANAGER_REVIEW and review.acknowledgement is None
    assert [a.superseded for a in review.acknowledgements] == [True]
    event = _events(db, review, "review.state")[-1]
    assert event.before == {"state": "finalized"} and event.after == {"state": "manager_review"}
    assert event.reason == "The wrong target was used."
    login_as(review.manager)
    assert client.post(f"/reviews/{review.id}/manager",
                       data=manager_form(review, note="Corrected.")).status_code == 302


# Reassigning and the audit trail -------------------------------------------------------------


def test_a_reporting_line_change_keeps_the_reviewer_until_hr_reassigns(
        client, launched, login_as, db):
    review, org = launched.review, launched.org
    new_manager = create_user(Role.MANAGER, name="Nadia New")
    review.rep.manager_id = new_manager.id
    db.session.commit()
    submit_self(client, login_as, review)
    login_as(org.lead)  # the reviewer at launch still writes the review
    assert client.get(f"/reviews/{review.id}").status_code == 200
    assert client.post(f"/reviews/{review.id}/manager",
                       data=manager_form(fresh(db, review.id))).status_code == 302
    login_as(new_manager)
    assert client.post(f"/reviews/{review.id}/manager",
                       data=manager_form(fresh(db, review.id))).status_code == 403
    login_as(org.hr)
    assert client.post(f"/reviews/{review.id}/reassign", data={
        "manager": str(new_manager.id), "reason": ""}).status_code == 422
    assert client.post(f"/reviews/{review.id}/reassign", data={
        "manager": str(new_manager.id), "reason": "Rita moved teams."}).status_code == 302
    assert fresh(db, review.id).manager_id == new_manager.id
    login_as(new_manager)
    assert client.post(f"/reviews/{review.id}/manager",
                       data=manager_form(fresh(db, review.id))).status_code == 302
    (event,) = _events(db, review, "review.reassign")
    assert event.after == {"manager": "Nadia New"} and event.reason == "Rita moved teams."


def test_the_audit_trail_lists_every_event_in_order_for_hr_and_the_reviewer(
        client, finalized, login_as, db):
    review = finalized
    for who in (_hr(db), review.manager):
        login_as(who)
        page = client.get(f"/reviews/{review.id}/history").get_data(as_text=True)
        order = [page.index(f"<td>{word}</td>")
                 for word in ("self save", "state", "acknowledge")]
        assert order == sorted(order)
        assert "finalized" in page
    login_as(review.rep)
    assert client.get(f"/reviews/{review.id}/history").status_code == 403


def test_closing_a_cycle_waits_for_every_review(client, finalized, login_as, db):
    login_as(_hr(db))
    page = client.post(f"/cycles/{finalized.cycle_id}/close", data=CONFIRMED,
                       follow_redirects=True)
    assert "not finalised yet" in page.get_data(as_text=True)
    assert fresh(db, finalized.id).cycle.status.value == "launched"


def test_a_review_of_a_closed_cycle_cannot_be_reopened(client, finalized, login_as, db):
    from reviewapp.cycles.models import CycleStatus

    finalized.cycle.status = CycleStatus.CLOSED  # as closing leaves it, every review final
    db.session.commit()
    login_as(_hr(db))
    refused = client.post(f"/reviews/{finalized.id}/reopen", data={"reason": "One more fix."})
    assert refused.status_code == 422
    assert "is closed: a closed cycle takes no more changes" in refused.get_data(as_text=True)
    assert fresh(db, finalized.id).state == S.FINALIZED
    page = client.get(f"/reviews/{finalized.id}").get_data(as_text=True)
    assert f'action="/reviews/{finalized.id}/reopen"' not in page


def test_hr_finalises_all_acknowledged_reviews_of_a_cycle(client, acknowledged, login_as, db):
    login_as(_hr(db))
    # Without script the button's POST asks first, on a page, and changes nothing.
    asked = client.post(f"/cycles/{acknowledged.cycle_id}/finalize-all")
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert 'data-testid="confirmation"' in page and "Finalise the acknowledged reviews?" in page
    assert 'name="confirm" value="1"' in page
    assert fresh(db, acknowledged.id).state == S.ACKNOWLEDGED
    page = client.post(f"/cycles/{acknowledged.cycle_id}/finalize-all", data=CONFIRMED,
                       follow_redirects=True)
    assert "1 acknowledged review was finalised; it is read-only now." in page.get_data(
        as_text=True)
    assert fresh(db, acknowledged.id).state == S.FINALIZED


def test_the_rep_writes_the_self_assessment_with_their_kpi_numbers_in_view(
        client, launched, login_as, db):
    review = launched.review
    login_as(review.rep)
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    table = page[page.index('data-testid="rep-kpi-table"'):]
    table = table[:table.index("</table>")]
    assert review.kpi_scores
    for line in review.kpi_scores:
        assert line.cycle_kpi.name in table
        assert f">{figure(line.target)}<" in table
    assert "Score" not in table  # the scores come with the manager's review
    assert 'data-testid="kpi-table"' not in page and 'data-testid="scores"' not in page


def test_a_rating_that_is_not_a_whole_number_is_refused_not_cleared(
        client, launched, login_as, db):
    """'abc' or '3.5' in a rating field read as empty: the rating was cleared and the page said
    'Saved.'"""
    review = launched.review
    submit_self(client, login_as, review)
    login_as(review.manager)
    client.post(f"/reviews/{review.id}/manager", data=manager_form(fresh(db, review.id)))
    review = fresh(db, review.id)
    cid = review.ratings[0].cycle_competency_id
    for odd in ("abc", "3.5"):
        response = client.post(f"/reviews/{review.id}/manager", data=manager_form(
            fresh(db, review.id), **{f"manager_rating_{cid}": odd}))
        assert response.status_code == 422, odd
        assert "Ratings run from 1 to 5" in response.get_data(as_text=True)
    assert fresh(db, review.id).ratings[0].manager_rating == 4


def test_read_only_texts_keep_their_line_breaks(client, acknowledged, login_as, db):
    review = acknowledged
    review.strengths = "First point.\nSecond point."
    db.session.commit()
    page = login_as(review.rep).get(f"/reviews/{review.id}").get_data(as_text=True)
    assert '<dd class="pre-line">First point.\nSecond point.</dd>' in page
    assert '<blockquote class="pre-line" data-testid="ack-comment">' in page


def test_the_audit_trail_does_not_show_a_draft_before_its_side_may_be_seen(client, launched,
                                                                          login_as, db):
    """The review page hid the rep's draft from the manager, and the manager's draft from HR,
    but the audit trail printed every draft save in full."""
    from tests.reviews.test_workflow import self_form

    review = launched.review
    login_as(review.rep)
    client.post(f"/reviews/{review.id}/self", data=self_form(
        review, achievements="Secret first draft of my quarter."))
    login_as(review.manager)
    page = client.get(f"/reviews/{review.id}/history").get_data(as_text=True)
    assert "self save" in page  # that it happened, and when
    assert "Secret first draft" not in page
    submit_self(client, login_as, fresh(db, review.id))
    login_as(review.manager)
    assert "Closed the Hansen deal." in client.get(
        f"/reviews/{review.id}/history").get_data(as_text=True)  # submitted: the manager's to read
    client.post(f"/reviews/{review.id}/manager", data=manager_form(
        fresh(db, review.id), overall_comment="My private draft verdict."))
    login_as(_hr(db))
    page = client.get(f"/reviews/{review.id}/history").get_data(as_text=True)
    assert "manager save" in page and "My private draft verdict." not in page
    login_as(review.manager)
    assert "My private draft verdict." in client.get(
        f"/reviews/{review.id}/history").get_data(as_text=True)


def test_a_manager_with_reviews_to_write_is_not_deactivated_until_they_are_reassigned(
        client, launched, login_as, db):
    """Deactivated with open reviews, the manager left them stuck: nobody else could write
    them and the cycle page did not say why."""

    review, org = launched.review, launched.org
    waiting = db.session.scalar(sa.select(sa.func.count(Review.id)).where(
        Review.manager_id == org.lead.id))
    login_as(org.hr)
    client.post(f"/admin/users/{org.lead.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert db.session.get(User, org.lead.id).active is True
    page = client.get("/admin/users").get_data(as_text=True)
    assert f"still has {waiting} review" in page and "Reassign them" in page
    # Nor by making them HR (or a rep) first, then deactivating them (probe: it went through).
    from reviewapp.admin.services import update_user
    from reviewapp.errors import ServiceError

    lead = db.session.get(User, org.lead.id)
    with pytest.raises(ServiceError, match="still has") as refused:
        update_user(org.hr, lead, email=lead.email, name=lead.name, role=Role.HR_ADMIN,
                    manager=None, team=None, active=True)
    assert refused.value.field == "role"
    db.session.rollback()
    assert db.session.get(User, org.lead.id).role == Role.MANAGER
    new_manager = create_user(Role.MANAGER, name="Nadia New")
    for other in db.session.scalars(sa.select(Review).where(Review.manager_id == org.lead.id)):
        assert client.post(f"/reviews/{other.id}/reassign", data={
            "manager": str(new_manager.id), "reason": "Leo leaves."}).status_code == 302
    client.post(f"/admin/users/{org.lead.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert db.session.get(User, org.lead.id).active is False
    assert fresh(db, review.id).manager_id == new_manager.id
