"""Lists in pages: a manager with 65 reports sees the first page and the count of all, the next
page, a search and a sort, all in SQL; nobody reaches rows outside their scope through ?q=,
?sort= or ?page=; nonsense parameters still answer 200."""

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from reviewapp import policy
from reviewapp.auth.models import Role, User
from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.extensions import db
from reviewapp.metrics.periods import current_quarter
from reviewapp.pagination import Sort, read_request, search_clause
from reviewapp.reviews.models import Review, ReviewState
from tests.factories import create_team, create_user

N_REPS = 65
PAGE = 50
BAD_PARAMETERS = ["page=0", "page=-3", "page=abc", "page=99999", "size=0", "size=-1",
                  "size=100000", "size=x", "sort=password_hash", "sort=-", "sort=--name",
                  "q=%25", "q=_", "q=" + "x" * 500, "page=1.5&sort=;drop table users",
                  "cycle_id=7&user_id=3&endpoint=x", "_external=1&_scheme=javascript",
                  "page=2&page=3&sort=name&sort=-name"]


@pytest.fixture
def big_team(app):
    """HR; manager Lena with 65 reps (Rep 01 … Rep 65) in team Large; manager Otto with two
    reps of his own in team Small; a launched cycle over both teams."""
    app.config["PAGE_SIZE"] = PAGE
    hr = create_user(Role.HR_ADMIN, name="Hana HR", commit=False)
    lead = create_user(Role.MANAGER, name="Lena Lead", commit=False)
    other = create_user(Role.MANAGER, name="Otto Other", commit=False)
    large = create_team("Large", manager=lead, commit=False)
    small = create_team("Small", manager=other, commit=False)
    reps = [create_user(Role.REP, name=f"Rep {i:02d}", email=f"rep{i:02d}@big.test",
                        manager=lead, team=large, commit=False) for i in range(1, N_REPS + 1)]
    outsiders = [create_user(Role.REP, name=f"Zed Outsider {i}", email=f"zed{i}@small.test",
                             manager=other, team=small, commit=False) for i in (1, 2)]
    db.session.commit()
    today = date.today()
    cycle = save_cycle(hr, None, CycleDraft(
        name="Big cycle", period=current_quarter().label, self_due=today + timedelta(days=5),
        manager_due=today + timedelta(days=10), calibration_due=today + timedelta(days=15),
        acknowledgement_due=today + timedelta(days=20), team_ids=[large.id, small.id],
        competency_ids=[c.id for c in ensure_default_competencies()], kpis=[]))
    launch(hr, cycle)
    db.session.commit()
    return SimpleNamespace(hr=hr, lead=lead, other=other, reps=reps, outsiders=outsiders,
                           cycle=cycle)


def names_in(html: str, testid: str) -> list[str]:
    """The rep names listed in the table with the given data-testid, in order."""
    table = html.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    return list(dict.fromkeys(re.findall(r"(Rep \d\d|Zed Outsider \d)", table)))


def count_line(html: str) -> str:
    return re.sub(r"\s+", " ", html.split('data-testid="pager-count">', 1)[1].split("</p>")[0])


# The helper on its own ------------------------------------------------------------------------


def test_read_request_clamps_and_ignores_what_it_does_not_know(app):
    sorts = {"name": Sort.by(User.name), "team": Sort.by(User.team_id)}
    with app.test_request_context("/?page=-4&size=100000&sort=password_hash&q=%20a%20%20b%20"):
        asked = read_request(sorts, "name")
    assert (asked.page, asked.size, asked.sort, asked.descending, asked.q) == (
        1, 200, "name", False, "a b")
    with app.test_request_context("/?page=3&size=abc&sort=-team"):
        asked = read_request(sorts, "name")
    assert (asked.page, asked.size, asked.sort, asked.descending) == (3, 50, "team", True)


