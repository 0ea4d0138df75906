"""The renderer's fetcher, the cycle ZIP and its manifest, and `flask records …`."""

import csv
import hashlib
import io
import logging
import os
import stat
import zipfile

import pytest
import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.records.fetcher import RefusedURL, StaticOnlyFetcher
from reviewapp.records.models import RecordStatus, ReviewRecord
from reviewapp.records.render import current_renderer
from tests.factories import create_team, create_user
from tests.records import builders
from tests.records.conftest import render_pending


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "http://127.0.0.1:1/x.css", "https://example.com/font.ttf",
    "ftp://example.com/x", "data:text/css,body{}", "reviewapp-static:../../pyproject.toml",
    "reviewapp-static:%2e%2e/config.py", "reviewapp-static:fonts/missing.ttf",
    "reviewapp-generated:anything.svg", "/etc/passwd",
])
def test_the_fetcher_refuses_everything_but_our_static_files(url):
    with pytest.raises((RefusedURL, ValueError)):
        StaticOnlyFetcher().fetch(url)


def test_the_fetcher_serves_our_static_files():
    response = StaticOnlyFetcher().fetch("reviewapp-static:fonts/DejaVuSans.ttf")
    assert response.read()[:4] == b"\x00\x01\x00\x00"  # a TrueType font


def test_a_document_asking_for_a_local_file_or_the_network_gets_nothing(app, caplog):
    html = ('<html><body><p>x</p><img src="file:///etc/hostname">'
            '<img src="http://127.0.0.1:9/pixel.png">'
            '<link rel="stylesheet" href="https://example.com/a.css"></body></html>')
    with app.test_request_context(), caplog.at_level(logging.WARNING):
        pdf = current_renderer().pdf(html, identifier="fetch-test")
    assert pdf.startswith(b"%PDF-")
    refused = " ".join(r.getMessage() for r in caplog.records)
    assert "file:///etc/hostname" in refused and "127.0.0.1:9" in refused
    assert "disallowed protocol" in refused or "refused" in refused
    with open("/etc/hostname", "rb") as handle:
        assert handle.read().strip() not in pdf


def _zip(data: bytes) -> tuple[list[dict], zipfile.ZipFile]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    return rows, archive


def test_the_cycle_zip_holds_the_stored_pdfs_and_a_manifest_that_matches(app, signing, client,
                                                                         login_as):
    org = builders.finalised_cycle(3)
    records = render_pending()
    login_as(org.hr)
    response = client.get(f"/records/cycles/{org.cycle.id}.zip")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"] == \
        "attachment; filename=2025-Q4_review-records.zip"
    rows, archive = _zip(response.data)
    assert archive.namelist()[0] == "manifest.csv"
    assert sorted(archive.namelist()[1:]) == sorted(r["file"] for r in rows)
    by_id = {r.document_id: r for r in records}
    for row in rows:
        data = archive.read(row["file"])
        record = by_id[row["document_id"]]
        assert data == record.pdf  # as stored, byte for byte
        assert hashlib.sha256(data).hexdigest() == row["sha256"] == record.sha256
        assert row["manager"] == "Marcus Cole" and row["team"] == "North"
        assert row["signed_by"] == record.signer and "Northwind Sales" in row["signed_by"]
        assert row["finalized_at"] == record.finalized_at.isoformat()
        assert row["file"] == f"2025-Q4_review_{row['rep'].lower().replace(' ', '-')}.pdf" \
            or row["rep"] == "Zoë Ørsted"
    assert {r["rep"] for r in rows} == {"Jane Doe", "Priya Shah", "Tom Becker"}


