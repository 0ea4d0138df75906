"""The review workflow through the pages: who may do what in which state, drafts stay private."""

import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from reviewapp.audit.models import AuditEvent
from reviewapp.metrics.models import Observation
from reviewapp.numbers import figure
from reviewapp.reviews.models import KpiScore, Review, ReviewState
from reviewapp.reviews.scoring import format_score


def self_form(review, *, rating="4", note="Kept three key accounts through a re-org.",
              action="save", version=None, **extra):
    data = {"achievements": "Closed the Hansen deal.", "goals_reflection": "On track.",
            "development_wishes": "Negotiation.", "action": action,
            "version": str(version if version is not None else review.version)}
    if action == "submit":  # the confirmed submission (tests/reviews/test_confirmations.py)
        data["confirm"] = "1"
    for r in review.ratings:
        data[f"self_rating_{r.cycle_competency_id}"] = rating
        data[f"self_note_{r.cycle_competency_id}"] = note
    data.update(extra)
    return data


def manager_form(review, *, rating="4", note="Seen in three customer escalations.",
                 action="save", version=None, **extra):
    data = {"strengths": "Calm under pressure.", "development_areas": "Forecasting.",
            "overall_comment": "A solid quarter.", "reconciliation_note": "", "action": action,
            "version": str(version if version is not None else review.version)}
    if action == "submit":
        data["confirm"] = "1"
    for r in review.ratings:
        data[f"manager_rating_{r.cycle_competency_id}"] = rating
        data[f"manager_note_{r.cycle_competency_id}"] = note
    data.update(extra)
    return data


def fresh(db, review_id) -> Review:
    db.session.expire_all()
    return db.session.get(Review, review_id)


def submit_self(client, login_as, review):
    login_as(review.rep)
    response = client.post(f"/reviews/{review.id}/self", data=self_form(review, action="submit"))
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def test_launch_puts_each_rep_in_self_review(launched, db):
    reviews = db.session.scalars(sa.select(Review).where(Review.cycle_id == launched.cycle.id)
                                 ).all()
    org = launched.org
    assert {r.rep_id for r in reviews} >= {org.rep.id, org.rep2.id, org.boss_rep.id}
    assert org.outsider.id not in {r.rep_id for r in reviews}
    assert all(r.state == ReviewState.SELF_REVIEW for r in reviews)
    assert launched.review.manager_id == org.lead.id


def test_draft_is_private_until_submitted(client, launched, login_as, db):
    review, org = launched.review, launched.org
    login_as(org.rep)
    client.post(f"/reviews/{review.id}/self", data=self_form(review, note="SECRET-DRAFT"))
    assert "SECRET-DRAFT" in client.get(f"/reviews/{review.id}").get_data(as_text=True)
    for viewer in (org.lead, org.boss, org.hr):
        login_as(viewer)
        body = client.get(f"/reviews/{review.id}").get_data(as_text=True)
        assert "SECRET-DRAFT" not in body and "Closed the Hansen deal" not in body
    for outsider in (org.rep2, org.outsider, org.other_manager):
        login_as(outsider)
        assert client.get(f"/reviews/{review.id}").status_code == 404


def test_submit_needs_every_rating_and_evidence(client, launched, login_as, db):
    review = launched.review
    login_as(review.rep)
    response = client.post(f"/reviews/{review.id}/self",
                           data=self_form(review, note="", action="submit"))
    assert response.status_code == 422
    assert "write your evidence before submitting" in response.get_data(as_text=True)
    assert fresh(db, review.id).state == ReviewState.SELF_REVIEW


def test_rep_submits_then_manager_sees_it_and_rep_cannot_edit(client, launched, login_as, db):
    review, org = launched.review, launched.org
    submit_self(client, login_as, review)
    review = fresh(db, review.id)
    assert review.state == ReviewState.MANAGER_REVIEW and review.self_submitted_at
    login_as(org.lead)
    body = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Closed the Hansen deal" in body and "Submit to calibration" in body
    login_as(org.rep)
    response = client.post(f"/reviews/{review.id}/self", data=self_form(review, note="late"))
    assert response.status_code == 422
    assert "only possible while the review is in self-assessment" in response.get_data(as_text=True)
    assert "late" not in [r.self_note for r in fresh(db, review.id).ratings]
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "review.state", AuditEvent.entity_id == review.id))
    assert event.before == {"state": "self_review"} and event.after == {"state": "manager_review"}


@pytest.mark.parametrize("who", ["rep", "rep2", "boss", "hr", "other_manager"])
def test_only_the_reviewing_manager_may_write_the_manager_side(client, launched, login_as, db,
                                                               who):
    review, org = launched.review, launched.org
    submit_self(client, login_as, review)
    login_as(getattr(org, who))
    response = client.post(f"/reviews/{review.id}/manager",
                           data=manager_form(fresh(db, review.id), action="submit"))
    assert response.status_code in (403, 404)
    assert fresh(db, review.id).state == ReviewState.MANAGER_REVIEW