def test_pager_links_keep_the_filters_but_not_what_url_for_would_obey(client, login_as,
                                                                     big_team):
    login_as(big_team.hr)
    html = client.get(f"/cycles/{big_team.cycle.id}?_external=1&_scheme=javascript"
                      f"&cycle_id=7&state=self_review&q=rep").get_data(as_text=True)
    links = re.findall(r'href="([^"]*page=2[^"]*)"', html)
    assert links and all(link.startswith(f"/cycles/{big_team.cycle.id}?") for link in links)
    assert all("state=self_review" in link and "q=rep" in link and "_external" not in link
               for link in links)


def test_search_treats_percent_and_underscore_as_letters(app, big_team):
    def matching(q):
        return sorted(db.session.scalars(sa.select(User.name).where(
            search_clause(q, [User.name, User.email]))))

    assert matching("%") == []
    assert matching("_") == ["Hana HR"]  # hr_admin1@example.test, not everyone
    assert matching("REP06@") == ["Rep 06"]  # case-insensitive, in the email
    assert matching("zed small") == ["Zed Outsider 1", "Zed Outsider 2"]  # each word somewhere


def test_sql_visibility_clauses_answer_as_the_can_view_functions(app, big_team):
    people = db.session.scalars(sa.select(User)).all()
    reviews = db.session.scalars(sa.select(Review)).all()
    for actor in (big_team.hr, big_team.lead, big_team.other, big_team.reps[0]):
        seen = set(db.session.scalars(
            sa.select(User.id).where(policy.visible_people_clause(actor))))
        assert seen == {u.id for u in people if policy.can_view_user(actor, u)}
        seen = set(db.session.scalars(
            sa.select(Review.id).where(policy.visible_reviews_clause(actor))))
        assert seen == {r.id for r in reviews if policy.can_view_review(actor, r)}


# The cycle page -------------------------------------------------------------------------------


def test_cycle_page_shows_a_page_of_reviews_and_the_counts_of_all(client, login_as, big_team):
    login_as(big_team.hr)
    url = f"/cycles/{big_team.cycle.id}"
    html = client.get(url).get_data(as_text=True)
    names = names_in(html, "progress")
    assert names == [f"Rep {i:02d}" for i in range(1, PAGE + 1)]
    assert count_line(html).startswith(f"Showing 1–{PAGE} of {N_REPS + 2} reviews")
    assert f"All ({N_REPS + 2})" in html and f"Self-assessment ({N_REPS + 2})" in html
    assert 'aria-label="Pages of reviews"' in html and 'aria-current="page"' in html

    html = client.get(f"{url}?page=2").get_data(as_text=True)
    assert names_in(html, "progress") == [f"Rep {i:02d}" for i in range(PAGE + 1, N_REPS + 1)] + [
        "Zed Outsider 1", "Zed Outsider 2"]
    assert count_line(html).startswith(f"Showing {PAGE + 1}–{N_REPS + 2} of {N_REPS + 2}")

    html = client.get(f"{url}?q=zed").get_data(as_text=True)
    assert names_in(html, "progress") == ["Zed Outsider 1", "Zed Outsider 2"]
    html = client.get(f"{url}?q=otto").get_data(as_text=True)  # the reviewing manager
    assert names_in(html, "progress") == ["Zed Outsider 1", "Zed Outsider 2"]

    html = client.get(f"{url}?sort=-rep").get_data(as_text=True)
    assert names_in(html, "progress")[:3] == ["Zed Outsider 2", "Zed Outsider 1", "Rep 65"]
    assert 'aria-sort="descending"' in html


def test_cycle_state_filter_and_summary_count_the_whole_scope(client, login_as, big_team):
    first = db.session.scalar(sa.select(Review).where(Review.rep_id == big_team.reps[0].id))
    first.state, first.self_submitted_at = ReviewState.MANAGER_REVIEW, first.created_at
    db.session.commit()
    login_as(big_team.hr)
    html = client.get(f"/cycles/{big_team.cycle.id}?state=manager_review").get_data(
        as_text=True)
    assert names_in(html, "progress") == ["Rep 01"]
    assert "Manager review (1)" in html and f"Self-assessment ({N_REPS + 1})" in html


