"""HR user administration: create, edit, deactivate, reporting lines, teams."""

from reviewapp.audit.models import AuditEvent
from reviewapp.auth.models import Role, Team, User


def count(db, model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_hr_creates_user_and_gets_one_time_link(client, org, login_as, db):
    login_as(org.hr)
    response = client.post("/admin/users/new", data={
        "email": " New.Person@Example.TEST ", "name": "New Person", "role": "rep",
        "manager": org.lead.id, "team": org.team.id})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "/auth/set-password/" in body
    user = db.session.scalar(db.select(User).where(User.email == "new.person@example.test"))
    assert user.manager_id == org.lead.id and user.password_hash is None
    assert db.session.scalar(db.select(AuditEvent).where(
        AuditEvent.action == "user.create", AuditEvent.entity_id == user.id)) is not None


def test_duplicate_email_any_case_rerenders_with_field_error(client, org, login_as, db):
    login_as(org.hr)
    before = count(db, User)
    response = client.post("/admin/users/new", data={
        "email": org.rep.email.upper(), "name": "Dup", "role": "rep", "manager": 0, "team": 0})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"A user with email {org.rep.email} already exists." in body
    assert 'aria-invalid="true"' in body
    assert count(db, User) == before


def test_invalid_email_and_missing_name(client, org, login_as, db):
    login_as(org.hr)
    before = count(db, User)
    body = client.post("/admin/users/new", data={
        "email": "not-an-email", "name": "", "role": "rep", "manager": 0, "team": 0,
    }).get_data(as_text=True)
    assert "This field is required." in body
    assert count(db, User) == before


def test_reporting_line_cycle_is_refused(client, org, login_as, db):
    login_as(org.hr)
    # boss -> lead already; making lead the boss's manager would form a loop.
    response = client.post(f"/admin/users/{org.boss.id}/edit", data={
        "email": org.boss.email, "name": org.boss.name, "role": "manager",
        "manager": org.lead.id, "team": 0, "active": "y"})
    assert response.status_code == 200
    assert "would form a loop" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, org.boss.id).manager_id is None


def test_rep_cannot_be_a_manager(client, org, login_as, db):
    login_as(org.hr)
    body = client.post("/admin/users/new", data={
        "email": "x@example.test", "name": "X", "role": "rep", "manager": org.rep.id,
        "team": 0}).get_data(as_text=True)
    # reps are not even offered as managers
    assert "Not a valid choice" in body or "cannot manage" in body


def test_edit_user_is_audited_with_before_and_after(client, org, login_as, db):
    login_as(org.hr)
    response = client.post(f"/admin/users/{org.rep.id}/edit", data={
        "email": org.rep.email, "name": "Rita Renamed", "role": "rep", "manager": org.boss.id,
        "team": org.team.id, "active": "y"})
    assert response.status_code == 302
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert event.before["name"] == "Rita Rep" and event.after["name"] == "Rita Renamed"
    assert event.after["manager_id"] == org.boss.id