def test_manager_cannot_write_before_self_review_ends(client, launched, login_as, db):
    review = launched.review
    login_as(launched.org.lead)
    response = client.post(f"/reviews/{review.id}/manager", data=manager_form(review))
    assert response.status_code == 422
    assert "only possible while the review is in manager review" in response.get_data(as_text=True)


def test_skip_self_only_after_the_deadline(client, launched, login_as, db):
    review, org = launched.review, launched.org
    login_as(org.lead)
    refused = client.post(f"/reviews/{review.id}/skip-self", data={"confirm": "1"})
    assert refused.status_code == 422
    assert "you can move on without it only after that" in refused.get_data(as_text=True)
    assert fresh(db, review.id).state == ReviewState.SELF_REVIEW
    login_as(org.rep)
    assert client.post(f"/reviews/{review.id}/skip-self", data={"confirm": "1"}).status_code == 403
    launched.cycle.self_due = date.today() - timedelta(days=1)
    db.session.commit()
    login_as(org.lead)
    assert client.post(f"/reviews/{review.id}/skip-self", data={"confirm": "1"}).status_code == 302
    review = fresh(db, review.id)
    assert review.state == ReviewState.MANAGER_REVIEW and review.self_skipped
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "review.state",
                                                          AuditEvent.entity_id == review.id))
    assert "deadline" in event.reason


def test_kpi_table_is_computed_from_observations(client, launched, login_as, db):
    review, org = launched.review, launched.org
    submit_self(client, login_as, review)
    login_as(org.lead)
    body = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    meetings = launched.metrics["meetings"]
    expected = db.session.scalar(sa.select(sa.func.sum(Observation.value)).where(
        Observation.rep_id == org.rep.id, Observation.metric_id == meetings.id,
        Observation.period_start >= launched.cycle.period_start,
        Observation.period_start <= launched.cycle.period_end))
    review = fresh(db, review.id)
    score = next(s for s in review.kpi_scores if s.cycle_kpi.metric_id == meetings.id)
    assert score.actual == pytest.approx(expected)
    assert score.attainment == pytest.approx(expected / 40.0)
    # Written as the metrics pages write them: a target of 40 is "40", not "40.0".
    assert re.search(rf'<td class="num" data-label="Actual">{re.escape(figure(expected))}</td>'
                     r'\s*<td class="num" data-label="Target">40</td>', body)
    assert launched.cycle.kpis[0].evidence_sentence in body


def test_override_needs_justification_and_is_audited(client, launched, login_as, db):
    review, org = launched.review, launched.org
    submit_self(client, login_as, review)
    login_as(org.lead)
    review = fresh(db, review.id)
    score = review.kpi_scores[0]
    url = f"/reviews/{review.id}/kpis/{score.id}/override"
    response = client.post(url, data={"override_score": "5", "justification": " ",
                                      "version": review.version}, follow_redirects=True)
    assert response.status_code == 200 and response.request.path == f"/reviews/{review.id}"
    assert "Explain why the computed score" in response.get_data(as_text=True)
    assert fresh(db, review.id).kpi_scores[0].override_score is None
    client.post(url, data={"override_score": "5", "justification": "Two deals slipped a week.",
                           "version": review.version})
    review = fresh(db, review.id)
    assert review.kpi_scores[0].override_score == 5
    body = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Two deals slipped a week." in body
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "review.kpi_override"))
    assert event.after["override_score"] == 5 and event.after["justification"]
    # Taking the override back says so (it said "The KPI score was overridden").
    cleared = client.post(url, data={"override_score": "", "justification": "",
                                     "version": review.version},
                          follow_redirects=True).get_data(as_text=True)
    assert "The computed KPI score counts again" in cleared
    assert fresh(db, review.id).kpi_scores[0].override_score is None


def test_divergent_scores_need_a_reconciliation_note(client, launched, login_as, db):
    review, org = launched.review, launched.org
    submit_self(client, login_as, review)
    login_as(org.lead)
    review = fresh(db, review.id)
    for score in review.kpi_scores:  # push the KPI side to 5
        client.post(f"/reviews/{review.id}/kpis/{score.id}/override",
                    data={"override_score": "5", "justification": "Exceptional quarter.",
                          "version": fresh(db, review.id).version})
    review = fresh(db, review.id)
    response = client.post(f"/reviews/{review.id}/manager",
                           data=manager_form(review, rating="2", action="submit"))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Write a reconciliation note" in body and "Seen in three customer" in body
    # Scores with two decimals, as every page shows them (it said "(5.0)" and "(2.2)").
    assert "The KPI score (5.00) and the competency score (2.00)" in body
    review = fresh(db, review.id)
    assert review.state == ReviewState.MANAGER_REVIEW
    assert review.ratings[0].manager_rating == 2  # what was typed is kept
    client.post(f"/reviews/{review.id}/manager", data=manager_form(
        review, rating="2", action="submit",
        reconciliation_note="Numbers came from one inherited account; conduct needs work."))
    review = fresh(db, review.id)
    assert review.state == ReviewState.CALIBRATION and review.manager_submitted_at
    assert review.quant_score == 5 and review.qual_score == 2
    assert review.overall_score == pytest.approx(3.5)


