"""Loading the heavy libraries in the background once a server worker is up.

App start stays light (tests/test_startup_imports.py): WeasyPrint, matplotlib, pyHanko, pandas
and numpy load on first use. In a server that first use is a person's request: the first draft
PDF a gunicorn worker sends took 1.5 s instead of 0.2 s, the first KPI chart likewise, and
that request held a worker the whole time. wsgi.py starts this thread, so a worker answers at
once and the libraries, the record stylesheet and the fonts are ready a moment later; a request
that needs one of them meanwhile waits only for the rest of its import. It compiles every page
template first, so that no one's first visit to a page in a new worker waits for that either.
`flask` commands never start it; `REVIEWAPP_WARM_UP=false` turns it off (a worker then loads
them on first use, as before).
"""

from __future__ import annotations

import gc
import threading

from flask import Flask

WARM_PAGE = "<!doctype html><html lang='en'><title>warm-up</title><p>Ready.</p></html>"


def _warm(app: Flask) -> None:
    with app.app_context():
        # Every page template compiled (1.5 s for the 93 of them): a worker's first visit to a
        # page otherwise compiled its template, base and macros in that person's request,
        # 15-50 ms more (the cycle page's first visits took 106-229 ms under load).
        environment = app.jinja_env
        for name in environment.list_templates(extensions=["html"]):
            environment.get_template(name)

        import pandas  # noqa: F401  (and numpy: the imports, the KPI lab, goal progress)

        from reviewapp.kpis import charts  # noqa: F401  (matplotlib, on the KPI run page)
        from reviewapp.records import chart  # noqa: F401  (matplotlib, in every record)
        from reviewapp.records.render import current_renderer
        from reviewapp.records.signing import current_signer

        current_renderer().pdf(WARM_PAGE, identifier="warm-up")  # stylesheet, fonts, layout
        current_signer()  # pyHanko, and the key read once
    # The libraries' objects live as long as the worker: out of the collector's sight, as
    # wsgi.py does with the app's (a full collection walked them all: 175 ms a time).
    gc.freeze()


def warm_up(app: Flask) -> threading.Thread | None:
    """Start warming this process in a daemon thread (unless WARM_UP is off); failures are
    logged and left to the first request that needs the library, which reports them."""
    if not app.config.get("WARM_UP", True):
        return None

    def run() -> None:
        try:
            _warm(app)
        except Exception:  # the request that needs it will fail visibly; the worker serves on
            app.logger.exception("Warming up the PDF and chart libraries failed")

    thread = threading.Thread(target=run, name="reviewapp-warm-up", daemon=True)
    thread.start()
    return thread
