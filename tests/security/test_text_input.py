"""Text people type: a NUL byte is refused with a clear answer and nothing is stored; text with
right-to-left overrides is isolated, so it cannot reorder the page around it; names keep the
same length limit whether typed in a form or imported from CSV."""

import pytest
import sqlalchemy as sa

from reviewapp.auth.models import Role, User
from reviewapp.extensions import db
from tests.factories import create_user

RLO = "\u202e"
FSI, PDI = "\u2068", "\u2069"


def user_count() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(User.id)))


@pytest.mark.parametrize("where", ["name", "email"])
def test_a_nul_in_a_form_is_refused_and_nothing_stored(client, org, login_as, where):
    login_as(org.hr)
    data = {"email": "new@example.test", "name": "New Person", "role": "rep", "manager": 0,
            "team": 0}
    data[where] = data[where].replace("e", "e\x00", 1)
    before = user_count()
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
    assert user_count() == before


def test_a_nul_in_a_query_is_refused(client, org, login_as):
    login_as(org.hr)
    response = client.get("/admin/users", query_string={"q": "a\x00b"})
    assert response.status_code == 400


def test_a_nul_in_an_api_source_name_is_refused(client, org, db):
    from reviewapp.api.services import create_token

    _, secret = create_token(org.lead, "crm")
    db.session.commit()
    response = client.post("/api/v1/observations", headers={"Authorization": f"Bearer {secret}"},
                           json={"rows": [], "source_name": "crm\x00sync"})
    assert response.status_code == 400
    assert "NUL" in response.json["error"]


def test_a_nul_in_the_users_csv_is_reported(client, org, login_as):
    login_as(org.hr)
    before = user_count()
    data = b"email,name,role,manager_email,team\nnul@example.test,Nu\x00l,rep,,\n"
    response = client.post("/admin/users/import",
                           data={"file": (__import__("io").BytesIO(data), "u.csv")},
                           content_type="multipart/form-data")
    assert "NUL character" in response.get_data(as_text=True)
    assert user_count() == before


def test_a_right_to_left_override_is_isolated_in_pages(client, org, login_as, db):
    org.rep.name = f"Rita {RLO}gnp.exe"
    db.session.commit()
    login_as(org.lead)
    body = client.get(f"/people/{org.rep.id}").get_data(as_text=True)
    assert f"{FSI}Rita {RLO}gnp.exe{PDI}" in body
    assert body.count(RLO) == body.count(f"{FSI}Rita {RLO}")
    plain = client.get("/dashboard").get_data(as_text=True)
    assert FSI not in plain.replace(f"{FSI}Rita {RLO}gnp.exe{PDI}", "")  # others untouched


def test_the_users_csv_keeps_the_forms_name_limit(client, org, login_as):
    login_as(org.hr)
    before = user_count()
    data = ("email,name,role,manager_email,team\n"
            f"long@example.test,{'N' * 121},rep,,\n").encode()
    response = client.post("/admin/users/import",
                           data={"file": (__import__("io").BytesIO(data), "u.csv")},
                           content_type="multipart/form-data")
    assert "at most 120 characters" in response.get_data(as_text=True)
    assert user_count() == before


def test_the_user_form_and_service_share_the_limit(client, org, login_as):
    login_as(org.hr)
    response = client.post("/admin/users/new", data={
        "email": "long2@example.test", "name": "N" * 121, "role": "rep", "manager": 0, "team": 0})
    assert "at most 120 characters" in response.get_data(as_text=True)
    create_user(Role.REP, name="N" * 120)  # exactly the limit is fine
