"""A crawler for the anonymity tests: every page, export and PDF one person can reach by
following links from their dashboard, with what each says."""

from __future__ import annotations

import io
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

SKIP = ("/static/", "/auth/logout", "/auth/login")
TOKEN = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*(")|(name="csrf-token"[^>]*content=")'
                   r'[^"]*(")')
# Volatile parts of a PDF's text: times it was made, hashes, document ids.
PDF_VOLATILE = re.compile(r"\b[0-9a-f]{16,}\b|\d{1,2}:\d{2}(:\d{2})?|\b\d{4}-\d{2}-\d{2}T\S+")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def _links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def crawl(client, start: str = "/dashboard", limit: int = 400) -> dict[str, str]:
    """URL -> the text of what it answered (HTML with CSRF tokens blanked, CSV as is, a PDF's
    extracted text without its times and hashes), for every same-site link reachable."""
    seen: dict[str, str] = {}
    queue = deque([start])
    while queue and len(seen) < limit:
        url = urldefrag(queue.popleft())[0]
        if url in seen or not url.startswith("/") or url.startswith(SKIP):
            continue
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            seen[url] = f"redirect {response.location}"
            location = urlsplit(response.location)
            queue.append(location.path + (f"?{location.query}" if location.query else ""))
            continue
        kind = response.mimetype or ""
        if kind == "application/pdf":
            seen[url] = PDF_VOLATILE.sub("", pdf_text(response.data))
        elif kind.startswith("text/"):
            body = response.get_data(as_text=True)
            seen[url] = f"{response.status_code} " + TOKEN.sub(r"\1\2\3\4", body)
            if kind == "text/html":
                queue.extend(_links(body))
        else:
            seen[url] = f"{response.status_code} {kind} {len(response.data)} bytes"
    return seen