def test_a_manager_pages_through_their_own_reviews_only(client, login_as, big_team):
    login_as(big_team.other)
    url = f"/cycles/{big_team.cycle.id}"
    for query in ("", "?q=rep", "?q=lena", "?sort=-rep", "?page=2", "?page=99",
                  "?sort=manager&q=0"):
        html = client.get(url + query).get_data(as_text=True)
        assert not [n for n in names_in(html, "progress") if n.startswith("Rep")], query
    html = client.get(url).get_data(as_text=True)
    assert names_in(html, "progress") == ["Zed Outsider 1", "Zed Outsider 2"]
    assert "of 2 reviews" in count_line(html) and f"({N_REPS}" not in html


def test_cycle_page_answers_bad_parameters(client, login_as, big_team):
    login_as(big_team.hr)
    answers = {q: client.get(f"/cycles/{big_team.cycle.id}?{q}").status_code
               for q in BAD_PARAMETERS}
    assert set(answers.values()) == {200}, answers


# People: the manager dashboard, the People page, HR's accounts list ---------------------------


@pytest.mark.parametrize("url,testid", [("/dashboard", "my-people"), ("/people", "people")])
def test_a_manager_with_65_reports_sees_a_page_and_the_count_of_all(client, login_as,
                                                                    big_team, url, testid):
    login_as(big_team.lead)
    html = client.get(url).get_data(as_text=True)
    assert names_in(html, testid) == [f"Rep {i:02d}" for i in range(1, PAGE + 1)]
    assert count_line(html).startswith(f"Showing 1–{PAGE} of {N_REPS} people")
    assert f"{N_REPS} sales reps" in html

    html = client.get(f"{url}?page=2").get_data(as_text=True)
    assert names_in(html, testid) == [f"Rep {i:02d}" for i in range(PAGE + 1, N_REPS + 1)]

    html = client.get(f"{url}?q=rep06%40").get_data(as_text=True)
    assert names_in(html, testid) == ["Rep 06"]
    assert count_line(html).startswith("Showing 1–1 of 1 people matching “rep06@”")
    assert f"{N_REPS} sales reps" in html  # the summary counts the whole scope, not the search

    html = client.get(f"{url}?sort=-name").get_data(as_text=True)
    assert names_in(html, testid)[:2] == ["Rep 65", "Rep 64"]
    assert 'aria-sort="descending"' in html and 'aria-label="Pages of' in html


@pytest.mark.parametrize("url,testid", [("/dashboard", "my-people"), ("/people", "people")])
def test_another_manager_never_reaches_those_reports(client, login_as, big_team, url, testid):
    login_as(big_team.other)
    for query in ("", "?q=rep", "?q=lena", "?q=large", "?sort=-team", "?sort=manager",
                  "?page=2", "?page=999", "?size=200&sort=email"):
        html = client.get(url + query).get_data(as_text=True)
        assert not [n for n in names_in(html, testid) if n.startswith("Rep")], query
        assert f"{N_REPS}" not in count_line(html), query
    html = client.get(url).get_data(as_text=True)
    assert names_in(html, testid) == ["Zed Outsider 1", "Zed Outsider 2"]


def test_a_rep_has_no_people_list_and_a_dashboard_of_their_own(client, login_as, big_team):
    login_as(big_team.reps[0])
    assert client.get("/people?q=rep&sort=-name").status_code == 403
    html = client.get("/dashboard?q=rep&page=2&sort=-name").get_data(as_text=True)
    assert "Rep 02" not in html


def test_hr_pages_through_everyone_with_the_filters_kept(client, login_as, big_team):
    login_as(big_team.hr)
    html = client.get("/admin/users?role=rep").get_data(as_text=True)
    assert count_line(html).startswith(f"Showing 1–{PAGE} of {N_REPS + 2} people")
    assert "/admin/users?role=rep&amp;page=2" in html  # the pager keeps the filter
    html = client.get("/admin/users?role=rep&page=2").get_data(as_text=True)
    assert names_in(html, "users") == [f"Rep {i:02d}" for i in range(PAGE + 1, N_REPS + 1)] + [
        "Zed Outsider 1", "Zed Outsider 2"]
    html = client.get("/admin/users?q=zed&sort=-name").get_data(as_text=True)
    assert names_in(html, "users") == ["Zed Outsider 2", "Zed Outsider 1"]
    assert f"{N_REPS + 2} sales reps" in html  # the summary: everyone, not the search


