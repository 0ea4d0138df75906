"""The README's screenshots, retaken from the demo organisation: REVIEWAPP_SCREENSHOTS=1 with the
browser suite (REVIEWAPP_E2E=1) writes docs/*.png, including one phone-sized page.

    REVIEWAPP_E2E=1 REVIEWAPP_SCREENSHOTS=1 .venv/bin/pytest tests/e2e/test_screenshots.py

docs/record.png is page 1 of a PDF record, not a browser page, and is not retaken here."""

import os
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from reviewapp.auth.models import Role, User
from reviewapp.cycles.models import Cycle
from reviewapp.kpis.models import ValidationRun
from reviewapp.reviews.models import Review, ReviewState
from tests.e2e.demo_data import log_in_as_demo
from tests.e2e.test_phone_and_print import PHONE

DOCS = Path(__file__).resolve().parents[2] / "docs"
pytestmark = pytest.mark.skipif(os.environ.get("REVIEWAPP_SCREENSHOTS") != "1",
                                reason="set REVIEWAPP_SCREENSHOTS=1 to retake docs/*.png")


@pytest.fixture
def demo(runner, db):
    """The whole demo, signed PDF records included (the finalised review's page shows them)."""
    # In a thread of its own: Playwright's event loop runs in this one, and the demo's PDF
    # records start their own.
    results = []
    worker = threading.Thread(target=lambda: results.append(runner.invoke(args=["demo", "load"])))
    worker.start()
    worker.join()
    assert results[0].exit_code == 0, results[0].output
    db.session.expire_all()
    return {role: db.session.scalar(sa.select(User).where(User.role == role).order_by(User.id))
            for role in (Role.HR_ADMIN, Role.MANAGER, Role.REP)}


def _shoot(browser, base_url, user, path, name, viewport=None):
    context = browser.new_context(base_url=base_url,
                                  viewport=viewport or {"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    log_in_as_demo(page, user)
    page.goto(path)
    page.screenshot(path=str(DOCS / name), full_page=viewport is None)  # a phone: one screen
    context.close()


def test_retake_the_readme_screenshots(browser, live_server, demo, db):
    hr = demo[Role.HR_ADMIN]
    cycle = db.session.scalar(sa.select(Cycle).order_by(Cycle.period_start.desc()))
    review = db.session.scalar(sa.select(Review).where(
        Review.state == ReviewState.MANAGER_REVIEW).order_by(Review.id))
    run = db.session.scalar(sa.select(ValidationRun).where(ValidationRun.counts_for_status)
                            .order_by(ValidationRun.id.desc()))
    shared = db.session.scalar(sa.select(Review).where(
        Review.state == ReviewState.SHARED, Review.conversation_requested_at.is_(None),
        Review.cycle_id == cycle.id).order_by(Review.id))
    finalized = db.session.scalar(sa.select(Review).where(
        Review.state == ReviewState.FINALIZED, Review.cycle_id == cycle.id).order_by(Review.id))
    shots = [
        (shared.rep, f"/reviews/{shared.id}", "review-acknowledge.png", None),
        (hr, f"/reviews/{finalized.id}", "review-finalized.png", None),
        (hr, "/cycles/new", "cycle-editor.png", None),
        (hr, f"/cycles/{cycle.id}", "cycle-page.png", None),
        (hr, f"/cycles/{cycle.id}/calibration", "calibration.png", None),
        (hr, f"/kpis/runs/{run.id}", "kpi-result.png", None),
        (review.manager, "/goals/tree", "goals-tree.png", None),
        (review.manager, f"/reviews/{review.id}", "review-manager.png", None),
        (review.manager, f"/reviews/{review.id}", "review-phone.png", PHONE),
    ]
    for user, path, name, viewport in shots:
        _shoot(browser, live_server, user, path, name, viewport)
        assert (DOCS / name).stat().st_size > 10_000, name
