"""The first hour on the review page: the rep reads what she submitted, a refused submission
lists every problem at the top with links to the fields, a refused override keeps its input."""

import re

from reviewapp.reviews.models import ReviewState
from tests.reviews.test_workflow import fresh, manager_form, self_form, submit_self


def _summary_links(body: str) -> list[str]:
    summary = re.search(r'<div class="error-summary".*?</div>', body, re.S)
    assert summary, "no error summary at the top of the page"
    return re.findall(r'<a href="#([^"]+)">', summary.group(0))


def test_a_refused_self_submission_lists_every_missing_field(client, launched, login_as, db):
    review = launched.review
    login_as(review.rep)
    form = self_form(review, action="submit")
    first, *rest = [r.cycle_competency_id for r in review.ratings]
    del form[f"self_rating_{first}"]
    for cid in rest:
        form[f"self_note_{cid}"] = ""
    response = client.post(f"/reviews/{review.id}/self", data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    expected = [f"self_rating_{first}"] + [f"self_note_{cid}" for cid in rest]
    assert _summary_links(body) == expected
    assert f"There are {len(expected)} problems" in body
    assert body.index('class="error-summary"') < body.index("Your self-assessment")
    for field in expected:
        assert f'id="{field}-error"' in body  # each field is marked where it is
    assert re.search(rf'<textarea id="self_note_{rest[0]}"[^>]*aria-invalid="true"', body)
    assert 'tabindex="-1" data-error-summary' in body  # app.js focuses it
    review = fresh(db, review.id)
    assert review.state == ReviewState.SELF_REVIEW
    assert review.ratings[1].self_rating == 4  # the draft is saved; nothing is lost


def test_the_rep_reads_her_whole_submitted_self_assessment(client, launched, login_as, db):
    review = launched.review
    submit_self(client, login_as, review)
    review = fresh(db, review.id)
    body = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Kept three key accounts through a re-org." in body
    for r in review.ratings:
        assert f'data-testid="submitted-self-rating-{r.cycle_competency_id}">4<' in body
    assert review.self_submitted_at.strftime("submitted %d %b %Y %H:%M UTC") in body
    assert 'name="self_rating_' not in body  # read-only


def test_a_refused_manager_submission_lists_every_competency(client, launched, login_as, db):
    review = launched.review
    submit_self(client, login_as, review)
    login_as(launched.org.lead)
    review = fresh(db, review.id)
    form = manager_form(review, action="submit")
    for r in review.ratings:
        del form[f"manager_rating_{r.cycle_competency_id}"]
    response = client.post(f"/reviews/{review.id}/manager", data=form)
    assert response.status_code == 422
    assert _summary_links(response.get_data(as_text=True)) == [
        f"manager_rating_{r.cycle_competency_id}" for r in review.ratings]
    assert fresh(db, review.id).state == ReviewState.MANAGER_REVIEW


def test_a_refused_override_keeps_the_chosen_score(client, launched, login_as, db):
    review = launched.review
    submit_self(client, login_as, review)
    login_as(launched.org.lead)
    review = fresh(db, review.id)
    score = review.kpi_scores[0]
    response = client.post(f"/reviews/{review.id}/kpis/{score.id}/override",
                           data={"override_score": "5", "justification": "",
                                 "version": str(review.version)})
    # Back on the review page's own address (not the POST's), with the choice kept.
    assert response.status_code == 302
    assert response.headers["Location"] == f"/reviews/{review.id}"
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _summary_links(body) == [f"justification_{score.id}"]
    select = re.search(rf'<select id="override_score_{score.id}".*?</select>', body, re.S).group(0)
    assert "<option selected>5</option>" in select
    assert f'id="justification_{score.id}-error"' in body
    assert fresh(db, review.id).kpi_scores[0].override_score is None


def test_one_formatter_for_scores_halves_up():
    from reviewapp.reviews.scoring import format_score, partial_side
    assert [format_score(v) for v in (None, 3.55, 2.625, 5, 3.5)] == [
        "—", "3.55", "2.63", "5.00", "3.50"]
    assert partial_side(5.0, None) == "KPIs only"
    assert partial_side(None, 3.0) == "competencies only"
    assert partial_side(4.0, 3.0) is None


def test_cycle_page_and_review_page_show_the_same_score_and_its_side(client, launched,
                                                                     login_as, db):
    from reviewapp.reviews.scoring import format_score
    review = launched.review
    submit_self(client, login_as, review)
    review = fresh(db, review.id)
    assert review.overall_score is not None and review.qual_score is None
    shown = format_score(review.overall_score)
    login_as(launched.org.lead)
    cycle_page = client.get(f"/cycles/{review.cycle_id}").get_data(as_text=True)
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{re.escape(review.rep.name)}.*?</tr>",
                    cycle_page, re.S).group(0)
    assert f'{shown} <span class="muted partial" data-testid="partial">(KPIs only)</span>' in row
    review_page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert re.search(rf'data-testid="overall-score">{re.escape(shown)}<', review_page)
    assert 'data-testid="overall-side">(KPIs only)<' in review_page
