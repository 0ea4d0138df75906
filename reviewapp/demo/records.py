"""Demo records: an evaluation signing key in instance/, and the signed PDF of every review the
demo finalised (rendered here, in the demo's one transaction, rather than by a background job).
"""

from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from reviewapp.extensions import db
from reviewapp.records import jobs, services
from reviewapp.records.models import RecordStatus, ReviewRecord
from reviewapp.records.signing import configured_files, keygen


def load_records(seed: int) -> dict:
    """Generate the demo's signing key if none is configured, then render pending records."""
    made_key = False
    if configured_files() is None and current_app.config.get("ENV") != "production":
        keygen(Path(current_app.instance_path),
               current_app.config.get("ORGANISATION_NAME") or "ReviewApp")
        made_key = True
    db.session.flush()
    pending = list(db.session.scalars(sa.select(ReviewRecord).where(
        ReviewRecord.status.in_([RecordStatus.PENDING, RecordStatus.FAILED]),
        ReviewRecord.superseded.is_(False)).order_by(ReviewRecord.id)))
    for record in pending:
        services.render_into(record)
    jobs.forget_queued(db.session)  # rendered already: no job needed after the commit
    signed = db.session.scalar(sa.select(sa.func.count()).where(
        ReviewRecord.signed.is_(True), ReviewRecord.superseded.is_(False))) or 0
    summary = {"Signed review records": signed}
    if made_key:
        summary["Signing key"] = "generated in instance/ (flask records keygen)"
    return summary
