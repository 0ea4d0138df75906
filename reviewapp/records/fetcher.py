"""The only way the PDF renderer may load anything: our own static files, by a scheme of ours.

The record template and its stylesheet name their fonts and styles as
`reviewapp-static:fonts/DejaVuSans.ttf`; what the renderer draws for one record (the chart) is
handed to it as `reviewapp-generated:…`. Every other URL — `file:`, `http:`, `https:`, `data:`,
`ftp:`, a path that climbs out of the static folder — is refused, so that nothing in a review
(all of it escaped anyway) can make the renderer read a file or call out.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote

from weasyprint.urls import URLFetcher, URLFetcherResponse

SCHEME = "reviewapp-static:"
GENERATED = "reviewapp-generated:"
STATIC_ROOT = (Path(__file__).resolve().parent.parent / "static").resolve()


class RefusedURL(ValueError):
    """The renderer asked for something that is not one of our static files."""


def static_path(url: str, root: Path = STATIC_ROOT) -> Path:
    """The file a `reviewapp-static:` URL names inside the static folder, or RefusedURL."""
    if not url.startswith(SCHEME):
        raise RefusedURL(f"refused to fetch {url[:80]!r}: only our own static files are served")
    relative = unquote(url[len(SCHEME):].split("?", 1)[0].split("#", 1)[0]).lstrip("/")
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise RefusedURL(f"refused to fetch {url[:80]!r}: not a static file")
    return path


class StaticOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves static files (read once, kept) and nothing else."""

    def __init__(self, root: Path = STATIC_ROOT, *, generated: dict | None = None,
                 cache: dict | None = None):
        super().__init__(allowed_protocols=["reviewapp-static", "reviewapp-generated"])
        self._root = root
        self._generated = generated or {}
        self._cache: dict[str, tuple[bytes, str]] = {} if cache is None else cache

    def with_generated(self, generated: dict[str, tuple[bytes, str]]) -> StaticOnlyFetcher:
        """A fetcher for one document: these generated resources, and the same static files."""
        return StaticOnlyFetcher(self._root, generated=generated, cache=self._cache)

    def fetch(self, url, headers=None):
        if url.startswith(GENERATED):
            if url not in self._generated:
                raise RefusedURL(f"refused to fetch {url[:80]!r}: nothing was generated there")
            body, mime = self._generated[url]
            return URLFetcherResponse(url, body, {"Content-Type": mime})
        if url not in self._cache:
            path = static_path(url, self._root)
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            self._cache[url] = (path.read_bytes(), mime)
        body, mime = self._cache[url]
        return URLFetcherResponse(url, body, {"Content-Type": mime})
