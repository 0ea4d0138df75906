"""The calibration page, on a cycle built through the real pages and services: four managers,
one of them lenient, one rating everyone 3; who sees what; drafts do not count.

Reporting lines: Vic (VP) over Bea and Otto; Bea over Leo; Sue on her own with two reps, so
that Vic sees everyone but Sue's two people (too few to show as an anonymised group).

The cycle is built once for the module (it takes some 80 requests) and only read by the tests.
"""

import re
from types import SimpleNamespace

import numpy as np
import pytest
import sqlalchemy as sa
from scipy import stats

from reviewapp.auth.models import Role
from reviewapp.cycles.calibration import calibration_page
from reviewapp.cycles.queries import load_cycle
from reviewapp.cycles.services import launch, save_cycle
from reviewapp.extensions import db
from reviewapp.kpis.runs import run_validation
from reviewapp.metrics.models import KpiStatus
from reviewapp.reviews import decisions
from reviewapp.reviews.models import Review, ReviewState
from tests import factories
from tests.inline_code import inline_code
from tests.kpis.data import insert_sales
from tests.reviews.conftest import make_draft
from tests.reviews.test_workflow import manager_form, self_form

LEO = [[3, 3, 2, 3, 3], [3, 3, 3, 4, 3], [3, 2, 3, 3, 3], [3, 3, 3, 3, 4], [4, 3, 3, 3, 3],
       [3, 3, 3, 2, 3], [3, 4, 3, 3, 3], [3, 3, 3, 3, 3]]  # central tendency
OTTO = [[5, 5, 4, 5, 5], [4, 5, 5, 5, 4], [5, 5, 5, 4, 5], [5, 4, 5, 5, 5], [4, 5, 4, 5, 5],
        [5, 5, 5, 5, 4], [5, 4, 5, 4, 5], [5, 5, 5, 5, 5]]  # lenient
BEA = [[4, 3, 4, 2, 5], [3, 4, 4, 3, 3], [2, 3, 4, 4, 3], [4, 4, 5, 3, 3]]
SUE = [[4, 3, 4, 3, 4], [3, 4, 3, 4, 3]]


@pytest.fixture(scope="module")
def client(module_app):
    return module_app.test_client()


@pytest.fixture(scope="module")
def login_as(client):
    def _login(user):
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return client
    return _login


def _fresh(review_id: int) -> Review:
    db.session.expire_all()
    return db.session.get(Review, review_id)


def _submit(client, login_as, review, self_rating: str, ratings: list[int] | None):
    login_as(review.rep)
    response = client.post(f"/reviews/{review.id}/self",
                           data=self_form(review, rating=self_rating, action="submit"))
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    if ratings is None:  # the manager's review stays a draft
        review = _fresh(review.id)
        login_as(review.manager)
        client.post(f"/reviews/{review.id}/manager",
                    data=manager_form(review, rating="1", note="DRAFT-NOT-COUNTED"))
        return
    review = _fresh(review.id)
    data = manager_form(review, action="submit",
                        reconciliation_note=f"RECONCILED for {review.rep.name}.")
    for r, value in zip(review.ratings, ratings, strict=True):
        data[f"manager_rating_{r.cycle_competency_id}"] = str(value)
    login_as(review.manager)
    response = client.post(f"/reviews/{review.id}/manager", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:400]


