"""`flask kpi validate` and `flask kpi history`."""

import json

import sqlalchemy as sa

from reviewapp.kpis.models import ValidationRun
from reviewapp.metrics.models import Metric

CANDIDATE_FIELDS = {"metric", "coef", "se_classical", "se_cluster", "ci_low", "ci_high", "p",
                    "q", "std_effect", "std_ci_low", "std_ci_high", "mde", "lead_q",
                    "partial_r2", "pooled_corr", "within_corr", "oos_gain", "decision",
                    "verdict", "placebo_flag", "reason"}
ARGS = ["kpi", "validate", "--outcome", "revenue"]  # every active candidate, the policy's spec


def _count_runs(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ValidationRun))


def _status(db, key: str) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(Metric.kpi_status).where(Metric.key == key)).value


def test_json_has_exactly_the_documented_fields(sales, db, runner):
    result = runner.invoke(args=[*ARGS, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)  # exactly one JSON object, nothing else
    assert set(doc) == {"run_id", "counts_for_status", "exploratory_reason", "inference",
                        "n_reps", "n_reps_once", "n_obs", "candidates", "teachable_moments",
                        "coaching"}
    assert doc["counts_for_status"] and doc["exploratory_reason"] is None
    assert doc["inference"] == "wild_bootstrap"  # 19 reps: few clusters
    assert doc["run_id"] == db.session.scalar(sa.select(sa.func.max(ValidationRun.id)))
    assert (doc["n_reps"], doc["n_obs"]) == (19, 152)
    assert [c["metric"] for c in doc["candidates"]] == ["calls_per_day", "emails_sent",
                                                        "meetings", "proposals"]
    for candidate in doc["candidates"]:
        assert set(candidate) == CANDIDATE_FIELDS
    verdicts = {c["metric"]: c["verdict"] for c in doc["candidates"]}
    assert verdicts == {"calls_per_day": "not_predictive", "emails_sent": "not_predictive",
                        "meetings": "kpi", "proposals": "kpi"}
    for entry in doc["teachable_moments"] + doc["coaching"]:
        assert set(entry) == {"email", "score"}
    assert doc["teachable_moments"][0]["email"] == sales.star.email
    assert _status(db, "meetings") == "kpi"
    run = db.session.get(ValidationRun, doc["run_id"])
    assert run.created_by_id is None and run.source == "cli" and run.counts_for_status


def test_dry_run_changes_no_status_but_is_kept_and_counted(sales, db, runner):
    result = runner.invoke(args=[*ARGS, "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert not doc["counts_for_status"] and doc["exploratory_reason"] == "it is a dry run"
    assert {c["decision"] for c in doc["candidates"]} == {"kpi", "not_predictive"}
    assert _count_runs(db) == 1
    assert db.session.get(ValidationRun, doc["run_id"]).dry_run
    assert _status(db, "meetings") == "candidate"
    text = runner.invoke(args=[*ARGS, "--dry-run"])
    assert text.exit_code == 0 and f"Dry run #{doc['run_id'] + 1}" in text.output
    assert _count_runs(db) == 2


def test_team_run_is_exploratory_and_history_lists_runs(sales, db, runner):
    team = runner.invoke(args=[*ARGS, "--team", "Alpha", "--lag", "1", "--window", "6"])
    assert team.exit_code == 0, team.output
    assert "exploratory (it covers team Alpha" in team.output  # the name as it is
    assert "lag 1 instead of 0, window 6 instead of 8" in team.output
    assert _status(db, "meetings") == "candidate"
    org = runner.invoke(args=[*ARGS])
    assert org.exit_code == 0, org.output
    assert "Status: meetings candidate -> kpi" in org.output
    assert "more meetings went with more revenue" in org.output
    assert "It held at both of the last two quarter ends." in org.output
    history = runner.invoke(args=["kpi", "history", "meetings"])
    assert history.exit_code == 0, history.output
    lines = history.output.splitlines()
    first, second = db.session.scalars(sa.select(ValidationRun.id).order_by(ValidationRun.id))
    assert lines[0] == "Meetings (meetings): KPI"
    assert any(f"candidate -> kpi by run #{second}" in line for line in lines)
    assert any(line.strip().startswith(f"#{first} ") and "exploratory" in line for line in lines)
    assert any(line.strip().startswith(f"#{second} ") and "policy run" in line for line in lines)


def test_policy_command_shows_and_changes_the_policy(sales, db, runner):
    shown = runner.invoke(args=["kpi", "policy"])
    assert shown.exit_code == 0 and "quarter, lag 0, window 8, period effects on" in shown.output
    refused = runner.invoke(args=["kpi", "policy", "--lag", "1"])
    assert refused.exit_code != 0 and "why the policy changes" in refused.output
    changed = runner.invoke(args=["kpi", "policy", "--margin", "0.2", "--reason",
                                  "Only clear effects are worth scoring."])
    assert changed.exit_code == 0, changed.output
    assert "margin 0.2" in changed.output and "Only clear effects" in changed.output
    assert runner.invoke(args=["kpi", "policy", "--window", "2", "--reason",
                               "Too short to judge anything."]).exit_code != 0


def test_cli_errors(sales, runner):
    bad = runner.invoke(args=["kpi", "validate", "--candidates", "nope"])
    assert bad.exit_code != 0 and "no metric 'nope'" in bad.output
    team = runner.invoke(args=[*ARGS, "--team", "Nowhere"])
    assert team.exit_code != 0 and "No team named" in team.output
    history = runner.invoke(args=["kpi", "history", "revenue"])
    assert history.exit_code != 0


def test_policy_command_refuses_bad_values_by_name_and_changes_nothing(sales, db, runner):
    reason = ["--reason", "Trying values that cannot work."]
    for option, value, words in (("--window", "3", "--window: Choose a window of 5 to"),
                                 ("--margin", "5", "--margin: The margin is"),
                                 ("--alpha", "0", "--alpha: Alpha is between"),
                                 ("--margin", "0", "--margin: The margin is"),
                                 ("--window", "0", "--window: Choose a window")):
        result = runner.invoke(args=["kpi", "policy", option, value, *reason])
        assert result.exit_code == 1, (option, value, result.output)
        assert words in result.output and "Nothing was changed." in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert runner.invoke(args=["kpi", "policy"]).output.count("#") == 0  # no policy row


def test_a_run_without_verdicts_names_each_metric_once(sales, runner):
    result = runner.invoke(args=[*ARGS, "--window", "2", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "not enough data" in line]
    assert lines and all(line.count("Meetings") <= 1 for line in lines), lines
    assert any(line.startswith("- Meetings: not enough data") for line in lines)
