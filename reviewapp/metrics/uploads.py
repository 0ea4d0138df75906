"""Uploaded files waiting between preview and confirmation, kept in instance/uploads/."""

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

MAX_AGE_SECONDS = 24 * 3600


@dataclass
class PendingUpload:
    token: str
    user_id: int
    filename: str
    sheet: str | None

    def read(self) -> bytes:
        return _folder().joinpath(f"{self.token}.bin").read_bytes()


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save(user_id: int, filename: str, data: bytes, sheet: str | None) -> PendingUpload:
    """Keep an upload until it is confirmed or cancelled; old leftovers are swept."""
    _sweep()
    token = secrets.token_urlsafe(16)
    folder = _folder()
    folder.joinpath(f"{token}.bin").write_bytes(data)
    meta = {"user_id": user_id, "filename": filename, "sheet": sheet}
    folder.joinpath(f"{token}.json").write_text(json.dumps(meta))
    return PendingUpload(token, user_id, filename, sheet)


def load(token: str, user_id: int) -> PendingUpload | None:
    """The pending upload if it exists and belongs to this user."""
    if not token.replace("-", "").replace("_", "").isalnum():
        return None
    meta_path = _folder() / f"{token}.json"
    if not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text())
    if meta["user_id"] != user_id:
        return None
    return PendingUpload(token, meta["user_id"], meta["filename"], meta.get("sheet"))


def discard(token: str) -> None:
    """Forget an upload."""
    for suffix in (".bin", ".json"):
        (_folder() / f"{token}{suffix}").unlink(missing_ok=True)


def _sweep() -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for path in _folder().iterdir():
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
