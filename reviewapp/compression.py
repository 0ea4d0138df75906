"""Gzip for text responses: the run result page carries half a megabyte of SVG, long lists and
CSV exports compress five- to tenfold.

Only when the browser asks (`Accept-Encoding: gzip`), for text types over `COMPRESS_MIN_BYTES`,
never for streamed or already encoded bodies (PDFs and ZIPs are compressed already). Against
BREACH (secrets in a compressed page, guessed through its length while an attacker's page makes
the victim's browser send chosen input), a response is compressed only when the request came
from our own pages or was typed into the address bar (`Sec-Fetch-Site` same-origin or none):
a request another site makes the browser send is answered uncompressed. Clients that send no
`Sec-Fetch-Site` (scripts, the API, old browsers) are not driven by a hostile page and get gzip.
`REVIEWAPP_COMPRESS=false` turns it off, e.g. when the proxy in front compresses.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, current_app, request

TEXT_TYPES = frozenset({
    "text/html", "text/css", "text/csv", "text/plain", "text/javascript",
    "application/javascript", "application/json", "image/svg+xml",
})
OWN_SITE = frozenset({"same-origin", "none"})


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS", True)
    app.config.setdefault("COMPRESS_MIN_BYTES", 1024)
    app.config.setdefault("COMPRESS_LEVEL", 6)
    app.after_request(_compress)


def _wants_gzip() -> bool:
    if "gzip" not in request.headers.get("Accept-Encoding", "").lower():
        return False
    site = request.headers.get("Sec-Fetch-Site")
    return site is None or site in OWN_SITE


def _compress(response: Response) -> Response:
    config = current_app.config
    response.vary.add("Accept-Encoding")
    if (not config.get("COMPRESS") or response.direct_passthrough or response.is_streamed
            or response.status_code < 200 or response.status_code in (204, 304)
            or "Content-Encoding" in response.headers or response.mimetype not in TEXT_TYPES
            or request.method == "HEAD" or not _wants_gzip()):
        return response
    body = response.get_data()
    if len(body) < config.get("COMPRESS_MIN_BYTES", 1024):
        return response
    response.set_data(gzip.compress(body, compresslevel=config.get("COMPRESS_LEVEL", 6), mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag and not weak:
        # A strong validator names the bytes sent, and these are other bytes.
        response.set_etag(etag, weak=True)
    return response