@pytest.fixture(scope="module")
def scene(module_app, client, login_as):
    org = factories.build_org()
    leo_reps = [factories.create_user(Role.REP, name=f"Lina Lead-team {i}", manager=org.lead,
                                      team=org.team, commit=False) for i in range(6)]
    otto_reps = [factories.create_user(Role.REP, name=f"Omar Omega {i}", team=org.other_team,
                                       manager=org.other_manager, commit=False)
                 for i in range(7)]
    bea_reps = [factories.create_user(Role.REP, name=f"Bo Boss-team {i}", manager=org.boss,
                                      team=org.team, commit=False) for i in range(3)]
    vic = factories.create_user(Role.MANAGER, name="Vic VP", commit=False)
    org.boss.manager = org.other_manager.manager = vic
    sue = factories.create_user(Role.MANAGER, name="Sue Solo", commit=False)
    solo = factories.create_team("Solo", manager=sue, commit=False)
    sue_reps = [factories.create_user(Role.REP, name=f"Sol Solo-team {i}", manager=sue,
                                      team=solo, commit=False) for i in range(2)]
    db.session.commit()
    leo = [org.rep, *leo_reps, org.rep2]  # Ravi (rep2) is kept in manager review: a draft
    otto = [org.outsider, *otto_reps]
    bea = [org.boss_rep, *bea_reps]
    metrics = insert_sales([r.id for r in leo + otto + bea + sue_reps])
    run_validation(None, source="cli")  # a policy run: every candidate, the primary outcome
    db.session.commit()
    assert metrics["meetings"].kpi_status == KpiStatus.KPI
    cycle = save_cycle(org.hr, None, make_draft(
        metrics, team_ids=[org.team.id, org.other_team.id, solo.id],
        targets={"meetings": 12.0, "proposals": 6.0}))
    launch(org.hr, cycle)
    db.session.commit()
    reviews = {r.rep_id: r for r in db.session.scalars(
        sa.select(Review).where(Review.cycle_id == cycle.id))}
    plan = ([(rep, "4", LEO[i]) for i, rep in enumerate(leo[:-1])] + [(org.rep2, "4", None)]
            + [(rep, "2" if rep is org.outsider else "4", OTTO[i]) for i, rep in
               enumerate(otto)] + [(rep, "4", BEA[i]) for i, rep in enumerate(bea)]
            + [(rep, "4", SUE[i]) for i, rep in enumerate(sue_reps)])
    for rep, self_rating, ratings in plan:
        _submit(client, login_as, reviews[rep.id], self_rating, ratings)
    # Potential, as the managers rate it in calibration; two of Leo's reps stay unrated.
    for i, rep in enumerate(leo[:-3] + otto + bea):
        review = _fresh(reviews[rep.id].id)
        decisions.set_potential(review.manager, review, 3 if rep in otto[:5] else 1 + i % 2)
    db.session.commit()
    # HR brings one of Olga's ratings down in calibration, through the review's form.
    olga = _fresh(reviews[org.outsider.id].id)
    adjusted = olga.ratings[0]
    login_as(org.hr)
    response = client.post(f"/reviews/{olga.id}/calibrate/{adjusted.cycle_competency_id}",
                           data={f"calibrated_{adjusted.cycle_competency_id}": "4",
                                 f"reason_{adjusted.cycle_competency_id}":
                                     "In line with peers' evidence."})
    assert response.status_code == 302
    assert _fresh(reviews[org.rep2.id].id).state == ReviewState.MANAGER_REVIEW
    # The posts above left their messages in the shared session; whichever test rendered a
    # page first showed them all (names included), so a test run alone failed.
    with client.session_transaction() as session:
        session.pop("_flashes", None)
    return SimpleNamespace(org=org, cycle=cycle, reviews=reviews, leo=leo, otto=otto, bea=bea,
                           vic=vic, sue=sue, sue_reps=sue_reps, olga=olga, adjusted=adjusted,
                           url=f"/cycles/{cycle.id}/calibration")


def page(client, login_as, user, url, status=200) -> str:
    login_as(user)
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def section(body: str, testid: str) -> str:
    """The HTML of the element with this data-testid, to its closing tag (none are nested)."""
    start = body.rindex("<", 0, body.index(f'data-testid="{testid}"'))
    tag = re.match(r"<(\w+)", body[start:]).group(1)
    return body[start:body.index(f"</{tag}>", start)]


def row(body: str, testid: str) -> str:
    start = body.index(f'data-testid="{testid}"')
    return body[start:body.index("</tr>", start)]


def counted_means(scene, manager) -> list[float]:
    """Each counted rep's mean manager rating, straight from the database."""
    db.session.expire_all()
    reviews = db.session.scalars(sa.select(Review).where(
        Review.cycle_id == scene.cycle.id, Review.manager_id == manager.id,
        Review.state == ReviewState.CALIBRATION)).all()
    return [float(np.mean([r.manager_rating for r in review.ratings])) for review in reviews]


def test_hr_sees_every_manager_with_the_flags(client, login_as, scene):
    org = scene.org
    body = page(client, login_as, org.hr, scene.url)
    assert 'data-testid="lenient-flag"' in row(body, f"leniency-{org.other_manager.id}")
    assert 'data-testid="numbers-flag"' in row(body, f"numbers-{org.other_manager.id}")
    assert 'data-testid="central-flag"' in row(body, f"leniency-{org.lead.id}")
    assert "numbers-flag" not in row(body, f"numbers-{org.lead.id}")
    assert "flag" not in row(body, f"leniency-{org.boss.id}").replace("leniency-", "")
    flags = section(body, "flags")
    assert "Otto Other" in flags and "high ratings, average numbers" in flags
    for rep in scene.leo[:-1] + scene.otto + scene.bea:
        assert rep.name in section(body, "people")


