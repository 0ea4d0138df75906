"""Response headers that keep pages from being framed, sniffed, cached or injected into, and
the proxy settings that tell the app when a request came over HTTPS.

The Content-Security-Policy allows scripts, styles, images and fonts from our own origin only:
no inline <script>, no style="" attributes, no on*="" handlers (they live in static/js and
static/css). Every page except static files is personal data and gets `Cache-Control:
no-store`. Over HTTPS (directly, or behind a proxy named in PROXY_X_*) answers carry HSTS and
every cookie is marked Secure.

Also here, because they guard every page alike: a NUL byte in any form field or query
parameter is refused before a view runs, and text with right-to-left overrides is isolated
wherever a template prints it.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, render_template, request
from markupsafe import Markup
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
PROXY_SETTINGS = {"PROXY_X_FOR": "x_for", "PROXY_X_PROTO": "x_proto",
                  "PROXY_X_HOST": "x_host", "PROXY_X_PORT": "x_port",
                  "PROXY_X_PREFIX": "x_prefix"}


class SecureCookiesOverHttps:
    """WSGI middleware: over HTTPS, mark every cookie Secure (the session cookie and Flask-Login's
    remember-me cookie are written after every after_request hook, so it is done here)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def start_secure(status, headers, exc_info=None):
            headers = [(name, value + "; Secure" if name.lower() == "set-cookie"
                        and "; secure" not in value.lower() else value)
                       for name, value in headers]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_secure)


def add_headers(response: Response) -> Response:
    """The security headers of every answer (after_request)."""
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    # same-origin, not no-referrer: Flask-WTF checks the Referer of HTTPS form posts.
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint != "static" and "no-store" not in headers.get("Cache-Control", ""):
        headers["Cache-Control"] = "no-store"  # a view's own no-store (private, no-store) stays
        headers.pop("Expires", None)
    if request.is_secure:
        headers["Strict-Transport-Security"] = (
            f"max-age={int(current_app.config['HSTS_MAX_AGE'])}; includeSubDomains")
    return response


NUL_MESSAGE = ("A field of this request contains a NUL character (\\0), which is not allowed. "
               "Remove it and try again; nothing was saved.")


def _posted_form() -> list[tuple[str, str]]:
    """The fields of the request's posted form (every value of each); none for a GET or a body
    that is not a form (the API's JSON)."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.mimetype not in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        return []
    return [*request.form.items(multi=True)]


def refuse_nul():
    """Refuse any form field, query parameter or name that holds a NUL byte (before_request):
    one answer for every form, before any view or service sees the text."""
    values = [*request.args.items(multi=True), *_posted_form()]
    if not any("\x00" in key or "\x00" in value for key, value in values):
        return None
    if request.path.startswith("/api/"):
        return jsonify({"error": NUL_MESSAGE}), 400
    return render_template("errors/error.html", code=400, title="NUL character",
                           text=NUL_MESSAGE), 400


# Characters that change the direction of the text after them (embeddings, overrides,
# isolates and marks). Text people typed that holds one is wrapped in FIRST STRONG ISOLATE ...
# POP DIRECTIONAL ISOLATE: like <bdi>, it keeps the text from reordering what surrounds it, and
# unlike a tag it is safe in attributes, plain-text emails and PDFs alike.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")
FSI, PDI = "\u2068", "\u2069"


def isolate_bidi(value):
    """Jinja's finalize: every {{ value }} that is plain text with a direction control comes
    out isolated; markup built by the app, numbers and ordinary text are left as they are."""
    if isinstance(value, str) and not isinstance(value, Markup) and \
            not BIDI_CONTROLS.isdisjoint(value):
        return FSI + value + PDI
    return value


def unwrap_isolated(value: str) -> str:
    """The text as typed, without the FSI … PDI that isolate_bidi put around it when the page
    showed it in a form field: saved back untouched, it would otherwise grow on every save."""
    while (len(value) >= 2 and value[0] == FSI and value[-1] == PDI
           and not BIDI_CONTROLS.isdisjoint(value[1:-1])):
        value = value[1:-1]
    return value


def unwrap_isolated_form() -> None:
    """before_request: the posted form's values with isolate_bidi's wrapping taken off."""
    fields = _posted_form()
    if any(value[:1] == FSI for _, value in fields):
        request.form = ImmutableMultiDict(
            [(key, unwrap_isolated(value)) for key, value in fields])


def init_app(app: Flask) -> None:
    """Trust the proxies named in PROXY_X_* (how many of each header) and add the headers."""
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)
    counts = {arg: int(app.config.get(setting) or 0) for setting, arg in PROXY_SETTINGS.items()}
    if any(counts.values()):  # outermost: the scheme is the client's before cookies are marked
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)
    app.before_request(refuse_nul)
    app.before_request(unwrap_isolated_form)
    app.after_request(add_headers)
    app.jinja_env.finalize = isolate_bidi
