"""The demo organisation for browser tests that only look at pages: loaded once for a module,
without its PDF records (most of `flask demo load`'s time; records have no HTML page)."""

import threading

from reviewapp.demo.people import DEMO_PASSWORD
from reviewapp.extensions import db
from reviewapp.records import jobs


def _load_without_records(app) -> None:
    from reviewapp.demo import _later_steps
    from reviewapp.demo.people import load_people

    with app.app_context():
        load_people()
        for step in _later_steps():
            if step.__name__ != "load_records":
                step(7)
        jobs.forget_queued(db.session)  # the finalised reviews' records stay pending
        db.session.commit()


def load_demo_without_records(app) -> None:
    """In a thread of its own: Playwright's event loop runs in the test's thread."""
    failures = []

    def load():
        try:
            _load_without_records(app)
        except Exception as error:  # noqa: BLE001  (re-raised below, in the test's thread)
            failures.append(error)

    worker = threading.Thread(target=load)
    worker.start()
    worker.join()
    if failures:
        raise failures[0]
    db.session.expire_all()


def log_in_as_demo(page, user) -> None:
    """Log a Playwright page in as one of the demo's people (they share one password)."""
    page.goto("/auth/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard")