def test_leniency_figures_match_an_independent_computation(client, login_as, scene):
    org = scene.org
    otto = counted_means(scene, org.other_manager)
    rest = (counted_means(scene, org.lead) + counted_means(scene, org.boss)
            + counted_means(scene, scene.sue))
    everyone = otto + rest
    result = stats.ttest_ind(otto, rest, equal_var=False)
    ci = result.confidence_interval(0.95)
    factor = len(rest) / len(everyone)
    otto_row = row(page(client, login_as, org.hr, scene.url),
                   f"leniency-{org.other_manager.id}")
    # Shown to two decimals; compared within rounding (a sum's order may flip a .xx5).
    shown = [float(x) for x in re.findall(r"[+-]\d\.\d\d", otto_row)]
    assert shown == pytest.approx([np.mean(otto) - np.mean(everyone), factor * ci.low,
                                   factor * ci.high], abs=0.0051)
    assert f">{len(otto)}<" in otto_row  # Olga's calibrated rating does not hide the rater's


def test_drafts_do_not_count(client, login_as, scene):
    org = scene.org
    body = page(client, login_as, org.hr, scene.url)
    assert org.rep2.name not in section(body, "people")
    assert "DRAFT-NOT-COUNTED" not in body
    assert re.search(r'data-testid="drafts">1<', body)
    assert f">{len(scene.leo) - 1}<" in row(body, f"leniency-{org.lead.id}")


def test_a_manager_sees_own_people_and_only_an_anonymised_rest(client, login_as, scene):
    org = scene.org
    body = page(client, login_as, org.lead, scene.url)
    for rep in scene.leo[:-1]:
        assert rep.name in body
    for hidden in [org.other_manager, org.boss, *scene.otto, *scene.bea]:
        assert hidden.name not in body
    assert "RECONCILED for Olga" not in body
    assert re.search(r"Manager [A-Z]\b", body) is None
    assert 'data-testid="group-rest"' in body and "The rest of the organisation" in body
    assert f"leniency-{org.other_manager.id}" not in body
    points = section(body, "points")
    assert all(rep.name in points for rep in scene.leo[:-1])
    assert 'data-testid="central-flag"' in row(body, f"leniency-{org.lead.id}")
    assert re.search(r'data-testid="drafts">1<', body)  # Ravi's, which Leo writes
    # The two counts have different scopes, and say so.
    assert "of the whole organisation count here" in body
    assert "<strong data-testid=\"drafts\">1</strong> of your own people's review has" in body


def test_a_manager_above_sees_the_managers_below(client, login_as, scene):
    org = scene.org
    body = page(client, login_as, org.boss, scene.url)
    assert f"leniency-{org.lead.id}" in body and f"leniency-{org.boss.id}" in body
    assert all(rep.name in body for rep in scene.leo[:-1] + scene.bea)
    assert not any(name in body for name in [org.other_manager.name,
                                             *(r.name for r in scene.otto)])


def test_the_lenient_manager_sees_their_own_flag(client, login_as, scene):
    org = scene.org
    body = page(client, login_as, org.other_manager, scene.url)
    assert 'data-testid="lenient-flag"' in row(body, f"leniency-{org.other_manager.id}")
    assert not any(rep.name in body for rep in scene.leo + scene.bea)
    assert org.lead.name not in body and org.boss.name not in body


def test_one_to_three_others_are_not_shown_even_anonymised(client, login_as, scene):
    org = scene.org
    body = page(client, login_as, scene.vic, scene.url)
    assert "Only 2 other reviews are in calibration" in section(body, "withheld")
    assert all(rep.name in body for rep in scene.leo[:-1] + scene.otto + scene.bea)
    assert not any(name in body for name in [scene.sue.name, *(r.name for r in scene.sue_reps)])
    assert 'data-testid="group-org"' not in body and 'data-testid="group-rest"' not in body
    assert "cal-flag" not in section(body, "leniency")
    assert "rates higher" not in body and "high ratings, average numbers" not in body
    assert "<th scope=\"col\" class=\"num\">Difference</th>" not in body
    # The managers below him, with their own figures but nothing against the organisation.
    assert f"leniency-{org.other_manager.id}" in body and f"leniency-{org.lead.id}" in body


@pytest.mark.parametrize("who", ["rep", "outsider"])
def test_reps_are_refused(client, login_as, scene, who):
    login_as(getattr(scene.org, who))
    assert client.get(scene.url).status_code == 403


def test_changed_in_calibration_filter_and_links(client, login_as, scene):
    org = scene.org
    body = page(client, login_as, org.hr, scene.url + "?changed=1")
    people = section(body, "people")
    assert org.outsider.name in people
    assert not any(rep.name in people for rep in scene.leo[:-1] + scene.bea + scene.otto[1:])
    changed = section(body, "changed")
    assert "In line with peers&#39; evidence." in changed
    assert f'href="/reviews/{scene.olga.id}#calibration"' in changed
    # Olga rates herself 2: the calibrated 4 is still a hidden strength, marked as changed.
    gaps = section(body, "gaps")
    assert "hidden strength" in gaps and 'data-testid="changed-mark"' in gaps
    assert 'data-testid="group-selection"' in body