@pytest.mark.parametrize("url", ["/dashboard", "/people", "/admin/users"])
def test_people_lists_answer_bad_parameters(client, login_as, big_team, url):
    login_as(big_team.hr if url.startswith("/admin") else big_team.lead)
    answers = {q: client.get(f"{url}?{q}").status_code for q in BAD_PARAMETERS}
    assert set(answers.values()) == {200}, answers


# Team metrics ---------------------------------------------------------------------------------


@pytest.fixture
def calls_data(big_team):
    """Calls in the current quarter's first month: Rep NN made NN calls; the outsiders none."""
    from reviewapp.metrics.catalogue import add_metric
    from reviewapp.metrics.importer import apply_import, prepare_import

    add_metric(None, key="calls", name="Calls", kind="activity", direction="higher",
               rollup="sum")
    start = current_quarter().start
    lines = ["rep_email,period,metric,value"] + [
        f"{rep.email},{start.year}-{start.month:02d},calls,{i}"
        for i, rep in enumerate(big_team.reps, start=1)]
    plan = prepare_import(big_team.hr, ("\n".join(lines) + "\n").encode(), "calls.csv",
                          source="cli")
    assert plan.ok, plan.errors[:3]
    apply_import(big_team.hr, plan)
    db.session.commit()
    return big_team


def test_team_metrics_pages_and_sorts_by_a_metric_in_sql(client, login_as, calls_data):
    login_as(calls_data.lead)
    html = client.get("/metrics/team").get_data(as_text=True)
    assert names_in(html, "team-metrics") == [f"Rep {i:02d}" for i in range(1, PAGE + 1)]
    assert count_line(html).startswith(f"Showing 1–{PAGE} of {N_REPS} reps")

    html = client.get("/metrics/team?sort=calls&dir=desc").get_data(as_text=True)
    assert names_in(html, "team-metrics")[:3] == ["Rep 65", "Rep 64", "Rep 63"]
    html = client.get("/metrics/team?sort=calls&dir=desc&page=2").get_data(as_text=True)
    assert names_in(html, "team-metrics") == [f"Rep {i:02d}" for i in range(15, 0, -1)]
    html = client.get("/metrics/team?q=rep07%40").get_data(as_text=True)
    assert names_in(html, "team-metrics") == ["Rep 07"]

    csv = client.get("/metrics/team?sort=calls&dir=desc&format=csv").get_data(as_text=True)
    assert len(csv.splitlines()) == N_REPS + 1  # a download holds everyone, not one page
    assert csv.splitlines()[1].startswith("rep65@big.test,Rep 65,")


def test_team_metrics_of_another_manager_stay_in_their_scope(client, login_as, calls_data):
    login_as(calls_data.hr)
    html = client.get("/metrics/team?sort=calls&dir=desc").get_data(as_text=True)
    assert f"of {N_REPS + 2} reps" in count_line(html)
    hr_sorted = names_in(html, "team-metrics")
    assert hr_sorted[0] == "Rep 65"  # reps without a value go last, even highest-first
    login_as(calls_data.other)
    for query in ("", "?sort=calls&dir=desc", "?q=rep", "?page=2", "?sort=-name&page=9"):
        html = client.get("/metrics/team" + query).get_data(as_text=True)
        assert names_in(html, "team-metrics") in ([], ["Zed Outsider 1", "Zed Outsider 2"],
                                                  ["Zed Outsider 2", "Zed Outsider 1"]), query
        assert "Rep 0" not in html, query
    answers = {q: client.get(f"/metrics/team?{q}").status_code for q in BAD_PARAMETERS}
    assert set(answers.values()) == {200}, answers


