"""Security headers, HTTPS behaviour behind a proxy, and the production secret key."""

import os
import subprocess
import sys

import pytest

from reviewapp import create_app
from reviewapp.auth.models import Role
from tests.conftest import LIMITER_CONFIG
from tests.factories import TEST_PASSWORD
from tests.inline_code import inline_code


def _csp(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/auth/login", "/dashboard", "/api/v1/metrics",
                                  "/no-such-page"])
def test_every_answer_carries_the_headers(client, org, login_as, path):
    login_as(org.hr)
    response = client.get(path)
    csp = _csp(response)
    assert csp["default-src"] == "default-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["object-src"] == "object-src 'none'"
    assert csp["base-uri"] == "base-uri 'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_plain_http_gets_no_hsts_and_no_secure_cookie(client, create_user):
    user = create_user(Role.REP)
    response = client.post("/auth/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert "Strict-Transport-Security" not in response.headers
    assert "Secure" not in response.headers["Set-Cookie"]


def test_https_gets_hsts_and_secure_cookies(client, create_user):
    user = create_user(Role.REP)
    response = client.post("/auth/login", base_url="https://localhost",
                           data={"email": user.email, "password": TEST_PASSWORD,
                                 "remember": "y"})
    assert response.status_code == 302
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) >= 2 and all("; Secure" in c for c in cookies), cookies


def _proxied_app(_database, tmp_path, **settings):
    url, options = _database
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret-key",
                      "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options,
                      **LIMITER_CONFIG, **settings})
    app.instance_path = str(tmp_path)
    return app


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def test_forwarded_headers_are_ignored_unless_a_proxy_is_configured(_database, tmp_path):
    app = _proxied_app(_database, tmp_path)
    response = app.test_client().get("/auth/login", headers=FORWARDED)
    assert "Strict-Transport-Security" not in response.headers


def test_proxy_fix_from_settings(_database, tmp_path):
    app = _proxied_app(_database, tmp_path, PROXY_X_FOR=1, PROXY_X_PROTO=1)
    seen = {}

    @app.get("/_probe")
    def probe():
        from flask import request
        seen.update(addr=request.remote_addr, secure=request.is_secure)
        return "ok"

    response = app.test_client().get("/_probe", headers=FORWARDED)
    assert seen == {"addr": "203.0.113.7", "secure": True}
    assert "Strict-Transport-Security" in response.headers


def _start(env_extra: dict, tmp_path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWAPP_")}
    env.update(REVIEWAPP_ENV="production", REVIEWAPP_DATABASE_URL=f"sqlite:///{tmp_path}/x.db",
               **env_extra)
    code = "from reviewapp import create_app; create_app()"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          cwd=tmp_path)


def test_production_refuses_a_short_secret_key_with_one_line(tmp_path):
    proc = _start({"REVIEWAPP_SECRET_KEY": "abcd"}, tmp_path)
    assert proc.returncode != 0
    assert proc.stderr.strip() == (
        "REVIEWAPP_SECRET_KEY is 4 bytes long; production needs at least 32 random bytes "
        "(e.g. python3 -c 'import secrets; print(secrets.token_hex(32))')."
    )


def test_production_starts_with_a_long_secret_key(tmp_path):
    proc = _start({"REVIEWAPP_SECRET_KEY": "k" * 32}, tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_the_inline_code_detector_finds_what_a_strict_csp_blocks():
    page = """<html><head><style>p{}</style></head><body>
      <p style="color:red">x</p><button onclick="go()">b</button>
      <script>alert(1)</script><script src="/static/js/app.js"></script>
      <a href="javascript:alert(1)">j</a><svg><rect style="fill:red"/></svg>
      <form onsubmit="return confirm('x')"></form></body></html>"""
    found = inline_code(page)
    assert len(found) == 7, found
    assert inline_code('<p class="muted" data-confirm="Sure?">ok</p>'
                       '<script src="/static/js/app.js" defer></script>') == []