def test_a_manager_gets_the_records_of_their_people_and_a_rep_none(app, signing, client,
                                                                 login_as):
    org = builders.finalised_cycle(2)
    render_pending()
    stranger = create_user("manager", name="Stella Stranger")
    outsider_team = create_team("Elsewhere", manager=stranger)
    login_as(org.manager)
    page = client.get(f"/cycles/{org.cycle.id}").get_data(as_text=True)
    assert "Download your people's 2 finalised records (ZIP)" in page
    rows, _ = _zip(client.get(f"/records/cycles/{org.cycle.id}.zip").data)
    assert len(rows) == 2
    login_as(org.boss)  # above the manager: their people too
    rows, _ = _zip(client.get(f"/records/cycles/{org.cycle.id}.zip").data)
    assert len(rows) == 2
    login_as(stranger)
    rows, archive = _zip(client.get(f"/records/cycles/{org.cycle.id}.zip").data)
    assert rows == [] and archive.namelist() == ["manifest.csv"]
    # Another manager's team, or a team of nobody in the cycle: not theirs to ask (404, not an
    # empty ZIP that says the team exists).
    assert client.get(f"/records/cycles/{org.cycle.id}.zip?team={org.team.id}").status_code \
        == 404
    # HR, one team only.
    login_as(org.hr)
    rows, _ = _zip(client.get(f"/records/cycles/{org.cycle.id}.zip?team={org.team.id}").data)
    assert len(rows) == 2
    assert client.get(f"/records/cycles/{org.cycle.id}.zip?team={outsider_team.id}"
                      ).status_code == 404
    assert client.get(f"/records/cycles/{org.cycle.id}.zip?team=99999").status_code == 404
    login_as(org.reps[0])
    assert client.get(f"/records/cycles/{org.cycle.id}.zip").status_code == 403


def test_keygen_writes_a_private_key_only_its_owner_reads(app, runner, tmp_path):
    result = runner.invoke(args=["records", "keygen", "--out", str(tmp_path / "k")])
    assert result.exit_code == 0, result.output
    key = tmp_path / "k" / "signing-key.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (tmp_path / "k" / "signing-cert.pem").read_bytes().startswith(b"-----BEGIN CERT")
    again = runner.invoke(args=["records", "keygen", "--out", str(tmp_path / "k")])
    assert again.exit_code == 1 and "exists already" in again.output
    forced = runner.invoke(args=["records", "keygen", "--out", str(tmp_path / "k"), "--force"])
    assert forced.exit_code == 0


def test_keygen_into_instance_is_what_new_records_are_signed_with(app, runner, tmp_path):
    app.config.update(SIGNING_KEY=None, SIGNING_CERT=None, SIGNING_PKCS12=None)
    app.instance_path = str(tmp_path / "instance")
    assert runner.invoke(args=["records", "keygen"]).exit_code == 0
    builders.finalised_cycle(1)
    [record] = render_pending()
    assert record.signed and "review records" in record.signer


def test_a_pkcs12_key_with_a_passphrase_signs_too(app, tmp_path):
    from cryptography.hazmat.primitives.serialization import (
        BestAvailableEncryption,
        load_pem_private_key,
        pkcs12,
    )
    from cryptography.x509 import load_pem_x509_certificate

    from reviewapp.records.signing import keygen

    key_path, cert_path = keygen(tmp_path, "Northwind Sales")
    p12 = pkcs12.serialize_key_and_certificates(
        b"records", load_pem_private_key(key_path.read_bytes(), None),
        load_pem_x509_certificate(cert_path.read_bytes()), None,
        BestAvailableEncryption(b"s3cret"))
    (tmp_path / "records.p12").write_bytes(p12)
    app.config.update(SIGNING_PKCS12=str(tmp_path / "records.p12"),
                      SIGNING_PASSPHRASE="s3cret", SIGNING_KEY=None, SIGNING_CERT=None)
    builders.finalised_cycle(1)
    [record] = render_pending()
    assert record.signed, record.error
    app.config["SIGNING_PASSPHRASE"] = "wrong"
    from reviewapp.records.signing import SigningError, configured_files, load_signer

    with pytest.raises(SigningError, match="Cannot load the signing key"):
        load_signer(configured_files())