def test_rep_sees_nothing_of_the_manager_side_in_calibration(client, launched, login_as, db):
    review, org = launched.review, launched.org
    submit_self(client, login_as, review)
    login_as(org.lead)
    client.post(f"/reviews/{review.id}/manager", data=manager_form(
        fresh(db, review.id), note="MANAGER-EYES-ONLY", action="submit",
        reconciliation_note="x"))
    assert fresh(db, review.id).state == ReviewState.CALIBRATION
    login_as(org.rep)
    body = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "MANAGER-EYES-ONLY" not in body and 'data-testid="kpi-table"' not in body
    login_as(org.boss)
    assert "MANAGER-EYES-ONLY" in client.get(f"/reviews/{review.id}").get_data(as_text=True)


def test_saving_over_a_newer_version_keeps_the_text_and_says_who(client, launched, login_as,
                                                                 db):
    review = launched.review
    login_as(review.rep)
    stale_version = review.version
    client.post(f"/reviews/{review.id}/self", data=self_form(review, note="first tab"))
    response = client.post(f"/reviews/{review.id}/self",
                           data=self_form(review, note="SECOND TAB TEXT",
                                          version=stale_version))
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "SECOND TAB TEXT" in body
    # Their own other tab: "You", not their name as if someone else had saved it.
    assert "You saved this review in another window or tab at" in body
    assert "first tab" in [r.self_note for r in fresh(db, review.id).ratings]


def test_database_backs_the_workflow_rules(launched, db):
    review = launched.review
    with pytest.raises(IntegrityError):
        db.session.execute(sa.text("UPDATE reviews SET state = 'calibration' WHERE id = :id"),
                           {"id": review.id})
        db.session.flush()
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(sa.text("UPDATE reviews SET state = 'approved' WHERE id = :id"),
                           {"id": review.id})
        db.session.flush()
    db.session.rollback()
    assert fresh(db, review.id).state == ReviewState.SELF_REVIEW


def test_an_import_brings_the_stored_scores_of_open_reviews_up_to_date(
        client, launched, login_as, db):
    """The cycle's lists read the stored scores: after new data they showed the old ones until
    someone saved the review. An import stores them afresh, without moving the review's
    version (a manager's open form stays current), and leaves calibrated reviews alone."""
    from reviewapp.metrics.importer import apply_import, prepare_import

    review, org = launched.review, launched.org
    submit_self(client, login_as, review)
    login_as(org.lead)
    client.post(f"/reviews/{review.id}/manager", data=manager_form(fresh(db, review.id)))
    before = fresh(db, review.id)
    version, quant = before.version, before.quant_score
    meetings = next(s for s in before.kpi_scores if s.cycle_kpi.metric_id
                    == launched.metrics["meetings"].id)
    target = meetings.target
    new_value = target * 2 if (meetings.attainment or 0) < 1 else target * 0.2
    plan = prepare_import(org.hr, f"rep_email,period,metric,value\n{org.rep.email},2025-Q4,"
                          f"meetings,{new_value}\n".encode(), "fix.csv", source="cli")
    assert plan.ok, plan.errors
    apply_import(org.hr, plan, replace=True)
    db.session.commit()
    after = fresh(db, review.id)
    line = next(s for s in after.kpi_scores if s.id == meetings.id)
    assert line.actual == pytest.approx(new_value)
    assert after.quant_score != quant and after.version == version
    page = client.get(f"/cycles/{launched.cycle.id}").get_data(as_text=True)
    assert format_score(after.overall_score) in page
    # The manager's form, opened before the import, still saves.
    response = client.post(f"/reviews/{review.id}/manager",
                           data=manager_form(after, version=version))
    assert response.status_code == 302


def test_text_with_a_direction_mark_survives_a_save_of_its_own_form(
        client, launched, login_as, db):
    """Pages isolate text holding a direction control (FSI … PDI), the form's textareas too:
    saved back untouched, the text grew by two characters and wrote an audit event each time."""
    review = launched.review
    text = "\u05e9\u05dc\u05d5\u05dd\u200f and hello"  # Hebrew, a right-to-left mark, English
    login_as(review.rep)
    client.post(f"/reviews/{review.id}/self",
                data=self_form(fresh(db, review.id), achievements=text))
    assert fresh(db, review.id).achievements == text
    for _ in range(2):
        page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
        shown = re.search(r'<textarea[^>]*name="achievements"[^>]*>\n?(.*?)</textarea>', page,
                          re.S).group(1)
        events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        client.post(f"/reviews/{review.id}/self",
                    data=self_form(fresh(db, review.id), achievements=html.unescape(shown)))
        assert fresh(db, review.id).achievements == text
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events


