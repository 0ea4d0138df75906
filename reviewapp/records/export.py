"""A cycle's records in one ZIP, streamed from the stored PDFs, with a manifest.csv.

The manifest comes first (file name, rep, manager, document ID, SHA-256, signed by, finalised
at), then each PDF exactly as stored (ZIP_STORED: PDFs are compressed already). The PDFs are
read from the database a batch at a time, so memory stays flat whatever the cycle's size.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from reviewapp import policy
from reviewapp.auth.models import Team, User
from reviewapp.exports import safe_text
from reviewapp.extensions import db
from reviewapp.records.models import RecordStatus, ReviewRecord
from reviewapp.reviews.models import Review

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ["file", "rep", "rep_email", "team", "manager", "document_id", "version",
                    "sha256", "size", "signed_by", "finalized_at"]
BATCH = 50


def slug(text: str) -> str:
    """A name as it can go in a file name, in its own script: jane-doe, zoe-ørsted, 王伟.
    Latin letters lose their accents; what is not a letter, mark or digit separates words."""
    plain = "".join(_unaccented(c) for c in unicodedata.normalize("NFC", text).lower())
    words = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in plain).split()
    return "-".join(words)[:SLUG_LENGTH].strip("-") or "rep"


SLUG_LENGTH = 60


def _unaccented(char: str) -> str:
    """ë -> e; a letter with no plain ASCII form (ø, 王, ि) stays as it is."""
    ascii_form = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    return ascii_form or char


def period_part(period: str) -> str:
    """A period label as it can go in a file name: 2026-Q1 stays 2026-Q1."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", period).strip("-") or "period"


def file_name(period: str, rep_name: str, version: int = 1, *, draft: bool = False) -> str:
    """2026-Q1_review_jane-doe.pdf (…_v2 for a second finalisation, …_DRAFT for a draft)."""
    suffix = "_DRAFT" if draft else (f"_v{version}" if version > 1 else "")
    return f"{period_part(period)}_review_{slug(rep_name)}{suffix}.pdf"


@dataclass(frozen=True)
class Entry:
    record_id: int
    file: str
    rep: str
    rep_email: str
    team: str
    manager: str
    document_id: str
    version: int
    sha256: str
    size: int
    signed_by: str
    finalized_at: datetime

    def manifest_row(self) -> list:
        return [self.file, self.rep, self.rep_email, self.team, self.manager, self.document_id,
                self.version, self.sha256, self.size, self.signed_by,
                self.finalized_at.isoformat()]


def attachment_header(name: str) -> str:
    """Content-Disposition for one of our file names; a name beyond ASCII (王伟) goes in
    filename* (RFC 6266), with an ASCII stand-in for clients that read only filename."""
    if name.isascii():
        return f'attachment; filename="{name}"'
    stand_in = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    stand_in = re.sub(r"_+", "_", stand_in.replace("_-", "_").replace("-_", "_"))
    return f"attachment; filename=\"{stand_in}\"; filename*=UTF-8''{quote(name, safe='')}"


def record_file_name(record) -> str:
    """A stored record's file name, after the rep as the record names them."""
    content = record.content or {}
    name = (content.get("rep") or {}).get("name") or record.review.rep.name
    return file_name(record.review.cycle.period_label, name, record.version)


def team_in_view(cycle, actor: User, team_id: int) -> bool:
    """Whether the team has a review in the cycle that the actor may take the records of (the
    team its record froze, else the rep's team now): a team of the cycle the actor has no one
    in, or no such team at all, is not theirs to ask."""
    current = sa.and_(ReviewRecord.review_id == Review.id, ReviewRecord.superseded.is_(False))
    return db.session.scalar(
        sa.select(sa.literal(True)).select_from(Review).join(User, User.id == Review.rep_id)
        .outerjoin(ReviewRecord, current)
        .where(Review.cycle_id == cycle.id, _frozen_team_id(User.team_id) == team_id,
               policy.cycle_records_clause(actor, Review.rep_id, Review.manager_id))
        .limit(1)) is not None


