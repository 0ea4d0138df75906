"""The stored record itself, opened as a reader would: its text, fonts, metadata, layout, and
its signature. Two reviews finalised once for the module (long notes; one acknowledged with a
comment full of special characters and HTML, one finalised unacknowledged after the deadline).
"""

import hashlib
import io
import re
import subprocess
from pathlib import Path

import pypdf
import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from reviewapp.extensions import db
from reviewapp.numbers import figure
from reviewapp.records.content import canonical
from reviewapp.records.signing import outside_event_loop
from reviewapp.reviews.scoring import format_score
from tests.records import builders
from tests.records.conftest import configure_key, pdf_text, render_pending


@pytest.fixture(scope="module")
def stored(module_app, tmp_path_factory):
    folder = tmp_path_factory.mktemp("records")
    keys = configure_key(module_app, folder / "keys")
    org = builders.finalised_cycle(2, long_notes=True)
    records = render_pending()
    paths = []
    for record in records:
        path = folder / f"{record.document_id}.pdf"
        path.write_bytes(record.pdf)
        paths.append(path)
    acked, unacked = records
    return {"org": org, "records": records, "paths": paths, "keys": keys, "folder": folder,
            "acked": (acked, paths[0]), "unacked": (unacked, paths[1])}


def _pages(path: Path) -> int:
    return len(pypdf.PdfReader(str(path)).pages)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_every_record_is_rendered_signed_and_hashed(stored):
    for record in stored["records"]:
        assert record.status.value == "rendered", record.error
        assert record.signed and "Northwind Sales" in record.signer
        assert record.sha256 == hashlib.sha256(record.pdf).hexdigest()
        assert record.content_sha256 == hashlib.sha256(canonical(record.content)).hexdigest()
        assert record.pdf.startswith(b"%PDF-")


def test_the_record_says_who_when_and_the_scores(stored):
    record, path = stored["acked"]
    c = record.content
    text = _squash(pdf_text(path))
    for expected in ("Performance review record", c["rep"]["name"], c["manager"],
                     c["rep"]["team"], c["cycle"]["name"], c["cycle"]["period"],
                     "01 Oct 2025 – 31 Dec 2025", "Northwind Sales"):
        assert expected in text, expected
    scores = c["scores"]
    shown = {k: format_score(scores[k]) for k in ("overall", "quant", "qual")}
    assert shown["overall"] in text and shown["quant"] in text
    assert (f"Overall = 0.50 × KPI score {shown['quant']} + 0.50 × competency score "
            f"{shown['qual']} = {shown['overall']}.") in text


def test_the_kpi_table_carries_its_evidence_and_the_override(stored):
    record, path = stored["acked"]
    text = _squash(pdf_text(path))
    for kpi in record.content["kpis"]:
        assert kpi["name"] in text
        assert f" {figure(kpi['target'])} " in text
        # The evidence sentence that made the metric a KPI, frozen at launch.
        assert _squash(kpi["evidence"]) in text, kpi["evidence"]
        assert f"validation run #{kpi['run_id']}" in text
    first = record.content["kpis"][0]
    assert first["override"] == 4 and "(computed" in text
    assert "Two meetings were booked in the last week of the quarter" in text
    assert "lower is better" in text  # First response time


def test_competencies_side_by_side_with_anchors_notes_and_calibration(stored):
    record, path = stored["acked"]
    text = _squash(pdf_text(path))
    for comp in record.content["competencies"]:
        assert comp["name"] in text
        assert _squash(comp["self_anchor"]) in text and _squash(comp["manager_anchor"]) in text
        assert _squash(comp["self_note"])[:60] in text
        assert _squash(comp["manager_note"])[:60] in text
    assert "Calibrated to 5 / 5" in text
    assert "Seen across three teams in calibration" in text
    assert "Calibration adjustments" in text


