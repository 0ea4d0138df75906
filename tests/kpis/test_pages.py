"""The lab, result, history, notes and KPI pages, as HR, managers and reps use them."""

import re

import sqlalchemy as sa

from reviewapp.audit.models import AuditEvent
from reviewapp.auth.models import User
from reviewapp.kpis.models import BehaviourNote, OrgSetting, ProposalStatus, ValidationRun
from reviewapp.kpis.runs import run_validation
from reviewapp.metrics.models import KpiStatus, Metric
from tests.kpis.data import ALL_CANDIDATES

LAB_FORM = {"scope": "org", "outcome": "revenue", "candidates": ALL_CANDIDATES,
            "grain": "quarter", "lag": "0", "window": "", "period_effects": "y"}


def _org_run(db) -> ValidationRun:
    run = run_validation(None, "revenue", source="cli").run
    db.session.commit()
    return run


def test_hr_runs_the_lab_and_reads_the_result(sales, db, client, login_as):
    login_as(sales.org.hr)
    page = client.get("/kpis/lab")
    assert page.status_code == 200
    assert b'value="org"' in page.data and b"Calls per day" in page.data
    response = client.post("/kpis/lab", data=LAB_FORM)
    assert response.status_code == 302
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    result = client.get(f"/kpis/runs/{run_id}")
    html = result.get_data(as_text=True)
    assert result.status_code == 200
    # Plain words first, statistics after.
    plain = html.index('data-testid="plain-words"')
    assert plain < html.index('data-testid="candidate-numbers"')
    assert "Within the same rep, more meetings went with more revenue; the pattern held on the " \
        "2 quarters the model had not seen." in html
    assert "the data rule out an effect large enough to be worth scoring" in html
    assert "a season that lifts everyone at once is not evidence" in html
    assert "wild cluster bootstrap by rep (Webb weights" in html
    assert "Within the same rep, one more meeting a quarter goes with about $" in html
    assert "Calls per day: no clear relation within reps" in html
    assert html.count("<svg") >= 4  # one pooled-versus-within chart per candidate
    assert 'data-testid="candidate-numbers"' in html and "policy run" in html
    assert "No exploratory runs on this outcome" in html
    assert f'href="/metrics/people/{sales.star.id}"' in html  # teachable moment, linked
    assert "Priya Star" in html
    assert f"/kpis/runs/{run_id}/reps/{sales.star.id}/note" in html
    assert "This policy run changed KPI statuses" in html
    db.session.expire_all()
    assert db.session.scalar(sa.select(Metric.kpi_status).where(Metric.key == "meetings")) \
        == KpiStatus.KPI
    runs = client.get("/kpis/runs").get_data(as_text=True)
    assert f"#{run_id}" in runs


def test_lab_errors_are_shown_on_the_form(sales, client, login_as):
    login_as(sales.org.hr)
    response = client.post("/kpis/lab", data={**LAB_FORM, "grain": "month"})
    assert response.status_code == 200
    assert b"recorded by a longer period" in response.data
    assert client.post("/kpis/lab", data={**LAB_FORM, "candidates": []}).status_code == 200


def test_manager_runs_only_exploratory_runs(sales, db, client, login_as):
    login_as(sales.org.lead)
    page = client.get("/kpis/lab").get_data(as_text=True)
    assert 'value="org"' not in page and 'value="mine"' in page
    assert f'value="team:{sales.org.team.id}"' in page
    assert f'value="team:{sales.org.other_team.id}"' not in page
    # Scopes the manager may not run are not even choices: the form refuses them.
    for scope in ("org", f"team:{sales.org.other_team.id}"):
        refused = client.post("/kpis/lab", data={**LAB_FORM, "scope": scope})
        assert refused.status_code == 200 and b"Not a valid choice" in refused.data
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ValidationRun)) == 0
    response = client.post("/kpis/lab", data={**LAB_FORM, "scope": "mine"})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Exploratory run" in html and "not the whole organisation" in html
    db.session.expire_all()
    assert db.session.scalar(sa.select(Metric.kpi_status).where(Metric.key == "meetings")) \
        == KpiStatus.CANDIDATE
    run_id = int(response.headers["Location"].rsplit("/", 1)[1])
    login_as(sales.org.other_manager)
    assert client.get(f"/kpis/runs/{run_id}").status_code == 404
    assert f"#{run_id}<" not in client.get("/kpis/runs").get_data(as_text=True)


def test_managers_see_only_their_own_reps_in_deviance_lists(sales, db, client, login_as):
    run = _org_run(db)
    assert any(e["rep_id"] == sales.star.id for e in run.teachable_moments)
    login_as(sales.org.other_manager)
    html = client.get(f"/kpis/runs/{run.id}").get_data(as_text=True)
    assert "Priya Star" not in html and "outside your scope" in html
    login_as(sales.org.lead)
    assert "Priya Star" in client.get(f"/kpis/runs/{run.id}").get_data(as_text=True)


def test_rep_sees_kpis_with_evidence_and_no_other_names(sales, db, client, login_as):
    _org_run(db)
    login_as(sales.org.rep)
    html = client.get("/kpis/").get_data(as_text=True)
    assert "Meetings" in html and "Proposals" in html and "Calls per day" not in html
    assert "one more meeting a quarter goes with about $" in html
    # No statistics jargon in what the page says (a random CSRF token may well hold "CI").
    words = re.sub(r'(value|nonce|content)="[^"]*"', "", html)
    assert "likely between $" in html and not re.search(r"\bCI\b", words)
    others = db.session.scalars(sa.select(User.name).where(User.id != sales.org.rep.id)).all()
    leaked = [name for name in others if name in html]
    assert not leaked
    assert "KPI lab" not in html
    for url in ("/kpis/lab", "/kpis/runs", "/kpis/notes",
                f"/kpis/metrics/{sales.metrics['meetings'].id}"):
        assert client.get(url).status_code == 403, url


def test_history_page_and_hr_retire(sales, db, client, login_as):
    _org_run(db)
    _org_run(db)
    meetings = sales.metrics["meetings"]
    login_as(sales.org.lead)
    html = client.get(f"/kpis/metrics/{meetings.id}").get_data(as_text=True)
    assert "Coefficient over runs" in html and "<svg" in html
    assert "made a KPI by" in html and html.count('href="/kpis/runs/') >= 3
    assert "Retire" not in html
    assert client.post(f"/kpis/metrics/{meetings.id}/status",
                       data={"reason": "Too noisy to keep."}).status_code == 403
    login_as(sales.org.hr)
    short = client.post(f"/kpis/metrics/{meetings.id}/status",
                        data={"action": "retire", "reason": "no"})
    assert short.status_code == 400
    done = client.post(f"/kpis/metrics/{meetings.id}/status",
                       data={"action": "retire", "reason": "Replaced by discovery meetings."})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Metric, meetings.id).kpi_status == KpiStatus.RETIRED
    html = client.get(f"/kpis/metrics/{meetings.id}").get_data(as_text=True)
    assert "Replaced by discovery meetings." in html and "Reinstate" in html


def test_notes_propose_a_metric_that_hr_accepts_or_declines(sales, db, client, login_as):
    run = _org_run(db)
    star = sales.star
    login_as(sales.org.other_manager)  # Priya is not in their scope
    assert client.get(f"/kpis/runs/{run.id}/reps/{star.id}/note").status_code == 404
    login_as(sales.org.lead)
    url = f"/kpis/runs/{run.id}/reps/{star.id}/note"
    assert client.get(url).status_code == 200
    bad = client.post(url, data={"text": "Books a discovery meeting before any proposal.",
                                 "proposed_key": "Bad Key"})
    assert bad.status_code == 200 and b"lower-case" in bad.data
    response = client.post(url, data={
        "text": "Books a discovery meeting before any proposal.",
        "proposed_key": "discovery_meetings", "proposed_name": "Discovery meetings",
        "proposed_description": "Meetings held before the first proposal."})
    assert response.status_code == 302
    client.post(url, data={"text": "Follows up within a day.", "proposed_key": "fast_follow_up",
                           "proposed_name": "Fast follow-ups"})
    notes = client.get("/kpis/notes").get_data(as_text=True)
    assert "Books a discovery meeting" in notes and "Accept" not in notes
    first, second = db.session.scalars(sa.select(BehaviourNote).order_by(BehaviourNote.id))
    assert client.get(f"/kpis/notes/{first.id}/accept").status_code == 403

    login_as(sales.org.hr)
    assert b"Accept" in client.get("/kpis/notes").data
    accepted = client.post(f"/kpis/notes/{first.id}/accept", data={
        "key": "discovery_meetings", "name": "Discovery meetings", "direction": "higher",
        "rollup": "sum", "unit": "meetings"})
    assert accepted.status_code == 302
    assert client.post(f"/kpis/notes/{second.id}/decline", data={
        "reason": "We cannot count this yet."}).status_code == 302
    db.session.expire_all()
    metric = db.session.scalar(sa.select(Metric).where(Metric.key == "discovery_meetings"))
    assert metric.kpi_status == KpiStatus.CANDIDATE
    first, second = db.session.scalars(sa.select(BehaviourNote).order_by(BehaviourNote.id))
    assert first.proposal_status == ProposalStatus.ACCEPTED
    assert first.created_metric_id == metric.id
    assert second.proposal_status == ProposalStatus.DECLINED
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"kpi.note.create", "kpi.note.accept", "kpi.note.decline", "metric.create"} <= actions
    # Decided proposals cannot be decided again.
    again = client.post(f"/kpis/notes/{first.id}/accept", data={
        "key": "other_key", "name": "Other", "direction": "higher", "rollup": "sum"})
    assert again.status_code == 302
    assert db.session.scalar(sa.select(Metric).where(Metric.key == "other_key")) is None
    # The lab now offers the new candidate.
    assert b"Discovery meetings" in client.get("/kpis/lab").data


