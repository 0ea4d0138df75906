"""The access policy: scope of managers, reps and HR."""

from reviewapp import policy
from reviewapp.auth.scope import subordinate_ids


def test_manager_scope_is_transitive(org):
    assert subordinate_ids(org.boss.id) == {org.lead.id, org.rep.id, org.rep2.id,
                                            org.boss_rep.id}
    assert subordinate_ids(org.lead.id) == {org.rep.id, org.rep2.id}
    assert subordinate_ids(org.rep.id) == frozenset()


def test_can_view_user(org):
    assert policy.can_view_user(org.rep, org.rep)
    assert not policy.can_view_user(org.rep, org.rep2)
    assert policy.can_view_user(org.lead, org.rep)
    assert policy.can_view_user(org.boss, org.rep)
    assert not policy.can_view_user(org.lead, org.boss_rep)
    assert not policy.can_view_user(org.other_manager, org.rep)
    assert policy.can_view_user(org.hr, org.outsider)


def test_manager_sees_exactly_their_people(client, org, login_as):
    login_as(org.lead)
    body = client.get("/dashboard").get_data(as_text=True)
    assert "Rita Rep" in body and "Ravi Rep" in body
    assert "Bob Direct" not in body and "Olga Outsider" not in body
    login_as(org.boss)
    body = client.get("/people").get_data(as_text=True)
    for name in ["Rita Rep", "Ravi Rep", "Bob Direct", "Leo Lead"]:
        assert name in body
    assert "Olga Outsider" not in body


def test_rep_dashboard_shows_self_only(client, org, login_as):
    login_as(org.rep)
    body = client.get("/dashboard").get_data(as_text=True)
    assert "Rita Rep" in body and "Ravi Rep" not in body
    assert client.get(f"/people/{org.rep2.id}").status_code == 404
    assert "Users" not in client.get("/dashboard").get_data(as_text=True).split("<main")[0]


def test_error_pages_leak_nothing(client, org, login_as):
    login_as(org.rep)
    body = client.get("/admin/users").get_data(as_text=True)
    assert "Not allowed" in body and "Traceback" not in body


def test_500_page_leaks_nothing(tmp_path):
    from reviewapp import create_app

    app = create_app({"TESTING": False, "SECRET_KEY": "k",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})

    @app.route("/_boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/_boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body and "secret internals" not in body