# The goal tree --------------------------------------------------------------------------------


@pytest.fixture
def goals(big_team):
    """A team goal for Large with Rep 01's goal aligned under it; every other rep of Lena's
    and both outsiders have a goal of their own, aligned to nothing."""
    from reviewapp.goals.services import GoalDraft, create_goal

    quarter = current_quarter().label
    team_goal, _ = create_goal(big_team.lead, GoalDraft(
        scope="team", title="Large grows", kind="percent", team_id=big_team.reps[0].team_id,
        quarter=quarter))
    for i, rep in enumerate(big_team.reps, start=1):
        create_goal(big_team.lead, GoalDraft(
            scope="individual", title=f"Goal of Rep {i:02d}", kind="percent", owner_id=rep.id,
            quarter=quarter, parent_id=team_goal.id if i == 1 else None))
    for i, rep in enumerate(big_team.outsiders, start=1):
        create_goal(big_team.other, GoalDraft(
            scope="individual", title=f"Goal of Zed Outsider {i}", kind="percent",
            owner_id=rep.id, quarter=quarter))
    db.session.commit()
    return big_team


def tree_names(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"Goal of (Rep \d\d|Zed Outsider \d)", html)))


def test_goal_tree_pages_its_top_level_goals(client, login_as, goals):
    login_as(goals.hr)
    html = client.get("/goals/tree").get_data(as_text=True)
    # Page 1: the team goal (with Rep 01's goal under it) and the first 49 loose goals.
    assert "Large grows" in html
    assert tree_names(html) == [f"Rep {i:02d}" for i in range(1, PAGE + 1)]
    assert count_line(html).startswith(f"Showing 1–{PAGE} of {N_REPS + 2} top-level goals")
    summary = html.split('data-testid="tree-summary"')[1].split("</ul>")[0]
    assert "<strong>1</strong> team goal" in summary
    assert f"<strong>{N_REPS + 2}</strong> individual goals" in summary

    html = client.get("/goals/tree?page=2").get_data(as_text=True)
    assert "Large grows" not in html and "No team goals" not in html
    assert tree_names(html) == [f"Rep {i:02d}" for i in range(PAGE + 1, N_REPS + 1)] + [
        "Zed Outsider 1", "Zed Outsider 2"]

    html = client.get("/goals/tree?q=large").get_data(as_text=True)  # the team's name
    assert "Large grows" in html and tree_names(html) == ["Rep 01"]
    html = client.get("/goals/tree?sort=-title").get_data(as_text=True)
    loose = html.split('data-testid="tree-unaligned"')[1]  # team goals keep their own section
    assert tree_names(loose)[:3] == ["Zed Outsider 2", "Zed Outsider 1", "Rep 65"]


def test_goal_tree_keeps_to_the_viewers_scope(client, login_as, goals):
    login_as(goals.other)
    for query in ("", "?q=rep", "?q=large", "?sort=-title", "?page=2", "?page=500"):
        html = client.get("/goals/tree" + query).get_data(as_text=True)
        assert "Large grows" not in html, query
        assert not [n for n in tree_names(html) if n.startswith("Rep")], query
    html = client.get("/goals/tree").get_data(as_text=True)
    assert count_line(html).startswith("Showing 1–2 of 2 top-level goals")
    login_as(goals.reps[1])
    html = client.get("/goals/tree?sort=-title").get_data(as_text=True)
    assert tree_names(html) == ["Rep 02"] and "Large grows" in html  # their team's goal
    html = client.get("/goals/tree?q=rep").get_data(as_text=True)  # Rep 01's is not theirs
    assert tree_names(html) == ["Rep 02"] and "Large grows" not in html
    answers = {q: client.get(f"/goals/tree?{q}").status_code for q in BAD_PARAMETERS}
    assert set(answers.values()) == {200}, answers


