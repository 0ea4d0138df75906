"""Content -> HTML (Jinja, templates/records/record.html) -> PDF (WeasyPrint).

One Renderer per process and page setup keeps what is costly to build: the parsed print
stylesheet, the font configuration with the shipped DejaVu faces, the static files read by the
fetcher. Jinja compiles the template once. Those are shared, and Pango's font map is not
made for two threads at once, so a renderer lays out one record at a time: a threaded server
worker (gunicorn --threads) serves other pages meanwhile, and the warm-up thread's first
render never overlaps a request's.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from functools import lru_cache

from flask import current_app, render_template
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from reviewapp.records.chart import kpi_chart_svg
from reviewapp.records.dates import record_date, record_time  # noqa: F401 (their old home)
from reviewapp.records.fetcher import GENERATED, SCHEME, StaticOnlyFetcher

TEMPLATE = "records/record.html"
CHART_URL = f"{GENERATED}kpi-chart.svg"
PAGE_SIZES = {"a4": "A4", "letter": "letter"}


class Renderer:
    """Renders record HTML to PDF with only our fonts and static files."""

    def __init__(self, page_size: str = "A4", variant: str | None = "pdf/a-3a"):
        size = PAGE_SIZES.get((page_size or "A4").lower())
        if size is None:
            raise ValueError(f"RECORDS_PAGE_SIZE must be A4 or Letter, not {page_size!r}")
        self.variant = variant or None
        self.lock = threading.Lock()
        self.fetcher = StaticOnlyFetcher()
        self.font_config = FontConfiguration()
        self.stylesheets = [
            CSS(url=f"{SCHEME}records/print.css", url_fetcher=self.fetcher,
                font_config=self.font_config),
            CSS(string=f"@page {{ size: {size}; }}", font_config=self.font_config),
        ]

    def pdf(self, html: str, *, identifier: str,
            generated: dict[str, tuple[bytes, str]] | None = None) -> bytes:
        """The PDF of one record's HTML and what it draws (`generated`: URL -> bytes, type);
        `identifier` becomes the file's /ID."""
        fetcher = self.fetcher.with_generated(generated or {})
        with self.lock:
            return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf(
                stylesheets=self.stylesheets, font_config=self.font_config,
                pdf_variant=self.variant, pdf_identifier=hashlib.md5(
                    identifier.encode(), usedforsecurity=False).hexdigest().encode())


@lru_cache(maxsize=4)
def renderer(page_size: str, variant: str | None) -> Renderer:
    """This process's renderer for a page setup."""
    return Renderer(page_size, variant)


def current_renderer() -> Renderer:
    config = current_app.config
    return renderer(config.get("RECORDS_PAGE_SIZE", "A4"), config.get("RECORDS_PDF_VARIANT"))


def record_html(content: dict, content_sha256: str, *, created: datetime | None = None,
                chart: bool = True) -> str:
    """The record's HTML; `created` (the finalising time; now for a draft) is its PDF date."""
    created = created or datetime.now(UTC)
    return render_template(TEMPLATE, c=content, content_sha256=content_sha256,
                           chart_url=CHART_URL if chart else None,
                           created=created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def render_pdf(content: dict, content_sha256: str, *, created: datetime | None = None) -> bytes:
    """Content to PDF bytes, unsigned."""
    chart = kpi_chart_svg(content.get("kpi_history") or {})
    html = record_html(content, content_sha256, created=created, chart=bool(chart))
    return current_renderer().pdf(html, identifier=content["document_id"],
                                  generated={CHART_URL: (chart, "image/svg+xml")})
