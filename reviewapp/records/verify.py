"""`flask records verify`: is this file the record we stored, signed and unchanged?

For each PDF (given, or inside a cycle ZIP): its SHA-256 against the stored record (and the ZIP's
manifest), the signature with pyHanko's validator against the signing certificate and any
configured trust roots, and the stored record's own content hash. Anything that differs is
said, with how.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from sqlalchemy.orm import undefer

from reviewapp.extensions import db
from reviewapp.records import content as record_content
from reviewapp.records.export import MANIFEST
from reviewapp.records.models import ReviewRecord
from reviewapp.records.signing import (
    SigningError,
    _asn1_cert,
    current_signer,
    outside_event_loop,
)

DOCUMENT_ID = re.compile(r"RR-\d{6}-\d+")


@dataclass
class Finding:
    name: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        if self.ok:
            return f"OK       {self.name}: " + "; ".join(self.notes)
        return f"DIFFERS  {self.name}: " + "; ".join(self.problems)


def trust_roots() -> list:
    """The certificates a signature must chain to: ours, and SIGNING_TRUST_ROOTS."""
    roots = []
    try:
        signer = current_signer()
    except SigningError:
        signer = None
    if signer is not None:
        roots.append(_asn1_cert(signer.certificate))
    extra = current_app.config.get("SIGNING_TRUST_ROOTS")
    for path in ([extra] if isinstance(extra, str) else (extra or [])):
        roots.extend(load_certs_from_pemder([str(path)]))
    return roots


def check_signature(data: bytes, roots: list) -> tuple[list[str], list[str]]:
    """(problems, notes) of the PDF's signatures; an unsigned PDF has none of either."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:
        return [f"cannot be read as a PDF ({type(exc).__name__}: {exc})"], []
    if not signatures:
        return [], ["not signed"]
    problems, notes = [], []
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    for signature in signatures:
        try:
            status = outside_event_loop(validate_pdf_signature, signature, context)
        except Exception as exc:
            problems.append(f"the signature cannot be validated ({type(exc).__name__}: {exc})")
            continue
        if not status.intact:
            problems.append("the signature's digest does not match: signed bytes were changed")
        elif not status.valid:
            problems.append("the signature does not verify against its certificate")
        if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
            problems.append("bytes were added after the signature")
        if status.intact and status.valid and not status.trusted:
            problems.append(f"the signer ({status.signing_cert.subject.human_friendly}) is "
                            "not a trusted signing certificate here")
        if status.docmdp_ok is False:
            problems.append("changes after signing break the certification (no changes allowed)")
        if not problems:
            notes.append(f"signature valid, signed by {status.signing_cert.subject.human_friendly}")
    return problems, notes


def document_id_of(data: bytes) -> str | None:
    """The document ID a record names in its metadata (Keywords), if it can be read."""
    try:
        info = PdfFileReader(io.BytesIO(data), strict=False).trailer["/Info"]
        match = DOCUMENT_ID.search(str(info.get("/Keywords", "")))
    except Exception:
        match = DOCUMENT_ID.search(data.decode("latin-1"))
    return match.group() if match else None


def _first_difference(a: bytes, b: bytes) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"first difference at byte {i:,} of {len(b):,}"
    return f"the file has {len(a):,} bytes, the stored record {len(b):,}"


def verify_pdf(name: str, data: bytes, *, manifest_sha: str | None = None,
               roots: list | None = None) -> Finding:
    """One PDF against the database (and the manifest's SHA-256, if from a ZIP)."""
    finding = Finding(name)
    sha = hashlib.sha256(data).hexdigest()
    if manifest_sha is not None and manifest_sha != sha:
        finding.problems.append(f"SHA-256 {sha[:16]}… differs from manifest.csv's "
                                f"{manifest_sha[:16]}…")
    record = db.session.scalar(sa.select(ReviewRecord).where(ReviewRecord.sha256 == sha)
                               .options(undefer(ReviewRecord.content)))
    if record is None:
        document = document_id_of(data)
        stored = db.session.scalar(
            sa.select(ReviewRecord).where(ReviewRecord.document_id == document)
            .options(undefer(ReviewRecord.pdf))) if document else None
        if stored is not None and stored.sha256:
            finding.problems.append(
                f"differs from the stored record {stored.document_id}: SHA-256 {sha[:16]}… "
                f"instead of {stored.sha256[:16]}… ({_first_difference(data, stored.pdf)})")
        else:
            finding.problems.append(f"no stored record has SHA-256 {sha[:16]}…")
    else:
        finding.notes.append(f"{record.document_id} as stored (SHA-256 {sha[:16]}…)")
        if record.content is not None and \
                record_content.content_sha256(record.content) != record.content_sha256:
            finding.problems.append("the stored content no longer matches its content hash")
        if record.superseded:
            finding.notes.append("superseded: its review was reopened")
    problems, notes = check_signature(data, trust_roots() if roots is None else roots)
    finding.problems += problems
    finding.notes += notes
    if record is not None and record.signed and notes == ["not signed"]:
        finding.problems.append("the stored record is signed, this file is not")
    return finding


def verify_zip(path: Path) -> list[Finding]:
    """Every PDF of a cycle ZIP, against its manifest.csv and the database."""
    findings = []
    roots = trust_roots()
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        manifest: dict[str, str] = {}
        if MANIFEST in names:
            rows = csv.DictReader(io.StringIO(archive.read(MANIFEST).decode("utf-8")))
            manifest = {row["file"]: row["sha256"] for row in rows}
        else:
            findings.append(Finding(f"{path.name}", problems=["has no manifest.csv"]))
        for name in names:
            if name == MANIFEST:
                continue
            finding = verify_pdf(f"{path.name}:{name}", archive.read(name),
                                 manifest_sha=manifest.get(name), roots=roots)
            if name not in manifest:
                finding.problems.insert(0, "not listed in manifest.csv")
            findings.append(finding)
        for name in sorted(set(manifest) - set(names)):
            findings.append(Finding(f"{path.name}:{name}",
                                    problems=["listed in manifest.csv but not in the ZIP"]))
    return findings


def verify_path(path: Path) -> list[Finding]:
    """A .pdf or a .zip."""
    if zipfile.is_zipfile(path):
        return verify_zip(path)
    return [verify_pdf(path.name, path.read_bytes())]
