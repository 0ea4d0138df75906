"""Uploaded files waiting between preview and confirmation, kept in instance/uploads/.

An upload is parsed once, when it arrives: the preview, its reloads and the confirmation read
the parsed table (or the reason it could not be read) from a file signed with the app's
secret key, instead of parsing a large workbook again on every request. Each person may have
a few uploads waiting; confirming or cancelling one removes its files, and leftovers older
than a day are swept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import pickle
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from reviewapp.errors import ServiceError
from reviewapp.metrics.parsing import RawTable, TableError, read_table

MAX_AGE_SECONDS = 24 * 3600
MAX_PENDING_PER_USER = 5


@dataclass
class PendingUpload:
    token: str
    user_id: int
    filename: str
    sheet: str | None
    checksum: str = ""
    _parsed: RawTable | TableError | None = field(default=None, repr=False)

    def parsed(self) -> RawTable | TableError:
        """The table read at upload time, or the reason it could not be read."""
        if self._parsed is None:
            self._parsed = _load_parsed(_folder() / f"{self.token}.parsed")
        return self._parsed


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "uploads"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _signature(body: bytes) -> bytes:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, b"pending-upload\0" + body, hashlib.sha256).digest()


def _load_parsed(path: Path) -> RawTable | TableError:
    blob = path.read_bytes()
    signature, body = blob[:32], blob[32:]
    if not hmac.compare_digest(signature, _signature(body)):
        raise LookupError("the parsed upload was changed on disk")
    # Safe to unpickle: the signature proves this process's app wrote these bytes.
    return pickle.loads(body)  # noqa: S301


def _pending_of(user_id: int) -> int:
    """The user's uploads waiting for a confirmation they can give: a file that could not be
    read at all (too large, not a table) waits for nothing, and five of them blocked every
    further upload until each was cancelled."""
    count = 0
    for meta in _folder().glob("*.json"):
        try:
            found = json.loads(meta.read_text())
        except (OSError, ValueError):
            continue
        count += found.get("user_id") == user_id and found.get("readable", True)
    return count


def save(user_id: int, filename: str, data: bytes, sheet: str | None) -> PendingUpload:
    """Parse an upload once and keep the result until it is confirmed or cancelled."""
    _sweep()
    waiting = _pending_of(user_id)
    if waiting >= MAX_PENDING_PER_USER:
        raise ServiceError(f"{waiting} imports are waiting for your confirmation; confirm or "
                           "cancel one of them first.", field="file")
    try:
        parsed: RawTable | TableError = read_table(
            data, filename, sheet=sheet, max_bytes=current_app.config["IMPORT_MAX_BYTES"])
    except TableError as exc:
        parsed = exc
    token = secrets.token_urlsafe(16)
    checksum = hashlib.sha256(data).hexdigest()
    folder = _folder()
    body = pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL)
    folder.joinpath(f"{token}.parsed").write_bytes(_signature(body) + body)
    meta = {"user_id": user_id, "filename": filename, "sheet": sheet, "checksum": checksum,
            "readable": not isinstance(parsed, TableError)}
    folder.joinpath(f"{token}.json").write_text(json.dumps(meta))
    return PendingUpload(token, user_id, filename, sheet, checksum, parsed)


def load(token: str, user_id: int) -> PendingUpload | None:
    """The pending upload if it exists, belongs to this user and is as it was written."""
    if not token.replace("-", "").replace("_", "").isalnum():
        return None
    meta_path = _folder() / f"{token}.json"
    if not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text())
    if meta["user_id"] != user_id:
        return None
    pending = PendingUpload(token, meta["user_id"], meta["filename"], meta.get("sheet"),
                            meta.get("checksum", ""))
    try:
        pending.parsed()
    except (OSError, LookupError, pickle.UnpicklingError, EOFError, ValueError):
        return None
    return pending


def discard(token: str) -> None:
    """Forget an upload."""
    for suffix in (".parsed", ".json", ".bin"):
        (_folder() / f"{token}{suffix}").unlink(missing_ok=True)


def _sweep() -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for path in _folder().iterdir():
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
