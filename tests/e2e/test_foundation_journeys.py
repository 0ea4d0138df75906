"""First journeys: HR adds a user; a manager sees exactly their people; reps stay in their lane."""

from playwright.sync_api import expect

from reviewapp.auth.models import User


def test_hr_logs_in_and_creates_a_user(page, browser_login, org, db):
    browser_login(org.hr)
    page.get_by_role("link", name="People", exact=True).click()
    page.get_by_role("link", name="Add a user").click()
    page.get_by_label("Email").fill("nina.new@example.test")
    page.get_by_label("Name").fill("Nina New")
    page.get_by_label("Role").select_option("rep")
    page.get_by_label("Manager").select_option(label=f"{org.lead.name} ({org.lead.email})")
    page.get_by_label("Team").select_option(label="Alpha")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_test_id("set-password-link")).to_have_value(
        __import__("re").compile(r"/auth/set-password/"))
    link = page.get_by_test_id("set-password-link").input_value()
    db.session.expire_all()
    nina = db.session.scalar(db.select(User).where(User.email == "nina.new@example.test"))
    assert nina is not None and nina.manager_id == org.lead.id

    # The new person sets a password through the one-time link and logs in.
    page.get_by_role("button", name="Log out").click()
    page.goto(link)
    page.get_by_label("New password").fill("nina-secret-pass")
    page.get_by_label("Repeat password").fill("nina-secret-pass")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("Your password is set.")).to_be_visible()
    page.get_by_label("Email").fill("nina.new@example.test")
    page.get_by_label("Password").fill("nina-secret-pass")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Hello, Nina New")).to_be_visible()


def test_manager_sees_exactly_their_people(page, browser_login, org):
    browser_login(org.lead)
    table = page.get_by_test_id("my-people")
    expect(table).to_contain_text("Rita Rep")
    expect(table).to_contain_text("Ravi Rep")
    expect(table).not_to_contain_text("Bob Direct")
    expect(table).not_to_contain_text("Olga Outsider")
    expect(page.get_by_role("link", name="Users", exact=True)).to_have_count(0)


def test_rep_cannot_open_another_reps_page(page, browser_login, org):
    browser_login(org.rep)
    response = page.goto(f"/people/{org.rep2.id}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert "Ravi" not in page.content()
    response = page.goto("/admin/users")
    assert response.status == 403
