"""Text responses are gzipped when the browser asks and the request comes from our own pages."""

import gzip

import pytest

from reviewapp.auth.models import Role


@pytest.fixture
def page(client, login_as, create_user):
    login_as(create_user(Role.HR_ADMIN))
    return client


def test_a_page_is_gzipped_when_asked_and_reads_the_same(page):
    plain = page.get("/dashboard")
    packed = page.get("/dashboard", headers={"Accept-Encoding": "gzip, br",
                                             "Sec-Fetch-Site": "same-origin"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data)
    # The page differs per request only in its CSRF token and nonce; the shape is the same.
    assert gzip.decompress(packed.data).decode().count("<main") == plain.get_data(
        as_text=True).count("<main") == 1


def test_a_request_another_site_makes_the_browser_send_is_not_compressed(page):
    """BREACH needs a compressed secret and attacker-chosen input in one response."""
    response = page.get("/dashboard", headers={"Accept-Encoding": "gzip",
                                               "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200 and "Content-Encoding" not in response.headers


def test_small_bodies_and_binary_files_are_sent_as_they_are(client):
    small = client.get("/dashboard", headers={"Accept-Encoding": "gzip"})  # a redirect to log in
    assert small.status_code == 302 and len(small.data) < 1024
    assert "Content-Encoding" not in small.headers
    icon = client.get("/static/favicon.svg", headers={"Accept-Encoding": "gzip"})
    assert icon.status_code == 200 and "Content-Encoding" not in icon.headers


def test_it_can_be_left_to_the_proxy(page, app):
    app.config["COMPRESS"] = False
    response = page.get("/dashboard", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers
