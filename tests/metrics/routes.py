"""Route × role expectations for the metrics area (see tests/test_route_matrix.py)."""

from reviewapp.extensions import db
from reviewapp.metrics import uploads
from reviewapp.metrics.catalogue import add_metric
from reviewapp.metrics.models import ImportBatch
from tests.test_route_matrix import HR_ONLY, HR_ONLY_POST, LOGIN, MANAGERS_AND_HR, RITA_SCOPE, Case


def setup(org) -> None:
    org.metric = add_metric(None, key="calls", name="Calls", kind="activity",
                            direction="higher", rollup="sum")
    org.batch = ImportBatch(uploaded_by_id=org.lead.id, source="web", filename="x.csv",
                            checksum="0" * 64, layout="long")
    db.session.add(org.batch)
    db.session.commit()
    org.upload_token = uploads.save(
        org.lead.id, "x.csv", f"rep_email,period,metric,value\n{org.rep.email},2026-Q1,calls,5\n"
        .encode(), None).token


IMPORTERS = {"anon": LOGIN, "rep": 403, "outsider": 403, "*": 200}
UPLOADER_ONLY = {"anon": LOGIN, "rep": 403, "outsider": 403, "lead": 200, "*": 404}
BATCH_VIEW = {"anon": LOGIN, "lead": 200, "hr": 200, "*": 404}

ROUTES = {
    "metrics.catalogue": [Case("GET", lambda o: "/metrics/", {"anon": LOGIN, "*": 200})],
    "metrics.metric_new": [Case("GET", lambda o: "/metrics/new", HR_ONLY)],
    "metrics.metric_edit": [Case("GET", lambda o: f"/metrics/{o.metric.id}/edit", HR_ONLY)],
    "metrics.metric_archive": [
        Case("POST", lambda o: f"/metrics/{o.metric.id}/archive", HR_ONLY_POST)],
    "metrics.upload": [Case("GET", lambda o: "/metrics/import", IMPORTERS)],
    "metrics.preview": [
        Case("GET", lambda o: f"/metrics/import/{o.upload_token}", UPLOADER_ONLY),
        Case("GET", lambda o: "/metrics/import/not-a-token", {**UPLOADER_ONLY, "lead": 404}),
    ],
    "metrics.preview_errors": [
        Case("GET", lambda o: f"/metrics/import/{o.upload_token}/errors.csv", UPLOADER_ONLY)],
    "metrics.batches": [Case("GET", lambda o: "/metrics/batches", IMPORTERS)],
    "metrics.batch": [Case("GET", lambda o: f"/metrics/batches/{o.batch.id}", BATCH_VIEW)],
    "metrics.batch_undo": [
        Case("POST", lambda o: f"/metrics/batches/{o.batch.id}/undo",
             {"anon": LOGIN, "lead": 302, "hr": 302, "*": 404})],
    "metrics.person": [Case("GET", lambda o: f"/metrics/people/{o.rep.id}", RITA_SCOPE)],
    "metrics.team": [Case("GET", lambda o: "/metrics/team", MANAGERS_AND_HR)],
}