def test_render_fills_in_what_is_missing_through_the_job_path(app, signing, runner):
    org = builders.finalised_cycle(2)
    # One record lost (as if a worker had died with the job), one never made.
    db.session.execute(sa.delete(ReviewRecord).where(
        ReviewRecord.review_id == org.reviews[1].id))
    db.session.commit()
    result = runner.invoke(args=["records", "render", "--cycle", org.cycle.name])
    assert result.exit_code == 0, result.output
    assert "2 rendered, 0 failed, 0 still waiting." in result.output
    db.session.rollback()
    assert {r.status for r in db.session.scalars(sa.select(ReviewRecord))} == \
        {RecordStatus.RENDERED}
    again = runner.invoke(args=["records", "render", "--cycle", org.cycle.name])
    assert "has its record" in again.output
    unknown = runner.invoke(args=["records", "render", "--cycle", "No such cycle"])
    assert unknown.exit_code == 1 and "No cycle is called" in unknown.output


def test_export_then_verify_the_zip_and_find_a_changed_file(app, signing, runner, tmp_path):
    org = builders.finalised_cycle(2)
    render_pending()
    out = tmp_path / "cycle.zip"
    result = runner.invoke(args=["records", "export", "--cycle", org.cycle.name, "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 records" in result.output
    # An archive is not overwritten unless asked (backup create refuses too); a team is found
    # whatever the case it is typed in.
    before = out.read_bytes()
    again = runner.invoke(args=["records", "export", "--cycle", org.cycle.name, "--out",
                                str(out), "--team", org.team.name.upper()])
    assert again.exit_code != 0 and "--force" in again.output and out.read_bytes() == before
    again = runner.invoke(args=["records", "export", "--cycle", org.cycle.name, "--out",
                                str(out), "--team", org.team.name.upper(), "--force"])
    assert again.exit_code == 0 and "Wrote 2 records" in again.output, again.output
    verified = runner.invoke(args=["records", "verify", str(out)])
    assert verified.exit_code == 0, verified.output
    assert "2 OK, 0 differ." in verified.output
    # Replace one PDF with a changed copy (one byte) and drop another from the manifest's files.
    rows, archive = _zip(out.read_bytes())
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as target:
        target.writestr("manifest.csv", archive.read("manifest.csv"))
        data = bytearray(archive.read(rows[0]["file"]))
        data[len(data) // 3] ^= 0x01
        target.writestr(rows[0]["file"], bytes(data))
    result = runner.invoke(args=["records", "verify", str(tampered)])
    assert result.exit_code == 1
    assert f"DIFFERS  tampered.zip:{rows[0]['file']}" in result.output
    assert "differs from manifest.csv" in result.output
    assert f"tampered.zip:{rows[1]['file']}: listed in manifest.csv but not in the ZIP" \
        in result.output


def test_render_with_workers_uses_a_local_pool(app, signing, runner):
    org = builders.finalised_cycle(2)
    result = runner.invoke(args=["records", "render", "--cycle", org.cycle.name,
                                 "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "Queued 2 records on pool." in result.output
    assert "2 rendered, 0 failed, 0 still waiting." in result.output
    db.session.rollback()
    assert all(r.signed for r in db.session.scalars(sa.select(ReviewRecord)))


def test_letter_paper_is_a_setting(app, signing, client, login_as):
    import pypdf

    org = builders.launched_cycle(1)
    db.session.commit()
    login_as(org.hr)
    for size, expected in (("A4", (595, 842)), ("Letter", (612, 792))):
        app.config["RECORDS_PAGE_SIZE"] = size
        response = client.get(f"/records/reviews/{org.reviews[0].id}/draft.pdf")
        box = pypdf.PdfReader(io.BytesIO(response.data)).pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == expected


def test_signing_and_verifying_work_inside_a_running_event_loop(app, signing):
    """pyHanko's synchronous calls run asyncio.run(), which refuses inside a running loop (an
    async worker, a test driving a browser): they then run in a thread of their own."""
    import asyncio

    from weasyprint import HTML

    from reviewapp.records.signing import current_signer, sign
    from reviewapp.records.verify import check_signature, trust_roots

    pdf = HTML(string="<p>Signed inside a loop.</p>").write_pdf()

    def sign_and_check():
        signed = sign(pdf, current_signer(), organisation="Northwind Sales",
                      document_id="RR-000001-1")
        return check_signature(signed, trust_roots())

    async def inside_a_loop():
        return sign_and_check()

    try:  # in the whole suite, the browser tests may have left this thread's loop running
        asyncio.get_running_loop()
        problems, notes = sign_and_check()
    except RuntimeError:
        problems, notes = asyncio.run(inside_a_loop())
    assert problems == [] and notes[0].startswith("signature valid")


def test_the_manifest_names_people_as_the_record_does_after_a_rename(app, signing, client,
                                                                      login_as):
    """A record is frozen at finalising; the ZIP's manifest and file names say what it says,
    not what the people are called today (a rep who married, a team renamed)."""
    org = builders.finalised_cycle(1)
    (record,) = render_pending()
    rep = record.review.rep
    frozen = rep.name
    rep.name = "Renamed Person"
    rep.team.name = "Renamed Team"
    org.manager.name = "Renamed Manager"
    db.session.commit()
    login_as(org.hr)
    rows, archive = _zip(client.get(f"/records/cycles/{org.cycle.id}.zip").data)
    (row,) = rows
    assert (row["rep"], row["team"], row["manager"]) == (frozen, "North", "Marcus Cole")
    assert row["file"] == f"2025-Q4_review_{frozen.lower().replace(' ', '-')}.pdf"
    assert archive.read(row["file"]) == record.pdf
    single = client.get(f"/records/{record.id}.pdf")
    assert f'filename="{row["file"]}"' in single.headers["Content-Disposition"]


@pytest.mark.parametrize("name, expected", [
    ("Jane Doe", "jane-doe"), ("Zoë Ørsted", "zoe-ørsted"), ("王伟", "王伟"),
    ("김민준", "김민준"), ("Ольга Петрова", "ольга-петрова"), ("प्रिया शर्मा", "प्रिया-शर्मा"),
    ("Liam O'Neil", "liam-o-neil"), ("\u202eevil\u202c.exe", "evil-exe"), ("***", "rep"),
])
def test_file_names_keep_every_script_and_drop_what_a_file_name_cannot_hold(name, expected):
    from reviewapp.records.export import file_name, slug

    assert slug(name) == expected
    assert file_name("2026-Q3", name) == f"2026-Q3_review_{expected}.pdf"


def test_a_draft_of_a_rep_with_a_chinese_name_downloads_under_that_name(app, signing, client,
                                                                       login_as):
    from urllib.parse import quote

    org = builders.launched_cycle(1)
    org.reps[0].name = "王伟"
    db.session.commit()
    login_as(org.hr)
    response = client.get(f"/records/reviews/{org.reviews[0].id}/draft.pdf")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert f"filename*=UTF-8''{quote('2025-Q4_review_王伟_DRAFT.pdf')}" in disposition
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Repr-Digest"].startswith("sha-256=:")


def test_the_manifest_is_safe_text_and_a_team_zip_follows_the_frozen_team(app, signing, client,
                                                                         login_as):
    """A name like '@SUM(1+1)*cmd' went into manifest.csv raw, for a spreadsheet to run; a rep
    who moved team after finalising left the old team's ZIP (and joined the new team's, whose
    manifest said the old team)."""
    from reviewapp.auth.models import Team
    from tests.factories import create_team

    org = builders.launched_cycle(2)
    moved, stayed = org.reps[0], org.reps[1]
    stayed.name = "@SUM(1+1)*cmd"  # as the record freezes it
    for i, review in enumerate(org.reviews):
        builders.write_review(org, review, i)
        builders.finalise(org, review)
    db.session.commit()
    render_pending()
    south = create_team("South", manager=org.manager)
    moved.team_id = south.id
    db.session.commit()
    north = db.session.scalar(sa.select(Team).where(Team.name == "North"))
    login_as(org.hr)
    rows, _ = _zip(client.get(f"/records/cycles/{org.cycle.id}.zip?team={north.id}").data)
    assert sorted(r["rep_email"] for r in rows) == sorted([moved.email, stayed.email])
    assert {r["team"] for r in rows} == {"North"}
    assert client.get(f"/records/cycles/{org.cycle.id}.zip?team={south.id}").status_code == 404
    names = {r["rep"] for r in rows}
    assert "'@SUM(1+1)*cmd" in names and "@SUM(1+1)*cmd" not in names
