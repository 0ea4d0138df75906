"""Response headers that keep pages from being framed, sniffed, cached or injected into, and
the proxy settings that tell the app when a request came over HTTPS.

The Content-Security-Policy allows scripts, styles, images and fonts from our own origin only:
no inline <script>, no style="" attributes, no on*="" handlers (they live in static/js and
static/css). Every page except static files is personal data and gets `Cache-Control:
no-store`. Over HTTPS (directly, or behind a proxy named in PROXY_X_*) answers carry HSTS and
every cookie is marked Secure.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
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
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    if request.is_secure:
        headers["Strict-Transport-Security"] = (
            f"max-age={int(current_app.config['HSTS_MAX_AGE'])}; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    """Trust the proxies named in PROXY_X_* (how many of each header) and add the headers."""
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)
    counts = {arg: int(app.config.get(setting) or 0) for setting, arg in PROXY_SETTINGS.items()}
    if any(counts.values()):  # outermost: the scheme is the client's before cookies are marked
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)
    app.after_request(add_headers)
