"""The cycle editor: drafts are saved whole or not at all, with the message on the field."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from reviewapp.cycles.models import Cycle, CycleKpiTarget, CycleStatus
from reviewapp.cycles.services import save_cycle
from reviewapp.errors import ServiceError
from tests.reviews.cycle_fixtures import cycle_form, kpis_fixture  # noqa: F401


def _cycles(db) -> list[Cycle]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Cycle).order_by(Cycle.id)))


def _draft_and_its_editor(client, kpis, db, rows) -> tuple[Cycle, str]:
    """HR saves a new draft with these KPI rows; the draft and its editor page."""
    client.post("/cycles/new", data=cycle_form(kpis.org, rows))
    [cycle] = _cycles(db)
    return cycle, client.get(f"/cycles/{cycle.id}/edit").get_data(as_text=True)


def test_new_cycle_form_offers_defaults(client, kpis, login_as):
    login_as(kpis.org.hr)
    client.post("/cycles/competencies/defaults")
    page = client.get("/cycles/new").get_data(as_text=True)
    assert 'name="band_2"' in page and 'value="70"' in page and 'value="115"' in page
    assert "HR's bounds: <strong>0.30–0.70</strong>" in page
    assert ">Relationships</label>" in page and ">Learning</label>" in page
    # Every activity metric is a row, with its status pill; KPIs come first.
    assert page.index("Meetings") < page.index("Calls per day")
    assert "Not predictive" in page
    assert "Revenue" not in page  # outcomes are never scored
    assert "below 70 %" in page and "115 % or more" in page


def test_hr_saves_a_draft_cycle(client, kpis, login_as, db):
    org = kpis.org
    login_as(org.hr)
    data = cycle_form(org, [(kpis.meetings, 12, 2), (kpis.calls, 40, "")],
                      people=[str(org.outsider.id)], quant_weight="0.6", band_5="120")
    response = client.post("/cycles/new", data=data)
    assert response.status_code == 302
    [cycle] = _cycles(db)
    assert response.headers["Location"].endswith(f"/cycles/{cycle.id}")
    assert cycle.status == CycleStatus.DRAFT
    assert (cycle.period_label, cycle.period_start, cycle.period_end) == (
        "2026-Q3", date(2026, 7, 1), date(2026, 9, 30))
    assert cycle.quant_weight == 0.6 and cycle.bands == [0.7, 0.9, 1.0, 1.2]
    assert [t.name for t in cycle.teams] == ["Alpha"]
    assert [p.name for p in cycle.people] == ["Olga Outsider"]
    assert len(cycle.competencies) == 5
    assert [(k.metric.key, k.target, k.weight) for k in cycle.kpis] == [
        ("meetings", 12.0, 2.0), ("calls_per_day", 40.0, 1.0)]


def test_hr_edits_a_draft(client, kpis, login_as, db):
    org = kpis.org
    login_as(org.hr)
    cycle, page = _draft_and_its_editor(client, kpis, db, [(kpis.meetings, 12, 1)])
    assert 'value="Q3 2026 reviews"' in page and 'value="12"' in page
    response = client.post(f"/cycles/{cycle.id}/edit", data=cycle_form(
        org, [(kpis.proposals, 5, 1)], name="Renamed", teams=[], competencies=[]))
    assert response.status_code == 302
    [cycle] = _cycles(db)
    assert cycle.name == "Renamed" and cycle.teams == [] and cycle.competencies == []
    assert [k.metric.key for k in cycle.kpis] == ["proposals"]


BAD_INPUTS = [
    ({"period": "2026-Q5"}, "period", "is not a period"),
    ({"period": "2026"}, "period", "is not a period"),
    ({"manager_due": (date.today() + timedelta(days=2)).isoformat()}, "manager_due",
     "Deadlines must follow the workflow order"),
    ({"self_due": "not a date"}, "self_due", "Not a valid date"),
    ({"quant_weight": "1.5"}, "quant_weight", "between 0 and 1"),
    ({"quant_weight": "-0.1"}, "quant_weight", "between 0 and 1"),
    ({"quant_weight": "half"}, "quant_weight", "Not a valid float"),
    ({"band_3": "60"}, "bands", "strictly increasing"),
    ({"band_2": "0"}, "bands", "positive"),
    ({"band_4": ""}, "band_4", "Enter a percentage."),
    ({"name": ""}, "name", "Enter a name."),
]


@pytest.mark.parametrize("override,field,message", BAD_INPUTS,
                         ids=[f"{f}-{i}" for i, (_, f, _) in enumerate(BAD_INPUTS)])
def test_bad_input_is_shown_on_its_field_and_nothing_is_saved(client, kpis, login_as, db,
                                                              override, field, message):
    login_as(kpis.org.hr)
    response = client.post("/cycles/new", data=cycle_form(
        kpis.org, [(kpis.meetings, 12, 1)], **override))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="{field}-error"' in page
    assert message in page
    assert "Nothing was saved." in page
    assert _cycles(db) == []


@pytest.mark.parametrize("target,message,on_row", [
    ("0", "Meetings needs a positive target", False),
    ("-3", "Meetings needs a positive target", False),
    ("", "Enter a target for Meetings.", True), ("lots", "“lots” is not a number.", True),
])
def test_a_bad_kpi_target_is_refused(client, kpis, login_as, db, target, message, on_row):
    login_as(kpis.org.hr)
    response = client.post("/cycles/new", data=cycle_form(
        kpis.org, [(kpis.meetings, target, 1)]))
    page = response.get_data(as_text=True)
    # An unreadable target is marked on its own input; a rule about the KPIs on the fieldset.
    error_id = f"target_{kpis.meetings.id}-error" if on_row else "kpis-error"
    assert f'id="{error_id}"' in page and message in page
    assert f'name="target_{kpis.meetings.id}" value="{target}"' in page  # the input is kept
    assert _cycles(db) == []


def test_a_duplicate_name_is_refused(client, kpis, login_as, db):
    login_as(kpis.org.hr)
    client.post("/cycles/new", data=cycle_form(kpis.org))
    response = client.post("/cycles/new", data=cycle_form(kpis.org, name="q3 2026 REVIEWS"))
    page = response.get_data(as_text=True)
    assert 'id="name-error"' in page and "already exists" in page
    assert len(_cycles(db)) == 1


def test_a_failed_edit_changes_nothing(client, kpis, login_as, db):
    login_as(kpis.org.hr)
    client.post("/cycles/new", data=cycle_form(kpis.org, [(kpis.meetings, 12, 1)]))
    [cycle] = _cycles(db)
    response = client.post(f"/cycles/{cycle.id}/edit", data=cycle_form(
        kpis.org, [(kpis.proposals, 5, 1)], name="Renamed", band_2="95"))
    assert 'id="bands-error"' in response.get_data(as_text=True)
    [cycle] = _cycles(db)
    assert cycle.name == "Q3 2026 reviews" and [k.metric.key for k in cycle.kpis] == ["meetings"]


def test_own_targets_for_a_kpi(client, kpis, login_as, db):
    org = kpis.org
    login_as(org.hr)
    client.post("/cycles/new", data=cycle_form(org, [(kpis.meetings, 12, 1)]))
    [cycle] = _cycles(db)
    kpi = cycle.kpis[0]
    url = f"/cycles/{cycle.id}/targets?kpi={kpi.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Rita Rep" in page and "Olga Outsider" not in page  # only reps in the cycle

    response = client.post(url, data={f"target_{org.rep.id}": "-1",
                                      f"target_{org.rep2.id}": "9"})
    page = response.get_data(as_text=True)
    assert f'id="target_{org.rep.id}-error"' in page and "positive target" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CycleKpiTarget)) == 0

    response = client.post(url, data={f"target_{org.rep.id}": "15", f"target_{org.rep2.id}": ""})
    assert response.status_code == 302
    [cycle] = _cycles(db)
    assert cycle.kpis[0].target_for(org.rep.id) == 15 and cycle.kpis[0].target_for(
        org.rep2.id) == 12
    # Own targets survive an edit of the draft that keeps the KPI.
    client.post(f"/cycles/{cycle.id}/edit", data=cycle_form(org, [(kpis.meetings, 10, 1)]))
    [cycle] = _cycles(db)
    assert cycle.kpis[0].target_for(org.rep.id) == 15 and cycle.kpis[0].target == 10
    client.post(url, data={f"target_{org.rep.id}": ""})
    [cycle] = _cycles(db)
    assert cycle.kpis[0].targets == []


def test_a_launched_cycle_cannot_be_edited(client, kpis, login_as, db):
    org = kpis.org
    login_as(org.hr)
    client.post("/cycles/new", data=cycle_form(org, [(kpis.meetings, 12, 1)]))
    [cycle] = _cycles(db)
    assert client.post(f"/cycles/{cycle.id}/launch").status_code == 302
    assert _cycles(db)[0].status == CycleStatus.LAUNCHED

    response = client.get(f"/cycles/{cycle.id}/edit", follow_redirects=True)
    assert "has been launched" in response.get_data(as_text=True)
    assert response.request.path == f"/cycles/{cycle.id}"
    response = client.post(f"/cycles/{cycle.id}/edit", data=cycle_form(
        org, [(kpis.meetings, 1, 1)], name="Changed"))
    assert response.status_code == 302
    response = client.post(f"/cycles/{cycle.id}/targets?kpi={cycle.kpis[0].id}",
                           data={f"target_{org.rep.id}": "3"})
    assert response.status_code == 302
    [cycle] = _cycles(db)
    assert cycle.name == "Q3 2026 reviews" and cycle.kpis[0].target == 12
    assert cycle.kpis[0].targets == []
    with pytest.raises(ServiceError, match="launched"):
        save_cycle(org.hr, cycle, _draft_like(cycle))


def _draft_like(cycle: Cycle):
    from reviewapp.cycles.services import CycleDraft

    return CycleDraft(name="X", period=cycle.period_label, self_due=cycle.self_due,
                      manager_due=cycle.manager_due, calibration_due=cycle.calibration_due,
                      acknowledgement_due=cycle.acknowledgement_due)


def test_a_large_target_survives_editing_to_the_last_digit(client, kpis, login_as, db):
    """The editor wrote a saved target back as 1.23457e+06, so saving the draft again made a
    target of 1,234,567 into 1,234,570, and the cycle page showed the exponent."""
    login_as(kpis.org.hr)
    cycle, page = _draft_and_its_editor(client, kpis, db, [(kpis.meetings, 1234567, 1.25)])
    assert 'value="1234567"' in page and 'value="1.25"' in page
    assert "1,234,567" in client.get(f"/cycles/{cycle.id}").get_data(as_text=True)


def test_a_stale_editor_does_not_put_a_drafts_old_values_back(client, kpis, login_as, db):
    import re

    org = kpis.org
    login_as(org.hr)
    client.post("/cycles/new", data=cycle_form(org, [(kpis.meetings, 12, 1)]))
    [cycle] = _cycles(db)
    url = f"/cycles/{cycle.id}/edit"
    version = re.search(r'name="version" value="(\d+)"',
                        client.get(url).get_data(as_text=True)).group(1)
    first = client.post(url, data={**cycle_form(org, [(kpis.meetings, 12, 1)],
                                                quant_weight="0.6"), "version": version})
    assert first.status_code == 302
    stale = client.post(url, data={**cycle_form(org, [(kpis.meetings, 12, 1)],
                                                name="Renamed"), "version": version})
    assert stale.status_code != 302
    assert "Someone saved this draft after you opened the editor" in stale.get_data(as_text=True)
    [cycle] = _cycles(db)
    assert (cycle.name, cycle.quant_weight) == ("Q3 2026 reviews", 0.6)


def test_every_problem_is_listed_at_once_an_unreadable_kpi_row_too(client, kpis, login_as, db):
    """A KPI row that did not read hid the bad period, the deadlines out of order, the bands
    and another row's negative target until it was fixed."""
    login_as(kpis.org.hr)
    response = client.post("/cycles/new", data=cycle_form(
        kpis.org, [(kpis.meetings, "twelve", 1), (kpis.proposals, -3, 1)], period="2026-Q5",
        manager_due=(date.today() + timedelta(days=2)).isoformat(), band_3="60"))
    page = response.get_data(as_text=True)
    for field in (f"target_{kpis.meetings.id}", "period", "manager_due", "bands", "kpis"):
        assert f'id="{field}-error"' in page or f'href="#{field}"' in page, field
    assert "“twelve” is not a number" in page and "Proposals needs a positive target" in page
    assert "Nothing was saved." in page and _cycles(db) == []


def test_a_weight_that_does_not_read_hides_no_other_problem(client, kpis, login_as, db):
    """A weight of 'abc' was the only problem listed; the duplicate name and the deadlines out
    of order showed once it was fixed."""
    login_as(kpis.org.hr)
    client.post("/cycles/new", data=cycle_form(kpis.org))
    response = client.post("/cycles/new", data=cycle_form(
        kpis.org, name="q3 2026 REVIEWS", quant_weight="abc",
        manager_due=(date.today() + timedelta(days=2)).isoformat()))
    page = response.get_data(as_text=True)
    for field in ("quant_weight", "name", "manager_due"):
        assert f'id="{field}-error"' in page or f'href="#{field}"' in page, field
    assert len(_cycles(db)) == 1
