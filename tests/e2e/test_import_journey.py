"""A manager uploads a wide file, maps an unknown column in the preview, and confirms."""

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from reviewapp.metrics.catalogue import add_metric
from reviewapp.metrics.models import Observation


def test_upload_fix_mapping_and_confirm(page, browser_login, org, db):
    for key, kind in [("calls", "activity"), ("meetings", "activity"), ("revenue", "outcome")]:
        add_metric(None, key=key, name=key.title(), kind=kind, direction="higher", rollup="sum")
    db.session.commit()
    csv = (f"rep_email,period,calls,Mtgs\n{org.rep.email},2026-Q1,40,9\n"
           f"{org.rep2.email},2026-Q1,35,12\n")
    browser_login(org.lead)
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("Data file (CSV or XLSX)").set_input_files(
        files=[{"name": "q1.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_test_id("layout")).to_have_text("wide")
    expect(page.get_by_test_id("import-errors")).to_contain_text("is not a metric key")
    expect(page.get_by_role("button", name="Confirm import")).to_have_count(0)

    page.get_by_label("Column Mtgs").select_option("meetings")
    page.get_by_role("button", name="Apply mapping").click()
    expect(page.get_by_test_id("count-new")).to_have_text("4")
    expect(page.get_by_test_id("preview-rows")).to_contain_text("meetings")
    page.get_by_role("button", name="Confirm import").click()
    expect(page).to_have_url(re.compile(r"/metrics/batches/\d+$"))
    expect(page.get_by_text("4 new, 0 changed, 0 unchanged values")).to_be_visible()
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 4

    page.goto(f"/metrics/people/{org.rep.id}")
    expect(page.get_by_test_id("rep-metrics")).to_contain_text("Meetings")