def _frozen(path: tuple[str, ...], current):
    """What the record's frozen content says at `path` (the people as they were called when
    the review was finalised), or, for a record without content, what they are called now."""
    return sa.func.coalesce(ReviewRecord.content[path].as_string(), current)


def _frozen_team_id(current):
    """The rep's team when the review was finalised (records since 4 December 2026 keep its
    id), else their team now: a rep who moved team after the cycle is in the old team's ZIP,
    as the record and the manifest say."""
    return sa.func.coalesce(ReviewRecord.content[("rep", "team_id")].as_integer(), current)


def cycle_entries(cycle, actor: User | None, team_id: int | None = None) -> list[Entry]:
    """The current, rendered records of the cycle that the actor may download (None: all, for
    the command line), optionally of one team, in one statement."""
    rep, manager = aliased(User), aliased(User)
    query = (sa.select(ReviewRecord.id, ReviewRecord.document_id, ReviewRecord.version,
                       ReviewRecord.sha256, ReviewRecord.size, ReviewRecord.signer,
                       ReviewRecord.finalized_at, _frozen(("rep", "name"), rep.name),
                       _frozen(("rep", "email"), rep.email), _frozen(("rep", "team"), Team.name),
                       _frozen(("manager",), manager.name))
             .join(Review, Review.id == ReviewRecord.review_id)
             .join(rep, rep.id == Review.rep_id)
             .outerjoin(Team, Team.id == rep.team_id)
             .outerjoin(manager, manager.id == Review.manager_id)
             .where(Review.cycle_id == cycle.id, ReviewRecord.superseded.is_(False),
                    ReviewRecord.status == RecordStatus.RENDERED)
             .order_by(_frozen(("rep", "name"), rep.name), rep.id))
    if actor is not None:
        query = query.where(policy.cycle_records_clause(actor, Review.rep_id, Review.manager_id))
    if team_id is not None:
        query = query.where(_frozen_team_id(rep.team_id) == team_id)
    entries, used = [], set()
    for (rid, doc, version, sha, size, signer, finalized, rep_name, email, team, mgr) \
            in db.session.execute(query):
        name = file_name(cycle.period_label, rep_name, version)
        if name in used:  # two reps with the same name: the document ID tells them apart
            name = name[:-4] + f"_{doc}.pdf"
        used.add(name)
        entries.append(Entry(rid, name, rep_name, email, team or "", mgr or "", doc, version,
                             sha, size or 0, signer or "", finalized))
    return entries


def manifest_csv(entries: list[Entry]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    for entry in entries:  # names as text a spreadsheet shows, never runs ("=HYPERLINK(...")
        writer.writerow([safe_text(v) if isinstance(v, str) else v
                         for v in entry.manifest_row()])
    return out.getvalue().encode("utf-8")


class _Sink:
    """A write-only stream for zipfile that hands out what was written (no seek: zipfile then
    writes data descriptors, so the ZIP can be streamed)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


def _pdfs(entries: list[Entry]) -> Iterator[tuple[Entry, bytes]]:
    for i in range(0, len(entries), BATCH):
        batch = entries[i:i + BATCH]
        stored = dict(db.session.execute(sa.select(ReviewRecord.id, ReviewRecord.pdf).where(
            ReviewRecord.id.in_([e.record_id for e in batch]))).all())
        for entry in batch:
            yield entry, stored[entry.record_id]


def _info(name: str, when: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def stream_zip(entries: list[Entry]) -> Iterator[bytes]:
    """The ZIP, chunk by chunk: manifest.csv, then every PDF as stored."""
    sink = _Sink()
    newest = max((e.finalized_at for e in entries), default=datetime(2020, 1, 1))
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(_info(MANIFEST, newest), manifest_csv(entries),
                         compress_type=zipfile.ZIP_DEFLATED)
        yield sink.drain()
        for entry, pdf in _pdfs(entries):
            archive.writestr(_info(entry.file, entry.finalized_at), pdf)
            yield sink.drain()
    yield sink.drain()


def write_zip(entries: list[Entry], path) -> int:
    """Write the ZIP to a file; returns its size."""
    size = 0
    with open(path, "wb") as handle:
        for chunk in stream_zip(entries):
            handle.write(chunk)
            size += len(chunk)
    return size
