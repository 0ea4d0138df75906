"""Records fixtures: a signing key of the test's own, and records rendered as a job would."""

import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.records import jobs
from reviewapp.records.models import RecordStatus, ReviewRecord
from reviewapp.records.signing import keygen


def configure_key(app, directory: Path, organisation: str = "Northwind Sales") -> dict:
    """Make a key pair in `directory` and point the app at it; no instance/ key is used."""
    key, cert = keygen(directory, organisation)
    app.config.update(SIGNING_KEY=str(key), SIGNING_CERT=str(cert), SIGNING_PKCS12=None,
                      ORGANISATION_NAME=organisation)
    return {"key": key, "cert": cert}


def without_key(app, directory: Path) -> None:
    """No key configured, and an empty instance folder (so no evaluation key either)."""
    app.config.update(SIGNING_KEY=None, SIGNING_CERT=None, SIGNING_PKCS12=None)
    app.instance_path = str(directory)


def render_pending() -> list[ReviewRecord]:
    """Render every pending record here, through the job function (as a worker would)."""
    ids = list(db.session.scalars(sa.select(ReviewRecord.id).where(
        ReviewRecord.status == RecordStatus.PENDING).order_by(ReviewRecord.id)))
    db.session.commit()
    jobs.enqueue(ids, backend="inline")
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ReviewRecord).where(ReviewRecord.id.in_(ids))
                                   .options(sa.orm.undefer(ReviewRecord.pdf),
                                            sa.orm.undefer(ReviewRecord.content))
                                   .order_by(ReviewRecord.id)))


def pdf_text(path: Path, *pages: int, layout: bool = False) -> str:
    """The PDF's text as poppler's pdftotext reads it (in reading order, or laid out as on the
    page); optionally of some pages only."""
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else [])
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run([*args, str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def signing(app, tmp_path):
    """A fresh evaluation key for this test, configured."""
    return configure_key(app, tmp_path / "keys")


@pytest.fixture
def unsigned(app, tmp_path):
    without_key(app, tmp_path / "instance")
