"""Review records: the PDF of a finalised review, rendered once, signed, and stored for good.

A record row is added (pending) in the transaction that finalises its review; a background job
renders, signs and stores the PDF. Once a record has its bytes they never change: the database
refuses any update of them (triggers below), so every download serves the same bytes and hash.
Reopening a review keeps its record, marked superseded; the next finalisation adds a version.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from reviewapp.extensions import db
from reviewapp.model_types import enum_column, utcnow
from reviewapp.reviews.models import Review

IMMUTABLE_MESSAGE = "a rendered review record is stored once and never changed"


class RecordStatus(enum.StrEnum):
    PENDING = "pending"      # waiting for a job
    RENDERING = "rendering"  # a job has claimed it
    RENDERED = "rendered"    # bytes stored
    FAILED = "failed"        # the job failed; `error` says why, and it can be retried

    @property
    def label(self) -> str:
        return {"pending": "Waiting to be rendered", "rendering": "Being rendered",
                "rendered": "Rendered", "failed": "Failed"}[self.value]


class ReviewRecord(db.Model):
    __tablename__ = "review_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"),
                                           index=True)
    version: Mapped[int] = mapped_column(default=1)
    document_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    status: Mapped[RecordStatus] = mapped_column(
        enum_column(RecordStatus, "record_status"), default=RecordStatus.PENDING)
    # The PDF is large: loaded only when a download asks for it.
    pdf: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # The canonical content the PDF was rendered from (JSON), and its SHA-256 (in the footer).
    content: Mapped[dict[str, Any] | None] = deferred(mapped_column(sa.JSON))
    content_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    signed: Mapped[bool] = mapped_column(default=False)
    signer: Mapped[str | None] = mapped_column(sa.String(300))
    finalized_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    rendered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(sa.Text, default="")
    superseded: Mapped[bool] = mapped_column(default=False)
    superseded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    review: Mapped[Review] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("review_id", "version", name="uq_review_records_version"),
        sa.CheckConstraint("version >= 1", "version_positive"),
        sa.CheckConstraint(
            "status != 'rendered' OR (pdf IS NOT NULL AND sha256 IS NOT NULL "
            "AND content_sha256 IS NOT NULL AND rendered_at IS NOT NULL)",
            "rendered_has_bytes"),
        sa.CheckConstraint("NOT signed OR signer IS NOT NULL", "signed_has_signer"),
        sa.CheckConstraint("status != 'failed' OR length(error) > 0", "failed_has_reason"),
    )

    @property
    def rendered(self) -> bool:
        return self.status == RecordStatus.RENDERED


# The database's own guard: once a record has its bytes, they (and their hashes) never change.


def _sqlite_statements() -> list[str]:
    return [f"""
CREATE TRIGGER IF NOT EXISTS review_records_stored_once BEFORE UPDATE ON review_records
WHEN OLD.pdf IS NOT NULL AND (NEW.pdf IS NOT OLD.pdf OR NEW.sha256 IS NOT OLD.sha256
  OR NEW.content_sha256 IS NOT OLD.content_sha256 OR NEW.document_id IS NOT OLD.document_id
  OR NEW.review_id IS NOT OLD.review_id OR NEW.version IS NOT OLD.version)
BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}'); END"""]


def _postgresql_statements() -> list[str]:
    return [f"""
CREATE OR REPLACE FUNCTION review_records_stored_once() RETURNS trigger AS $$
BEGIN
  IF OLD.pdf IS NOT NULL AND (NEW.pdf IS DISTINCT FROM OLD.pdf
      OR NEW.sha256 IS DISTINCT FROM OLD.sha256
      OR NEW.content_sha256 IS DISTINCT FROM OLD.content_sha256
      OR NEW.document_id IS DISTINCT FROM OLD.document_id
      OR NEW.review_id IS DISTINCT FROM OLD.review_id
      OR NEW.version IS DISTINCT FROM OLD.version) THEN
    RAISE EXCEPTION '{IMMUTABLE_MESSAGE}' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql""",
            "DROP TRIGGER IF EXISTS review_records_stored_once ON review_records",
            """
CREATE TRIGGER review_records_stored_once BEFORE UPDATE ON review_records
FOR EACH ROW EXECUTE FUNCTION review_records_stored_once()"""]


def install_guard(connection) -> None:
    """Install the stored-once trigger (the migration and create_all both call this)."""
    statements = {"sqlite": _sqlite_statements, "postgresql": _postgresql_statements}.get(
        connection.dialect.name, list)()
    for statement in statements:
        connection.execute(sa.text(statement))


@sa.event.listens_for(ReviewRecord.__table__, "after_create")
def _after_create(target, connection, **kw) -> None:
    install_guard(connection)
