"""Upload denial of service: a workbook that inflates into millions of cells is refused from
its declared size or while it streams, within a time limit; an upload is parsed once and the
preview and the confirmation reuse that; pending uploads have a per-user quota and go away
when confirmed or cancelled."""

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from reviewapp.metrics import parsing, uploads
from tests.metrics.test_import_web import upload


def workbook(rows: int, cols: int = 4, dimension: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["rep_email", "period", "metric", "value"][:cols] + [f"x{i}" for i in
                                                                      range(cols - 4)])
    for i in range(rows):
        sheet.append(["ana@example.com", f"2026-{(i % 12) + 1:02d}", "calls", i][:cols])
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    if dimension is None:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                body = re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>'
                              .encode(), body)
            dst.writestr(item, body)
    return out.getvalue()


def pending_files(app) -> list[str]:
    folder = Path(app.instance_path) / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def page(client, url) -> str:
    return client.get(url).get_data(as_text=True)


def test_a_declared_giant_sheet_is_refused_before_any_row_is_read(client, corpus_org,
                                                                  login_as, monkeypatch):
    login_as(corpus_org.lead)
    read = []
    monkeypatch.setattr(parsing, "_xlsx_value", lambda c: read.append(1) or c.value)
    preview = upload(client, workbook(3, dimension="A1:Z2000000"), "bomb.xlsx")
    body = page(client, preview)
    assert "declares 2,000,000 rows × 26 columns" in body and "save it as CSV" in body
    assert read == []


def test_a_sheet_that_hides_its_size_is_stopped_while_streaming(client, corpus_org, login_as,
                                                                monkeypatch):
    monkeypatch.setattr(parsing, "XLSX_MAX_CELLS", 400)
    login_as(corpus_org.lead)
    preview = upload(client, workbook(200, dimension="A1:A1"), "liar.xlsx")
    assert "holds more than 400 cells" in page(client, preview)


def test_reading_a_sheet_has_a_time_limit(client, corpus_org, login_as, monkeypatch):
    monkeypatch.setattr(parsing, "XLSX_MAX_SECONDS", -1.0)
    login_as(corpus_org.lead)
    preview = upload(client, workbook(20), "slow.xlsx")
    assert "took longer than" in page(client, preview)


def test_an_upload_is_parsed_once(client, corpus_org, login_as, monkeypatch):
    login_as(corpus_org.lead)
    preview = upload(client, workbook(3), "good.xlsx")

    def no_second_parse(*args, **kwargs):
        raise AssertionError("the upload was parsed again")

    monkeypatch.setattr(parsing, "read_table", no_second_parse)
    monkeypatch.setattr(parsing, "_read_xlsx", no_second_parse)
    assert "Confirm import" in page(client, preview)
    assert "Confirm import" in page(client, preview)
    response = client.post(preview, data={"action": "confirm"})
    assert response.status_code == 302 and "/metrics/batches/" in response.headers["Location"]
    token = preview.rsplit("/", 1)[1]
    assert not [f for f in pending_files(client.application) if f.startswith(token)]


def test_pending_uploads_have_a_quota_and_go_away_when_cancelled(client, corpus_org,
                                                                 login_as, monkeypatch, app):
    monkeypatch.setattr(uploads, "MAX_PENDING_PER_USER", 2)
    login_as(corpus_org.lead)
    first = upload(client, workbook(2), "a.xlsx")
    upload(client, workbook(3), "b.xlsx")
    response = client.post("/metrics/import", data={
        "file": (io.BytesIO(workbook(4)), "c.xlsx"), "sheet": ""},
        content_type="multipart/form-data")
    assert response.status_code == 200
    assert "2 imports are waiting" in response.get_data(as_text=True)
    login_as(corpus_org.hr)  # the quota is per user
    upload(client, workbook(4), "c.xlsx")
    login_as(corpus_org.lead)
    client.post(first, data={"action": "cancel"})
    upload(client, workbook(5), "d.xlsx")  # room again
    assert len([f for f in pending_files(app) if f.endswith(".json")]) == 3


@pytest.mark.parametrize("tamper", [b"x", b""])
def test_a_tampered_parsed_upload_is_not_trusted(client, corpus_org, login_as, app, tamper):
    login_as(corpus_org.lead)
    preview = upload(client, workbook(3), "good.xlsx")
    [parsed] = [p for p in (Path(app.instance_path) / "uploads").iterdir()
                if p.suffix == ".parsed"]
    parsed.write_bytes(parsed.read_bytes()[:-1] + tamper)
    assert client.get(preview).status_code == 404


def test_files_that_could_not_be_read_do_not_use_up_the_quota(client, corpus_org, login_as,
                                                              monkeypatch, app):
    """Five files too large (or not tables at all) blocked every further upload until each
    was cancelled, though none of them could ever be confirmed."""
    monkeypatch.setattr(uploads, "MAX_PENDING_PER_USER", 2)
    login_as(corpus_org.lead)
    for name in ("a.pdf", "b.pdf", "c.pdf"):
        upload(client, b"%PDF-1.7 not a table", name)
    response = client.post("/metrics/import", data={
        "file": (io.BytesIO(workbook(4)), "c.xlsx"), "sheet": ""},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