def test_team_filter_narrows_the_people_not_the_flags(client, login_as, scene):
    org = scene.org
    body = page(client, login_as, org.hr, scene.url + f"?team={org.other_team.id}")
    people = section(body, "people")
    assert all(rep.name in people for rep in scene.otto)
    assert not any(rep.name in people for rep in scene.leo + scene.bea)
    assert 'data-testid="lenient-flag"' in row(body, f"leniency-{org.other_manager.id}")
    assert f"leniency-{org.lead.id}" not in body


@pytest.mark.parametrize("query, message", [
    ("?team=abc", "is not a team"),
    ("?manager=999999", "belongs to that manager"),
    ("?changed=yes", "is either on (1) or off"),
])
def test_a_bad_filter_is_named_and_ignored(client, login_as, scene, query, message):
    body = page(client, login_as, scene.org.hr, scene.url + query, status=400)
    assert message in section(body, "filter-error")
    assert all(rep.name in section(body, "people") for rep in scene.otto + scene.bea)


def test_a_manager_cannot_filter_on_someone_elses_manager(client, login_as, scene):
    org = scene.org
    body = page(client, login_as, org.lead, scene.url + f"?manager={org.other_manager.id}",
                status=400)
    assert org.other_manager.name not in body
    assert not any(rep.name in body for rep in scene.otto)


def test_divergence_lists_the_reconciliation_notes(client, login_as, scene):
    db.session.expire_all()
    divergent = [r for r in db.session.scalars(sa.select(Review).where(
        Review.cycle_id == scene.cycle.id, Review.state == ReviewState.CALIBRATION))
        if abs(r.quant_score - r.qual_score) >= 1.5]
    assert divergent, "the scene should have at least one divergent review"
    table = section(page(client, login_as, scene.org.hr, scene.url), "divergence")
    for review in divergent:
        assert f"RECONCILED for {review.rep.name}." in table
    assert table.count("<tr>") == len(divergent) + 1


def test_nine_box_counts_and_hides_small_averages(client, login_as, scene):
    db.session.expire_all()
    reviews = db.session.scalars(sa.select(Review).where(
        Review.cycle_id == scene.cycle.id, Review.state == ReviewState.CALIBRATION)).all()
    body = page(client, login_as, scene.org.hr, scene.url)
    cells: dict = {}
    for r in reviews:
        if r.potential is None:
            continue
        level = "low" if r.overall_score < 2.5 else "mid" if r.overall_score < 3.5 else "high"
        cells.setdefault((level, r.potential), []).append(r.overall_score)
    for (level, potential), scores in cells.items():
        cell = body[body.index(f'data-testid="box-{level}-{potential}"'):]
        cell = cell[:cell.index("</td>")]
        assert f'<span class="cal-count">{len(scores)}</span>' in cell
        if len(scores) >= 4:  # shown to two decimals (a sum's order may flip a .xx5)
            shown = float(re.search(r"mean (\d\.\d\d)", cell).group(1))
            assert shown == pytest.approx(np.mean(scores), abs=0.0051)
        else:
            assert "average hidden" in cell
    unrated = section(body, "unrated")
    assert all(rep.name in unrated for rep in scene.leo[-3:-1])


def test_page_has_no_inline_styles_and_charts_with_tables(client, login_as, scene):
    body = page(client, login_as, scene.org.hr, scene.url)
    assert "<svg" in body and body.count('role="img"') == 3
    assert inline_code(body) == []
    for testid in ("distributions", "leniency", "points"):
        assert f'data-testid="{testid}"' in body


def test_page_reads_its_reviews_in_a_fixed_number_of_statements(module_app, scene):
    statements = []

    def log(conn, cursor, statement, *args):
        statements.append(statement)

    for viewer in (scene.org.hr, scene.org.boss):
        db.session.expire_all()
        statements.clear()
        with module_app.test_request_context(scene.url):
            cycle = load_cycle(scene.cycle.id)
            sa.event.listen(db.engine, "before_cursor_execute", log)
            try:
                found = calibration_page(cycle, viewer, {})
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", log)
        assert len(found.people) >= 11
        # Reviews, their ratings, the drafts count, and the people below a manager: 21 reviews
        # with 5 ratings each, where one statement per review would be 21 or more.
        assert len(statements) <= 4, "\n".join(statements)