def test_managed_goals_clause_answers_as_can_manage_goal(app, goals):
    from reviewapp.goals.models import Goal

    every = db.session.scalars(sa.select(Goal)).all()
    for actor in (goals.hr, goals.lead, goals.other, goals.reps[0]):
        managed = set(db.session.scalars(
            sa.select(Goal.id).where(policy.managed_goals_clause(actor))))
        assert managed == {g.id for g in every if policy.can_manage_goal(actor, g)}


def test_the_dashboard_counts_proposals_waiting_for_the_manager(client, login_as, goals):
    from reviewapp.goals.models import Goal, GoalState

    for goal in db.session.scalars(sa.select(Goal).where(Goal.title.like("Goal of Rep 0%"))):
        goal.state = GoalState.PROPOSED
    db.session.commit()
    login_as(goals.lead)
    assert "9 proposed goals</a> waiting" in client.get("/dashboard").get_data(as_text=True)
    login_as(goals.other)
    assert "proposed goal" not in client.get("/dashboard").get_data(as_text=True)


def test_the_to_do_list_counts_many_reviews_instead_of_naming_each(client, login_as, big_team):
    for review in db.session.scalars(sa.select(Review)):
        review.state, review.self_submitted_at = ReviewState.MANAGER_REVIEW, review.created_at
    db.session.commit()
    login_as(big_team.lead)
    html = client.get("/dashboard").get_data(as_text=True)
    tasks = html.split('data-testid="review-tasks"')[1].split("</section>")[0]
    assert f"Write {N_REPS} reviews (Big cycle)" in tasks and "Review Rep 01" not in tasks
    assert f"/cycles/{big_team.cycle.id}?state=manager_review" in tasks
    login_as(big_team.other)  # two reviews: named one by one, as before
    tasks = client.get("/dashboard").get_data(as_text=True).split(
        'data-testid="review-tasks"')[1].split("</section>")[0]
    assert "Review Zed Outsider 1" in tasks and "Review Zed Outsider 2" in tasks
    assert "Write 2 reviews" not in tasks


def test_goals_list_pages_searches_and_sorts_within_scope(client, login_as, goals):
    login_as(goals.lead)
    html = client.get("/goals/").get_data(as_text=True)
    table = html.split('data-testid="goals"')[1]
    assert table.index("Large grows") < table.index("Goal of Rep 01")  # team goals first
    assert tree_names(table) == [f"Rep {i:02d}" for i in range(1, PAGE)]
    assert count_line(html).startswith(f"Showing 1–{PAGE} of {N_REPS + 1} goals")
    html = client.get("/goals/?page=2").get_data(as_text=True)
    assert tree_names(html.split('data-testid="goals"')[1]) == [
        f"Rep {i:02d}" for i in range(PAGE, N_REPS + 1)]
    html = client.get("/goals/?q=rep%2007").get_data(as_text=True)
    assert tree_names(html.split('data-testid="goals"')[1]) == ["Rep 07"]
    html = client.get("/goals/?sort=-title").get_data(as_text=True)
    assert tree_names(html.split('data-testid="goals"')[1])[:2] == ["Rep 65", "Rep 64"]

    login_as(goals.other)
    for query in ("", "?q=rep", "?q=large", "?sort=-owner", "?page=2", "?state=active&page=9"):
        html = client.get("/goals/" + query).get_data(as_text=True)
        assert "Large grows" not in html and "Goal of Rep" not in html, query
    answers = {q: client.get(f"/goals/?{q}").status_code for q in BAD_PARAMETERS}
    assert set(answers.values()) == {200}, answers


def test_hr_dashboard_counts_team_members_in_the_database(client, login_as, big_team):
    login_as(big_team.hr)
    html = client.get("/dashboard").get_data(as_text=True)
    assert f"<tr><td>Large</td><td>Lena Lead</td><td>{N_REPS}</td></tr>" in html
    assert "<tr><td>Small</td><td>Otto Other</td><td>2</td></tr>" in html