def test_deactivate_and_reactivate(client, org, login_as, db):
    login_as(org.hr)
    client.post(f"/admin/users/{org.rep.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert db.session.get(User, org.rep.id).active is False
    client.get("/admin/users")  # consumes the flash message that names her
    assert org.rep.name not in client.get("/admin/users").get_data(as_text=True)
    assert org.rep.name in client.get("/admin/users?status=inactive").get_data(as_text=True)
    client.post(f"/admin/users/{org.rep.id}/active", data={"active": "1"})
    db.session.expire_all()
    assert db.session.get(User, org.rep.id).active is True


def test_hr_cannot_deactivate_self(client, org, login_as, db):
    login_as(org.hr)
    client.post(f"/admin/users/{org.hr.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert db.session.get(User, org.hr.id).active is True


def test_search_and_filter(client, org, login_as):
    login_as(org.hr)
    body = client.get("/admin/users?q=rita").get_data(as_text=True)
    assert "Rita Rep" in body and "Ravi Rep" not in body
    body = client.get("/admin/users?role=manager").get_data(as_text=True)
    assert "Leo Lead" in body and "Rita Rep" not in body
    body = client.get(f"/admin/users?team={org.other_team.id}").get_data(as_text=True)
    assert "Olga Outsider" in body and "Rita Rep" not in body


def test_teams_create_duplicate_and_edit(client, org, login_as, db):
    login_as(org.hr)
    assert client.post("/admin/teams", data={"name": "Gamma", "manager": org.lead.id}
                       ).status_code == 302
    body = client.post("/admin/teams", data={"name": "gamma", "manager": 0}
                       ).get_data(as_text=True)
    assert "A team called gamma already exists." in body
    gamma = db.session.scalar(db.select(Team).where(Team.name == "Gamma"))
    client.post(f"/admin/teams/{gamma.id}/edit", data={"name": "Gamma East",
                                                      "manager": org.boss.id})
    db.session.expire_all()
    assert db.session.get(Team, gamma.id).name == "Gamma East"
    assert db.session.get(Team, gamma.id).manager_id == org.boss.id


def test_regenerated_link(client, org, login_as):
    login_as(org.hr)
    body = client.post(f"/admin/users/{org.rep.id}/set-password-link").get_data(as_text=True)
    assert "/auth/set-password/" in body


def test_role_values_are_checked_by_the_database(app, db, org):
    import pytest
    import sqlalchemy as sa
    from sqlalchemy.exc import IntegrityError, StatementError

    with pytest.raises((IntegrityError, StatementError)):
        db.session.execute(sa.text("UPDATE users SET role = 'boss' WHERE id = :id"),
                           {"id": org.rep.id})
        db.session.flush()
    db.session.rollback()
    assert Role(db.session.get(User, org.rep.id).role) == Role.REP


def test_a_create_that_loses_a_race_for_its_name_is_a_conflict_not_a_crash(client, org,
                                                                           login_as, db):
    """Double-clicked, both requests found the name free and the second's insert hit the
    unique constraint: a 500 page. Here the other request's row lands between this one's
    check and its insert, as it does in the race."""
    import sqlalchemy as sa

    def the_other_request_wins(session, flush_context, instances):
        if any(isinstance(o, Team) and o.name == "Delta" for o in session.new):
            session.connection().execute(sa.text(
                "INSERT INTO teams (name, created_at) VALUES ('Delta', CURRENT_TIMESTAMP)"))

    login_as(org.hr)
    sa.event.listen(db.session, "before_flush", the_other_request_wins)
    try:
        response = client.post("/admin/teams", data={"name": "Delta", "manager": 0})
    finally:
        sa.event.remove(db.session, "before_flush", the_other_request_wins)
    assert response.status_code in (200, 409, 422)
    assert "saved a moment ago" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Team).where(
        Team.name == "Delta")) == 0  # this request's transaction wrote nothing


def test_a_stale_edit_form_does_not_put_a_persons_old_team_and_manager_back(client, org,
                                                                            login_as, db):
    """HR moved Rita to Omega under Otto in one tab; a tab opened before, used to fix her
    name, put her back in Alpha under Leo: who sees whom changed without anyone meaning it."""
    import re

    login_as(org.hr)
    url = f"/admin/users/{org.rep.id}/edit"
    stale = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', stale).group(1)
    form = {"email": org.rep.email, "name": org.rep.name, "role": "rep", "active": "y"}
    moved = client.post(url, data={**form, "manager": org.other_manager.id,
                                   "team": org.other_team.id, "version": version})
    assert moved.status_code == 302
    renamed = client.post(url, data={**form, "name": "Rita Renamed",
                                     "manager": org.lead.id, "team": org.team.id,
                                     "version": version})
    assert renamed.status_code == 409
    page = renamed.get_data(as_text=True)
    assert "Someone changed this person after you opened the form" in page
    assert 'value="Rita Renamed"' in page
    db.session.expire_all()
    rita = db.session.get(User, org.rep.id)
    assert (rita.name, rita.manager_id, rita.team_id) == (
        "Rita Rep", org.other_manager.id, org.other_team.id)
    again = client.post(url, data={**form, "name": "Rita Renamed", "manager":
                                   org.other_manager.id, "team": org.other_team.id,
                                   "version": re.search(r'name="version" value="(\d+)"',
                                                        page).group(1)})
    assert again.status_code == 302


def test_team_member_counts_are_of_the_people_still_here(client, org, login_as, db):
    """The Teams page and HR's dashboard counted deactivated people: 200 where People, which
    lists the active ones, showed 197."""
    import re

    login_as(org.hr)

    def counts(url):
        body = client.get(url).get_data(as_text=True)
        return re.search(rf"<td>{org.team.name}</td><td>[^<]*</td><td>(\d+)</td>", body).group(1)

    before = int(counts("/admin/teams"))
    assert int(counts("/dashboard")) == before
    client.post(f"/admin/users/{org.rep.id}/active", data={"active": "0"})
    assert int(counts("/admin/teams")) == before - 1
    assert int(counts("/dashboard")) == before - 1


def test_a_team_name_with_doubled_spaces_is_the_same_team(client, org, login_as, db):
    login_as(org.hr)
    assert client.post("/admin/teams", data={"name": "Team North", "manager": "0"}
                       ).status_code == 302
    response = client.post("/admin/teams", data={"name": "Team  North", "manager": "0"})
    assert "already exists" in response.get_data(as_text=True)