def test_user_text_is_printed_literally_special_characters_and_html(stored):
    _record, path = stored["acked"]
    text = _squash(pdf_text(path))
    assert builders.SPECIAL in text
    # HTML a person typed is text on the page, never markup (and its <img> fetched nothing).
    assert '<script>alert("x")</script><b>bold?</b>' in text
    assert '<img src="file:///etc/passwd">' in text.replace("file:/// etc", "file:///etc")


def test_goals_are_context_not_scored(stored):
    _record, path = stored["acked"]
    text = _squash(pdf_text(path, layout=True))
    assert "Goals this period context — not scored" in text
    assert "are not scored" in text


def test_the_acknowledgement_block(stored):
    record, path = stored["acked"]
    text = _squash(pdf_text(path))
    ack = record.content["acknowledgement"]
    assert f"{ack['typed_name']} acknowledged this review on" in text
    assert "“I have read it”, not “I agree”" in text
    assert "Thanks." in text
    record, path = stored["unacked"]
    text = _squash(pdf_text(path))
    assert record.content["acknowledgement"] is None
    assert "Not acknowledged." in text
    assert "finalised after the acknowledgement deadline" in text


def test_the_state_history(stored):
    record, path = stored["acked"]
    text = _squash(pdf_text(path))
    assert "State history" in text
    for step in record.content["history"]:
        assert f"{step['from']} {step['to']} {step['by']}" in text
    assert [s["to"] for s in record.content["history"]][-1] == "Finalised"


def test_every_page_has_the_header_and_the_footer_page_x_of_y(stored):
    record, path = stored["acked"]
    n = _pages(path)
    assert n >= 2  # long notes
    for page in range(1, n + 1):
        text = _squash(pdf_text(path, page))
        assert f"Page {page} of {n}" in text
        assert f"Document {record.document_id}" in text
        assert record.content_sha256 in text
        assert "Northwind Sales" in text and "2025 Q4 review · 2025-Q4" in text


def test_long_notes_break_across_pages_and_tables_repeat_their_header(stored):
    record, path = stored["acked"]
    n = _pages(path)
    pages = [pdf_text(path, p, layout=True) for p in range(1, n + 1)]
    names = "|".join(re.escape(c["name"]) for c in record.content["competencies"])
    rows = re.compile(rf"^\s*(?:{names})\s+\d / 5", re.MULTILINE)  # a row of the table
    spanned = [i for i, text in enumerate(pages) if rows.search(text)]
    assert len(spanned) >= 2, "the competency table should run over pages with long notes"
    for i in spanned:
        assert re.search(r"Competency +Self-assessment +Manager", pages[i]), f"page {i + 1}"


def test_nothing_overflows_the_margin(stored):
    """Every word's box lies inside the page's margins (a long unbroken link wraps too)."""
    _record, path = stored["acked"]
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    width = float(re.search(r'<page width="([\d.]+)"', html).group(1))
    margin = 16 / 25.4 * 72  # 16 mm
    right = [float(x) for x in re.findall(r'xMax="([\d.]+)"', html)]
    left = [float(x) for x in re.findall(r'xMin="([\d.]+)"', html)]
    assert right and max(right) <= width - margin + 1.0
    assert min(left) >= margin - 1.0
    assert builders.UNBROKEN[:40] in _squash(pdf_text(path)).replace(" ", "")


def test_fonts_are_the_shipped_ones_embedded_and_subset(stored):
    _record, path = stored["acked"]
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                         text=True).stdout.splitlines()[2:]
    assert out, "no fonts"
    for line in out:
        name, *_rest = line.split()
        columns = line.split()
        emb, sub = columns[-5], columns[-4]
        assert emb == "yes" and sub == "yes", line
        # The shipped faces only: DejaVu Sans, and its CJK and symbol fallbacks.
        assert re.match(r"[A-Z]{6}\+Record-(Sans|CJK|Symbols)", name), line


