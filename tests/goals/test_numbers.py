"""Numbers that are not numbers: inf, nan and absurd magnitudes are refused wherever they come
in (forms, services, imports, the API), with the field named, and nothing is stored."""

import pytest
import sqlalchemy as sa

from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.goals.models import Goal
from reviewapp.goals.services import create_goal
from tests.goals.conftest import Q3, draft


def goal_count() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(Goal.id)))


BAD = ["inf", "-inf", "nan", "NaN", "Infinity", "1e400", "1e13", "-2e12"]


@pytest.mark.parametrize("field", ["target_value", "start_value", "weight"])
@pytest.mark.parametrize("text", BAD)
def test_the_goal_form_refuses_non_finite_numbers(client, login_as, org, metrics, field, text):
    login_as(org.lead)
    data = {"title": "Grow revenue", "kind": "metric", "quarter": Q3, "owner": org.rep.id,
            "metric": metrics["revenue"].id, "start_value": "0", "target_value": "1000",
            "weight": "1", field: text}
    response = client.post("/goals/new?scope=individual", data=data)
    assert response.status_code == 200, response.status_code  # the form again, never a 500
    body = response.get_data(as_text=True)
    assert f'id="{field}-error"' in body
    assert "finite number" in body or "between" in body
    assert goal_count() == 0


@pytest.mark.parametrize("field", ["target_value", "start_value", "weight"])
@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e308])
def test_the_goal_service_refuses_them_too(org, metrics, field, value):
    fields = {"owner_id": org.rep.id, "metric_id": metrics["revenue"].id, "start_value": 0.0,
              "target_value": 1000.0, field: value}
    with pytest.raises(ServiceError) as caught:
        create_goal(org.lead, draft(**fields))
    assert caught.value.field == field
    assert goal_count() == 0


def test_a_check_in_refuses_a_non_finite_progress(client, login_as, org, metrics):
    goal, _ = create_goal(org.lead, draft(owner_id=org.rep.id, kind="percent"))
    db.session.commit()
    login_as(org.lead)
    response = client.post(f"/goals/{goal.id}/check-ins", data={"progress": "nan", "note": "x"})
    assert response.status_code in (200, 302, 422)
    db.session.expire_all()
    assert db.session.get(Goal, goal.id).manual_percent in (None, 0)


@pytest.mark.parametrize("value", ["1e308", "-1e13", "1e400", "inf"])
def test_the_import_and_the_api_refuse_absurd_values(client, org, metrics, value, runner,
                                                     tmp_path):
    from reviewapp.api.services import create_token
    from reviewapp.metrics.models import Observation

    before = db.session.scalar(sa.select(sa.func.count(Observation.id)))
    path = tmp_path / "big.csv"
    path.write_text(f"rep_email,period,metric,value\n{org.rep.email},2026-Q1,revenue,{value}\n")
    result = runner.invoke(args=["metrics", "import", str(path)])
    assert result.exit_code != 0
    assert f"value '{value}'" in result.output
    assert "finite" in result.output or "between" in result.output
    _, secret = create_token(org.lead, "crm")
    db.session.commit()
    number = float(value)
    body = [{"rep_email": org.rep.email, "period": "2026-Q1", "metric": "revenue",
             "value": value if not __import__("math").isfinite(number) else number}]
    response = client.post("/api/v1/observations", json=body,
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code in (400, 422), response.json
    assert db.session.scalar(sa.select(sa.func.count(Observation.id))) == before


@pytest.mark.parametrize("text", ["inf", "nan", "1e400", "-1e13", "Infinity"])
def test_cycle_targets_and_weights_refuse_them(text):
    from reviewapp.cycles import editor

    with pytest.raises(ValueError):
        editor.parse_number(text)
    assert editor.parse_number("1,200") == 1200.0


def test_the_cycle_forms_refuse_them(app):
    from werkzeug.datastructures import MultiDict

    from reviewapp.cycles.forms import CycleForm

    with app.test_request_context(method="POST"):
        form = CycleForm(formdata=MultiDict({"quant_weight": "nan"}))
        form.validate()
        assert "finite" in " ".join(form.quant_weight.errors)
