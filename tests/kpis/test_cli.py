"""`flask kpi validate` and `flask kpi history`."""

import json

import sqlalchemy as sa

from reviewapp.kpis.models import ValidationRun
from reviewapp.metrics.models import Metric

CANDIDATE_FIELDS = {"metric", "coef", "se_classical", "se_cluster", "ci_low", "ci_high", "p",
                    "q", "std_effect", "partial_r2", "pooled_corr", "within_corr", "oos_gain",
                    "decision", "reason"}
ARGS = ["kpi", "validate", "--outcome", "revenue", "--candidates",
        "calls_per_day,meetings,proposals"]


def _count_runs(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ValidationRun))


def _status(db, key: str) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(Metric.kpi_status).where(Metric.key == key)).value


def test_json_has_exactly_the_documented_fields(sales, db, runner):
    result = runner.invoke(args=[*ARGS, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)  # exactly one JSON object, nothing else
    assert set(doc) == {"run_id", "n_reps", "n_obs", "candidates", "teachable_moments",
                        "coaching"}
    assert doc["run_id"] == db.session.scalar(sa.select(sa.func.max(ValidationRun.id)))
    assert (doc["n_reps"], doc["n_obs"]) == (19, 152)
    assert [c["metric"] for c in doc["candidates"]] == ["calls_per_day", "meetings", "proposals"]
    for candidate in doc["candidates"]:
        assert set(candidate) == CANDIDATE_FIELDS
    decisions = {c["metric"]: c["decision"] for c in doc["candidates"]}
    assert decisions == {"calls_per_day": "not_predictive", "meetings": "kpi", "proposals": "kpi"}
    for entry in doc["teachable_moments"] + doc["coaching"]:
        assert set(entry) == {"email", "score"}
    assert doc["teachable_moments"][0]["email"] == sales.star.email
    assert _status(db, "meetings") == "kpi"
    run = db.session.get(ValidationRun, doc["run_id"])
    assert run.created_by_id is None and run.source == "cli" and run.counts_for_status


def test_dry_run_stores_nothing_and_changes_no_status(sales, db, runner):
    result = runner.invoke(args=[*ARGS, "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["run_id"] is None
    assert {c["decision"] for c in doc["candidates"]} == {"kpi", "not_predictive"}
    assert _count_runs(db) == 0
    assert _status(db, "meetings") == "candidate"
    text = runner.invoke(args=[*ARGS, "--dry-run"])
    assert text.exit_code == 0 and "Dry run (nothing stored)" in text.output
    assert _count_runs(db) == 0


def test_team_run_is_exploratory_and_history_lists_runs(sales, db, runner):
    team = runner.invoke(args=[*ARGS, "--team", "Alpha", "--lag", "1", "--window", "6"])
    assert team.exit_code == 0, team.output
    assert "exploratory" in team.output
    assert _status(db, "meetings") == "candidate"
    org = runner.invoke(args=[*ARGS])
    assert org.exit_code == 0, org.output
    assert "Status: meetings candidate -> kpi" in org.output
    assert "one more meeting a quarter goes with about $" in org.output
    history = runner.invoke(args=["kpi", "history", "meetings"])
    assert history.exit_code == 0, history.output
    lines = history.output.splitlines()
    first, second = db.session.scalars(sa.select(ValidationRun.id).order_by(ValidationRun.id))
    assert lines[0] == "Meetings (meetings): KPI"
    assert any(f"candidate -> kpi by run #{second}" in line for line in lines)
    assert any(line.strip().startswith(f"#{first} ") and "exploratory" in line for line in lines)
    assert any(line.strip().startswith(f"#{second} ") and "counted" in line for line in lines)


def test_cli_errors(sales, runner):
    bad = runner.invoke(args=["kpi", "validate", "--candidates", "nope"])
    assert bad.exit_code != 0 and "no metric 'nope'" in bad.output
    team = runner.invoke(args=[*ARGS, "--team", "Nowhere"])
    assert team.exit_code != 0 and "No team named" in team.output
    history = runner.invoke(args=["kpi", "history", "revenue"])
    assert history.exit_code != 0