def test_metadata_and_the_archivable_tagged_variant(stored):
    record, path = stored["acked"]
    reader = pypdf.PdfReader(str(path))
    meta = reader.metadata
    assert meta.title == f"Review record: {record.content['rep']['name']}, 2025 Q4 review"
    assert meta.author == "Northwind Sales"
    assert record.document_id in meta.subject and "Performance review record" in meta.subject
    assert record.content_sha256 in meta.get("/Keywords")
    created = meta.creation_date
    assert created.replace(microsecond=0) == record.finalized_at.replace(microsecond=0,
                                                                       tzinfo=created.tzinfo)
    xmp = reader.xmp_metadata
    assert xmp is not None and xmp.get_element("", "http://www.aiim.org/pdfa/ns/id/", "part")
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                          text=True).stdout
    assert re.search(r"Tagged:\s+yes", info)


def _validate(data: bytes, cert_path: Path):
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(cert_path))],
                                allow_fetching=False)
    return outside_event_loop(validate_pdf_signature, reader.embedded_signatures[0], context)


def test_the_signature_validates_and_covers_the_whole_file(stored):
    record, _path = stored["acked"]
    status = _validate(record.pdf, stored["keys"]["cert"])
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.bottom_line


def test_a_changed_byte_breaks_the_signature(stored):
    record, _path = stored["acked"]
    data = bytearray(record.pdf)
    at = data.index(b"Northwind Sales")  # inside the signed range (document metadata)
    data[at] = ord("X")
    status = _validate(bytes(data), stored["keys"]["cert"])
    assert not status.intact and not status.bottom_line


def test_verify_says_ok_for_the_stored_file(stored, module_app):
    result = module_app.test_cli_runner().invoke(args=["records", "verify",
                                                       str(stored["acked"][1])])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK ")
    assert "signature valid" in result.output and "1 OK, 0 differ." in result.output


def test_verify_finds_a_changed_byte_and_says_how(stored, module_app):
    record, path = stored["acked"]
    data = bytearray(record.pdf)
    at = data.index(b"Northwind Sales")
    data[at] = ord("X")
    changed = stored["folder"] / "changed.pdf"
    changed.write_bytes(bytes(data))
    result = module_app.test_cli_runner().invoke(args=["records", "verify", str(changed),
                                                       str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("DIFFERS  changed.pdf")
    assert f"differs from the stored record {record.document_id}" in lines[0]
    assert f"first difference at byte {at:,}" in lines[0]
    assert "digest does not match" in lines[0]
    assert lines[1].startswith("OK ")
    assert "1 OK, 1 differ." in result.output


CJK = "我在本季度与客户建立了长期合作关系。日本語のテキスト。한국어 문장도 있습니다."


def test_chinese_japanese_korean_and_emoji_print_in_the_shipped_faces(app, signing, tmp_path):
    """Only DejaVu was shipped: these printed as empty boxes in a record that can never
    change, whatever the host had installed."""
    org = builders.launched_cycle(1, team_name="Asia Pacific", name="CJK review")
    review = org.reviews[0]
    builders.write_review(org, review)
    review.achievements = f"{CJK} Great quarter 🚀🎉"
    builders.finalise(org, review)
    db.session.commit()
    [record] = render_pending()
    path = tmp_path / "cjk.pdf"
    path.write_bytes(record.pdf)
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                           text=True).stdout
    assert "+Record-CJK" in fonts and "+Record-Symbols" in fonts
    assert CJK.replace(" ", "") in _squash(pdf_text(path)).replace(" ", "")


def test_a_competencys_rating_is_never_left_at_a_page_foot_without_its_notes(stored):
    """'Customer satisfaction' and its ratings sat at the foot of page 1, its notes on page
    2: each note starts on the page of the rating it explains."""
    record, path = stored["acked"]
    pages = [_squash(pdf_text(path, p)) for p in range(1, _pages(path) + 1)]
    for comp in record.content["competencies"]:
        for note in (comp["self_note"], comp["manager_note"]):
            start = _squash(note)[:30]
            page = next(i for i, text in enumerate(pages) if start in text)
            assert comp["name"] in pages[page], (comp["name"], page + 1)
