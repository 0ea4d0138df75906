"""HR's competency catalogue and the weight bounds."""

import sqlalchemy as sa

from reviewapp.audit.models import AuditEvent
from reviewapp.cycles.catalogue import DEFAULT_COMPETENCIES, weight_bounds
from reviewapp.cycles.models import Competency

ANCHORS = {f"anchor_{n}": f"Level {n} behaviour." for n in range(1, 6)}


def _competencies(db) -> list[Competency]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Competency).order_by(Competency.position)))


def test_opening_an_empty_catalogue_writes_nothing_and_offers_the_defaults(
        client, org, login_as, db):
    login_as(org.hr)
    for url in ("/cycles/competencies", "/cycles/new"):
        response = client.get(url)
        assert response.status_code == 200
        assert 'data-testid="empty-catalogue"' in response.get_data(as_text=True)
        assert _competencies(db) == []  # a page view never writes


def test_hr_adds_the_five_defaults_once_and_it_is_audited(client, org, login_as, db):
    login_as(org.hr)
    response = client.post("/cycles/competencies/defaults")
    assert response.status_code == 302
    names = [c.name for c in _competencies(db)]
    assert names == [name for name, _, _ in DEFAULT_COMPETENCIES]
    page = client.get("/cycles/competencies").get_data(as_text=True)
    assert "Relationships" in page and "Customers ask for them by name" in page
    assert db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "competency.defaults")) is not None
    again = client.post("/cycles/competencies/defaults", follow_redirects=True)
    assert "already has competencies" in again.get_data(as_text=True)
    assert len(_competencies(db)) == 5


def test_from_the_editor_the_defaults_lead_back_to_the_editor(client, org, login_as, db):
    login_as(org.hr)
    response = client.post("/cycles/competencies/defaults", data={"back": "/cycles/new"})
    assert response.headers["Location"].endswith("/cycles/new")
    evil = client.post("/cycles/competencies/defaults", data={"back": "//evil.example"})
    assert evil.headers["Location"].endswith("/cycles/competencies")


def test_only_hr_adds_the_defaults(client, org, login_as, db):
    login_as(org.lead)
    assert client.post("/cycles/competencies/defaults").status_code == 403
    assert _competencies(db) == []


def test_hr_creates_a_competency_with_five_anchors(client, org, login_as, db):
    login_as(org.hr)
    response = client.post("/cycles/competencies/new", data={
        "name": "Negotiation", "description": "Finds deals both sides keep.", **ANCHORS,
        "active": "y"})
    assert response.status_code == 302
    created = db.session.scalar(sa.select(Competency).where(Competency.name == "Negotiation"))
    assert created.anchors == [ANCHORS[f"anchor_{n}"] for n in range(1, 6)]
    assert created.description == "Finds deals both sides keep."
    assert db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "competency.create")) is not None


def test_a_missing_anchor_is_reported_on_its_field_and_nothing_is_saved(client, org, login_as,
                                                                        db):
    login_as(org.hr)
    response = client.post("/cycles/competencies/new", data={
        "name": "Negotiation", **ANCHORS, "anchor_3": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="anchor_3-error"' in page and "Describe what level 3 looks like." in page
    assert 'id="anchor_2-error"' not in page
    assert db.session.scalar(sa.select(Competency).where(Competency.name == "Negotiation")) is None


def test_a_blank_anchor_is_refused_by_the_service_on_its_field(client, org, login_as, db):
    login_as(org.hr)
    response = client.post("/cycles/competencies/new", data={
        "name": "Negotiation", **ANCHORS, "anchor_5": "   "})
    page = response.get_data(as_text=True)
    assert 'id="anchor_5-error"' in page and "Describe what level 5 looks like." in page
    assert db.session.scalar(sa.select(Competency).where(Competency.name == "Negotiation")) is None


def test_editing_changes_the_anchors_and_a_duplicate_name_is_refused(client, org, login_as, db):
    login_as(org.hr)
    client.post("/cycles/competencies/defaults")
    first, second = _competencies(db)[:2]
    response = client.post(f"/cycles/competencies/{first.id}/edit", data={
        "name": first.name, "description": "New meaning.", **ANCHORS, "active": "y"})
    assert response.status_code == 302
    assert _competencies(db)[0].anchors[0] == "Level 1 behaviour."

    response = client.post(f"/cycles/competencies/{second.id}/edit", data={
        "name": first.name.upper(), **ANCHORS, "active": "y"})
    page = response.get_data(as_text=True)
    assert 'id="name-error"' in page and "already exists" in page
    assert _competencies(db)[1].name == second.name


def test_deactivate_and_reactivate(client, org, login_as, db):
    login_as(org.hr)
    client.post("/cycles/competencies/defaults")
    learning = _competencies(db)[-1]
    client.post(f"/cycles/competencies/{learning.id}/active", data={"active": "0"})
    assert _competencies(db)[-1].active is False
    # A new cycle does not offer an inactive competency.
    page = client.get("/cycles/new").get_data(as_text=True)
    assert f'name="competencies" type="checkbox" value="{learning.id}"' not in page
    assert ">Learning</label>" not in page
    client.post(f"/cycles/competencies/{learning.id}/active", data={"active": "1"})
    assert _competencies(db)[-1].active is True


def test_weight_bounds_default_and_change(client, org, login_as, db):
    login_as(org.hr)
    assert weight_bounds() == (0.3, 0.7)
    page = client.get("/cycles/").get_data(as_text=True)
    assert "0.30–0.70" in page
    response = client.post("/cycles/weight-bounds", data={"weight_min": "0.4",
                                                          "weight_max": "0.6"})
    assert response.status_code == 302
    db.session.expire_all()
    assert weight_bounds() == (0.4, 0.6)


def test_bad_weight_bounds_are_refused_on_the_field(client, org, login_as, db):
    login_as(org.hr)
    response = client.post("/cycles/weight-bounds", data={"weight_min": "0.8",
                                                          "weight_max": "0.6"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="weight_min-error"' in page and "minimum ≤ maximum" in page
    response = client.post("/cycles/weight-bounds", data={"weight_min": "abc",
                                                          "weight_max": "0.6"})
    assert 'id="weight_min-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert weight_bounds() == (0.3, 0.7)
