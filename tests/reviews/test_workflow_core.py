"""The workflow's core defects, each pinned by a test: a page view never writes, every change
moves the version on, colliding saves lose with a 409 (never a 500), and a launched cycle's
frozen roll-up is the one that computes actuals."""

import pytest
import sqlalchemy as sa

from reviewapp.metrics.catalogue import update_metric
from reviewapp.metrics.models import Observation
from reviewapp.reviews.models import Review, ReviewState
from reviewapp.reviews.services import (
    ManagerAssessment,
    ReviewConflict,
    kpi_actuals,
    save_manager,
)
from tests.reviews.test_workflow import fresh, manager_form, submit_self

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def in_manager_review(client, launched, login_as, db):
    submit_self(client, login_as, launched.review)
    return fresh(db, launched.review.id)


def _writes_during(db, call) -> list[str]:
    seen: list[str] = []

    def _record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(WRITES):
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", _record)
    try:
        call()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", _record)
    return seen


def test_opening_a_review_writes_nothing_and_an_open_form_still_saves(
        client, in_manager_review, login_as, db):
    review = in_manager_review
    lead = review.manager
    login_as(lead)
    version = review.version
    # New data arrives after the form was opened: the page shows it, but stores nothing.
    db.session.execute(sa.update(Observation).where(
        Observation.rep_id == review.rep_id,
        Observation.metric_id == review.kpi_scores[0].cycle_kpi.metric_id,
        Observation.period_start == review.cycle.period_start).values(value=999.0))
    db.session.commit()
    for _ in range(2):
        writes = _writes_during(db, lambda: client.get(f"/reviews/{review.id}"))
        assert writes == []
    assert fresh(db, review.id).version == version
    response = client.post(f"/reviews/{review.id}/manager",
                           data=manager_form(review, version=version))
    assert response.status_code == 302, "a page view made the open form stale"


def test_a_notes_only_save_moves_the_version_and_the_stale_one_gets_409(
        client, in_manager_review, login_as, db):
    review = in_manager_review
    login_as(review.manager)
    opened = review.version
    first = manager_form(review, version=opened)
    assert client.post(f"/reviews/{review.id}/manager", data=first).status_code == 302
    changed = fresh(db, review.id)
    second_tab = changed.version  # a second tab opens the form now
    only_notes = manager_form(changed, version=second_tab,
                              note="A second, different note: only the notes change.")
    assert client.post(f"/reviews/{review.id}/manager", data=only_notes).status_code == 302
    assert fresh(db, review.id).version > second_tab, "a notes-only save must move it on"
    stale = manager_form(review, version=second_tab, note="My text, typed in tab two.")
    response = client.post(f"/reviews/{review.id}/manager", data=stale)
    assert response.status_code == 409
    assert "My text, typed in tab two." in response.get_data(as_text=True)
    kept = fresh(db, review.id)
    assert all(r.manager_note.startswith("A second") for r in kept.ratings)


def test_two_saves_colliding_at_the_same_moment_lose_as_a_conflict(in_manager_review, db):
    """Both read version v; the other save commits first; ours must not crash or overwrite."""
    review = in_manager_review
    opened = review.version
    with db.engine.begin() as other:  # the other session's save lands in between
        other.execute(sa.update(Review).where(Review.id == review.id)
                      .values(version=Review.version + 1, strengths="theirs"))
    data = ManagerAssessment("mine", "d", "o", "", {
        r.cycle_competency_id: (3, "note") for r in review.ratings})
    with pytest.raises(ReviewConflict):
        save_manager(review.manager, review, data, expected_version=opened)
    db.session.rollback()
    assert fresh(db, review.id).strengths == "theirs"


def test_colliding_saves_through_the_page_answer_409_not_500(
        client, in_manager_review, login_as, db, monkeypatch):
    review = in_manager_review
    login_as(review.manager)
    import reviewapp.reviews.services as services

    real = services._check_version

    def other_save_lands_now(r, expected, actor=None):
        real(r, expected, actor)
        with db.engine.begin() as other:
            other.execute(sa.update(Review).where(Review.id == r.id)
                          .values(version=Review.version + 1))

    monkeypatch.setattr(services, "_check_version", other_save_lands_now)
    response = client.post(f"/reviews/{review.id}/manager",
                           data=manager_form(review, note="Typed while someone else saved."))
    assert response.status_code == 409
    assert "Typed while someone else saved." in response.get_data(as_text=True)


def test_actuals_use_the_roll_up_the_cycle_froze(in_manager_review, db):
    review = in_manager_review
    kpi = review.kpi_scores[0].cycle_kpi
    metric = kpi.metric
    assert kpi.frozen_rollup == metric.rollup.value == "sum"
    start = review.cycle.period_start
    db.session.execute(sa.delete(Observation).where(
        Observation.rep_id == review.rep_id, Observation.metric_id == metric.id))
    for month, value in ((0, 10.0), (1, 20.0), (2, 30.0)):
        db.session.add(Observation(rep_id=review.rep_id, metric_id=metric.id, grain="month",
                                   period_start=start.replace(month=start.month + month),
                                   value=value))
    db.session.commit()
    assert kpi_actuals(review)[metric.id] == 60.0
    hr = db.session.scalar(sa.select(type(review.rep)).where(
        type(review.rep).role == "hr_admin"))
    update_metric(hr, metric, name=metric.name, unit=metric.unit,
                  direction=metric.direction.value, rollup="mean",
                  description=metric.description)
    db.session.commit()
    assert kpi_actuals(fresh(db, review.id))[metric.id] == 60.0, "HR's change leaked in"


def test_scores_are_stored_when_the_manager_saves(client, in_manager_review, login_as, db):
    review = in_manager_review
    login_as(review.manager)
    client.post(f"/reviews/{review.id}/manager", data=manager_form(review, rating="5"))
    saved = fresh(db, review.id)
    assert saved.state == ReviewState.MANAGER_REVIEW
    assert saved.qual_score == 5.0 and saved.overall_score is not None