def test_an_override_made_against_figures_that_then_change_is_cleared_and_audited(
        client, launched, login_as, db):
    """Computed 2, overridden to 3; corrected data made it 4 and the page said 'computed 4 ->
    overridden to 3', the signed record 'overridden from 4 to 3', which nobody ever did."""
    from reviewapp.metrics.importer import apply_import, prepare_import

    review, org = launched.review, launched.org
    submit_self(client, login_as, review)
    login_as(org.lead)
    review = fresh(db, review.id)
    meetings = next(s for s in review.kpi_scores
                    if s.cycle_kpi.metric_id == launched.metrics["meetings"].id)
    chosen = 1 if meetings.computed_score != 1 else 2
    answer = client.post(f"/reviews/{review.id}/kpis/{meetings.id}/override",
                         data={"override_score": str(chosen), "version": review.version,
                               "justification": "Two deals slipped."}, follow_redirects=True)
    assert answer.status_code == 200
    db.session.expire_all()
    row = db.session.get(KpiScore, meetings.id)
    assert row.override_score == chosen
    computed = row.computed_score
    new_value = meetings.target * (2 if (meetings.attainment or 0) < 1 else 0.2)
    plan = prepare_import(org.hr, f"rep_email,period,metric,value\n{org.rep.email},2025-Q4,"
                          f"meetings,{new_value}\n".encode(), "fix.csv", source="cli")
    apply_import(org.hr, plan, replace=True)
    db.session.commit()
    db.session.expire_all()
    row = db.session.get(KpiScore, meetings.id)
    assert row.computed_score != computed
    assert row.override_score is None and row.override_justification == ""
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "review.override_cleared"))
    assert event.before["override_score"] == chosen and event.before["computed"] == computed
    assert event.after["computed"] == row.computed_score
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Two deals slipped." not in page
    assert 'data-testid="override-cleared"' in page and "Override it again" in page
    # The cleared override was the manager's draft: HR's history withholds it until
    # calibration, as it withholds the override itself (it showed "justification ...").
    login_as(org.hr)
    history = client.get(f"/reviews/{review.id}/history").get_data(as_text=True)
    assert "Two deals slipped." not in history


def test_my_review_opens_the_one_waiting_for_the_rep(client, launched, login_as, db):
    """After a catch-up cycle for an earlier quarter, My review opened the latest quarter's
    review, not the self-assessment the dashboard asked for."""
    import dataclasses

    from reviewapp.cycles.services import launch, save_cycle
    from tests.reviews.conftest import make_draft

    org = launched.org
    submit_self(client, login_as, launched.review)  # the 2025-Q4 review: with the manager
    catch_up = save_cycle(org.hr, None, dataclasses.replace(
        make_draft(launched.metrics, team_ids=[org.team.id]), name="Q3 catch-up",
        period="2025-Q3"))
    launch(org.hr, catch_up)
    db.session.commit()
    earlier = db.session.scalar(sa.select(Review).where(Review.cycle_id == catch_up.id,
                                                        Review.rep_id == org.rep.id))
    login_as(org.rep)
    response = client.get("/reviews/mine")
    assert response.headers["Location"].endswith(f"/reviews/{earlier.id}")
    submit_self(client, login_as, earlier)
    login_as(org.rep)  # nothing waits for them now: the latest quarter's
    assert client.get("/reviews/mine").headers["Location"].endswith(
        f"/reviews/{launched.review.id}")


@pytest.mark.parametrize("form", ["self", "manager", "override"])
def test_an_edit_posted_without_its_version_loses_instead_of_writing_over(
        client, launched, login_as, db, form):
    """The pages always send the version the form was opened at; a script that left it out
    skipped the lost-update check and wrote over a newer save."""
    review, org = launched.review, launched.org
    if form == "self":
        login_as(org.rep)
        data, url = self_form(review), f"/reviews/{review.id}/self"
    else:
        submit_self(client, login_as, review)
        login_as(org.lead)
        review = fresh(db, review.id)
        if form == "manager":
            data, url = manager_form(review), f"/reviews/{review.id}/manager"
        else:
            data = {"override_score": "5", "justification": "A script's override."}
            url = f"/reviews/{review.id}/kpis/{review.kpi_scores[0].id}/override"
    data.pop("version", None)
    before = fresh(db, review.id).version
    assert client.post(url, data=data).status_code == 409
    assert fresh(db, review.id).version == before