@pytest.fixture
def aligned(big_team):
    """A team goal for Large with all 65 reps' goals aligned under it; Reps 50–54 flagged
    at risk by Lena."""
    from reviewapp.goals.models import GoalStatus
    from reviewapp.goals.services import GoalDraft, create_goal

    quarter = current_quarter().label
    team_goal, _ = create_goal(big_team.lead, GoalDraft(
        scope="team", title="Large grows", kind="percent", team_id=big_team.reps[0].team_id,
        quarter=quarter))
    for i, rep in enumerate(big_team.reps, start=1):
        goal, _ = create_goal(big_team.lead, GoalDraft(
            scope="individual", title=f"Goal of Rep {i:02d}", kind="percent", owner_id=rep.id,
            quarter=quarter, parent_id=team_goal.id))
        goal.manual_percent = 100.0
        if 50 <= i <= 54:
            goal.status_override, goal.status_note = GoalStatus.AT_RISK, "Slipping"
    db.session.commit()
    big_team.team_goal = team_goal
    return big_team


def test_goal_tree_folds_aligned_goals_beyond_the_first_25(client, login_as, aligned):
    from reviewapp.goals.queries import CHILDREN_SHOWN

    login_as(aligned.lead)
    html = client.get("/goals/tree").get_data(as_text=True)
    assert tree_names(html) == [f"Rep {i:02d}" for i in range(1, CHILDREN_SHOWN + 1)]
    folded = html.split('data-testid="tree-folded"')[1].split("</tr>")[0]
    assert f"{N_REPS - CHILDREN_SHOWN} more aligned goals" in folded
    assert "(5 at risk or off track)" in folded
    assert f"/goals/?parent={aligned.team_goal.id}" in folded.replace("&amp;", "&")
    # The roll-up still counts every aligned goal, the folded ones included.
    assert f"{N_REPS} aligned" in html and "100%" in html.split('data-testid="tree-team-goal"')[1]


def test_goals_list_shows_the_goals_aligned_to_one_goal(client, login_as, aligned):
    login_as(aligned.lead)
    html = client.get(f"/goals/?parent={aligned.team_goal.id}&period=all").get_data(as_text=True)
    assert "Goals aligned to “Large grows”" in html
    filters = html.split('class="filters"')[1].split("</form>")[0]  # "Show" keeps the parent
    assert f'<input type="hidden" name="parent" value="{aligned.team_goal.id}">' in filters
    table = html.split('data-testid="goals"')[1]
    assert tree_names(table) == [f"Rep {i:02d}" for i in range(1, PAGE + 1)]
    assert f'href="/goals/{aligned.team_goal.id}"' not in table  # the parent is not listed
    assert count_line(html).startswith(f"Showing 1–{PAGE} of {N_REPS} goals")
    assert client.get("/goals/?parent=999999").status_code == 404
    login_as(aligned.other)  # not his goal, nor his people's
    assert client.get(f"/goals/?parent={aligned.team_goal.id}").status_code == 404
    login_as(aligned.outsiders[0])
    assert client.get(f"/goals/?parent={aligned.team_goal.id}").status_code == 404


def test_the_dashboard_counts_every_goal_at_risk_and_lists_the_first(client, login_as, aligned):
    login_as(aligned.lead)
    html = client.get("/dashboard").get_data(as_text=True)
    for i in range(50, 55):
        assert f"Goal of Rep {i}" in html
    assert "Goal of Rep 49" not in html
    login_as(aligned.other)
    assert "Goal of Rep" not in client.get("/dashboard").get_data(as_text=True)


@pytest.mark.parametrize("typed", ["åsa", "ÅSA", "Åsa Öberg", "öberg"])
def test_search_finds_names_with_capitals_beyond_ascii(app, big_team, typed):
    """SQLite's lower() folds only A-Z: 'Åsa', 'Öberg', 'Émile' found nobody, even typed
    exactly as stored."""
    person = create_user(Role.REP, name="Åsa Öberg", email="asa.oberg@example.com",
                         commit=True)
    found = db.session.scalars(sa.select(User).where(
        search_clause(typed, [User.name, User.email]))).all()
    assert [u.id for u in found] == [person.id]
