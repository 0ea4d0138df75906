"""More of what a new customer meets in the first hour: HR has one list of people, not two;
the cycle editor's extra people are a checkbox list; units in team metrics; one "Whose goal";
metric names, not keys, in the KPI runs list."""

import re


def _nav(page: str) -> str:
    return re.search(r"<nav.*?</nav>", page, re.S).group(0)


def test_hr_has_one_people_list_with_the_accounts(client, org, login_as):
    login_as(org.hr)
    nav = _nav(client.get("/dashboard").get_data(as_text=True))
    assert re.search(r'href="/admin/users"[^>]*>People</a>', nav)
    assert ">Users</a>" not in nav and 'href="/people"' not in nav
    response = client.get("/people")  # the old address still leads to the list
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    page = client.get("/admin/users").get_data(as_text=True)
    assert "<h1>People</h1>" in page
    intro = re.search(r'data-testid="people-intro">(.*?)</p>', page, re.S).group(1)
    assert "sign-in account" in intro and "who reports to whom" in intro
    assert org.outsider.name in page and "Set-password link" in page


def test_a_manager_people_list_says_whose_it_is(client, org, login_as):
    login_as(org.boss)
    nav = _nav(client.get("/dashboard").get_data(as_text=True))
    assert re.search(r'href="/people"[^>]*>People</a>', nav) and "/admin/users" not in nav
    page = client.get("/people").get_data(as_text=True)
    intro = re.search(r'data-testid="people-intro">(.*?)</p>', page, re.S).group(1)
    assert "report to you" in intro
    assert org.rep.name in page and org.outsider.name not in page
    assert client.get("/admin/users").status_code == 403
