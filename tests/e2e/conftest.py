"""Browser tests: the app served on a free local port, driven by Playwright in Debian's Chromium.

With REVIEWAPP_E2E=1 (CI) a missing browser fails the run; otherwise these tests skip and say
how to enable them.
"""

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from reviewapp import create_app
from tests.conftest import LIMITER_CONFIG

CHROMIUM = os.environ.get("REVIEWAPP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-quic", "--no-first-run",
                 "--disable-sync"]
REQUIRED = os.environ.get("REVIEWAPP_E2E") == "1"
# The phone-width and print checks (marked `layout`) read only what the browser draws, which no
# database changes: when `make test` runs the suite on both databases they run once, in the
# SQLite run, which is the shorter (the PostgreSQL run gets REVIEWAPP_E2E_LAYOUT=0). The
# journeys and the accessibility checks run in both.
LAYOUT = os.environ.get("REVIEWAPP_E2E_LAYOUT", "1") != "0"


def pytest_collection_modifyitems(config, items):
    if LAYOUT:
        return
    once = pytest.mark.skip(reason="layout checks run once, in the SQLite run of make test")
    for item in items:
        if item.get_closest_marker("layout"):
            item.add_marker(once)
HOW_TO = ("browser tests need Playwright for Python and Debian's chromium at "
          f"{CHROMIUM} (apt-get install chromium); set REVIEWAPP_E2E=1 to require them")


def _unavailable(reason: str):
    if REQUIRED:
        pytest.fail(f"REVIEWAPP_E2E=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason}; {HOW_TO}")


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(_database, _app, tmp_path_factory):
    """A second app on the suite's database, with CSRF on as in production, in a thread."""
    url, options = _database
    server_app = create_app({
        "SECRET_KEY": "e2e-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": options,
        **LIMITER_CONFIG,  # Flask-Limiter has one storage per process: keep the suite's
    })
    server_app.instance_path = str(tmp_path_factory.mktemp("e2e-instance"))
    server = make_server("127.0.0.1", 0, server_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(browser, live_server, app):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def browser_login(page):
    """Log in through the real form."""
    from tests.factories import TEST_PASSWORD

    def _login(user, password: str = TEST_PASSWORD):
        page.goto("/auth/login")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/dashboard")
        return page

    return _login