def test_hr_sets_the_primary_outcome(sales, db, client, login_as):
    login_as(sales.org.hr)
    page = client.get("/kpis/settings").get_data(as_text=True)
    assert re.search(r'<option selected value="revenue"|<option value="revenue" selected', page)
    assert client.post("/kpis/settings", data={"outcome": "meetings"}).status_code == 200
    assert client.post("/kpis/settings", data={"outcome": "new_business"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(OrgSetting, "kpi.primary_outcome").value == "new_business"
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "kpi.primary_outcome"))
    assert event.before == {"primary_outcome": "revenue"}
    assert event.actor_id == sales.org.hr.id


def test_exploratory_runs_before_a_policy_run_are_counted_and_listed(sales, db, client,
                                                                     login_as):
    tries = [run_validation(None, "revenue", source="cli", lag=1).run,
             run_validation(None, "revenue", source="cli", window=6).run,
             run_validation(None, "revenue", source="cli", dry_run=True).run]
    db.session.commit()
    run = _org_run(db)
    login_as(sales.org.hr)
    html = client.get(f"/kpis/runs/{run.id}").get_data(as_text=True)
    assert "3 exploratory runs on this outcome in the 30 days before this one" in html
    for t in tries:
        assert f'href="/kpis/runs/{t.id}"' in html
    dry = client.get(f"/kpis/runs/{tries[2].id}").get_data(as_text=True)
    assert "Dry run: shown, kept and counted, but it changes no status (it is a dry run)" in dry


def test_period_effects_off_says_why(sales, db, client, login_as):
    run = run_validation(None, "revenue", source="cli", period_effects=False).run
    db.session.commit()
    login_as(sales.org.hr)
    html = client.get(f"/kpis/runs/{run.id}").get_data(as_text=True)
    assert "Period effects were off in this run (it was asked to leave them out)" in html
    assert "period effects off instead of on" in html


def test_hr_fixes_the_validation_policy_with_history(sales, db, client, login_as):
    login_as(sales.org.lead)
    assert client.get("/kpis/policy").status_code == 403
    login_as(sales.org.hr)
    page = client.get("/kpis/policy").get_data(as_text=True)
    assert "The default policy has not been changed." in page
    form = {"grain": "quarter", "lag": "1", "window": "8", "period_effects": "y",
            "alpha": "0.05", "margin": "0.1", "reason": "Revenue follows activity later."}
    bad = client.post("/kpis/policy", data={**form, "margin": "0"})
    assert bad.status_code == 400
    assert client.post("/kpis/policy", data={**form, "reason": "short"}).status_code == 400
    assert client.post("/kpis/policy", data=form).status_code == 302
    page = client.get("/kpis/policy").get_data(as_text=True)
    assert "Revenue follows activity later." in page and "lag 1" in page
    lab = client.get("/kpis/lab").get_data(as_text=True)
    assert "lag 1" in lab
    run = run_validation(sales.org.hr, "revenue").run  # settings from the policy: lag 1
    assert run.lag == 1 and run.counts_for_status


def test_the_run_page_says_what_its_within_charts_take_out(sales, client, login_as, db):
    run_id = run_validation(sales.org.hr, "revenue", ALL_CANDIDATES).run.id
    db.session.commit()
    login_as(sales.org.hr)
    html = client.get(f"/kpis/runs/{run_id}").get_data(as_text=True)
    assert ("with each quarter&#39;s company-wide swing and the other metrics taken out, as the "
            "model sees it") in html
    assert "Within each rep (adjusted)" in html
