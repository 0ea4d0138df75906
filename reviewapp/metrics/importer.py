"""The one import service behind the upload page, the CLI and the JSON API.

prepare_import reads and validates everything and compares it with what is stored, writing
nothing; apply_import writes a prepared plan in the caller's transaction; undo_batch takes a
whole batch back. Any error in the input rejects all of it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app

from reviewapp import policy
from reviewapp.audit.services import record
from reviewapp.auth.models import Role, User
from reviewapp.errors import ServiceError, refused_when_full
from reviewapp.extensions import db
from reviewapp.lazy import np, pd
from reviewapp.metrics import bulk, rollups
from reviewapp.metrics.import_checks import (
    ROW_COLUMNS,
    MetricRef,
    RepRef,
    Validated,
    cell_with_line_break,
    validate,
)
from reviewapp.metrics.layout import normalise_key
from reviewapp.metrics.models import (
    BatchStatus,
    ImportBatch,
    Metric,
    MetricKind,
    Observation,
    ReplacedValue,
)
from reviewapp.metrics.parsing import ImportProblem, RawTable, TableError, read_records, read_table
from reviewapp.metrics.periods import Grain

KEY = ["rep_id", "metric_id", "grain", "period_start"]
PREVIEW_ROWS = 20
IMPORT_LOCK = 0x52A_1A2F  # the advisory lock key that serialises imports and undos (PostgreSQL)


@dataclass
class ImportPlan:
    """What an import would do; nothing is written until apply_import."""

    filename: str
    source: str
    checksum: str
    errors: list[ImportProblem] = field(default_factory=list)
    error_count: int = 0
    layout: str = ""
    unknown_columns: list[str] = field(default_factory=list)
    mapping: dict[str, str | None] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)
    sheet: str | None = None  # the XLSX sheet read
    sheet_names: list[str] = field(default_factory=list)
    duplicate_of: int | None = None
    rows: pd.DataFrame | None = None  # validated rows joined with what is stored
    new_count: int = 0
    changed_count: int = 0
    unchanged_count: int = 0
    compared_at: tuple | None = None  # import_state() when rows were compared with the stored

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def writes_nothing(self) -> bool:
        """Every value is stored already (as compared): applying it would change nothing."""
        return not self.new_count and not self.changed_count

    @property
    def row_count(self) -> int:
        return 0 if self.rows is None else len(self.rows)

    def preview(self, limit: int = PREVIEW_ROWS) -> list[dict]:
        """The first rows as the user will see them, with their fate (new/changed/same)."""
        if self.rows is None:
            return []
        head = self.rows.head(limit)
        reps = dict(db.session.execute(
            sa.select(User.id, User.email).where(User.id.in_(head["rep_id"].tolist()))).all())
        metrics = dict(db.session.execute(
            sa.select(Metric.id, Metric.key).where(Metric.id.in_(head["metric_id"].tolist()))
        ).all())
        out = []
        for row in head.itertuples(index=False):
            old = None if pd.isna(row.old_value) else float(row.old_value)
            state = "new" if old is None else ("changed" if row.changed else "unchanged")
            out.append({"line": int(row.line), "rep": reps.get(row.rep_id, "?"),
                        "metric": metrics.get(row.metric_id, "?"), "grain": row.grain,
                        "period": pd.Timestamp(row.period_start).date(), "value": row.value,
                        "old_value": old, "state": state})
        return out


def checksum_of(data: bytes) -> str:
    """SHA-256 hex of the uploaded bytes."""
    return hashlib.sha256(data).hexdigest()


def can_import(actor: User) -> bool:
    """Managers import for their people, HR for anyone."""
    return policy.can_import_metrics(actor)


_NOT_A_REP = {Role.MANAGER: "a manager", Role.HR_ADMIN: "an HR admin"}


def _references(
    actor: User,
) -> tuple[dict[str, RepRef], dict[str, MetricRef], dict[str, str]]:
    """The reps and metrics a file may name; for an uploader who sees everyone, also who the
    other people are, so a manager's email in a file is called that."""
    scope = policy.people_scope_ids(actor)
    reps: dict[str, RepRef] = {}
    others: dict[str, str] = {}
    for person_id, email, role in db.session.execute(
            sa.select(User.id, User.email, User.role)):
        if role == Role.REP:
            reps[email] = RepRef(id=person_id, in_scope=scope is None or person_id in scope)
        elif scope is None:
            others[normalise_key(email)] = _NOT_A_REP[role]
    grains = _stored_grains()
    metrics = {
        key: MetricRef(id=metric_id, archived=archived, grain=grains.get(metric_id),
                       counted=kind == MetricKind.ACTIVITY)
        for metric_id, key, archived, kind in db.session.execute(
            sa.select(Metric.id, Metric.key, Metric.archived, Metric.kind))
    }
    return reps, metrics, others


def _stored_grains() -> dict[int, str]:
    """The grain of each metric's stored values, by metric id.

    Should older data mix grains, the one with the most values is the metric's grain (ties: the
    coarser), so that a stray row does not turn the metric's real data into the odd ones out.
    """
    best: dict[int, tuple[int, int, str]] = {}
    for metric_id, grain, n in db.session.execute(
            sa.select(Observation.metric_id, Observation.grain, sa.func.count())
            .group_by(Observation.metric_id, Observation.grain)):
        candidate = (n, Grain(grain).rank, grain)
        best[metric_id] = max(best.get(metric_id, candidate), candidate)
    return {metric_id: grain for metric_id, (_, _, grain) in best.items()}


def prepare_import(
    actor: User,
    data: bytes | list[dict] | RawTable | TableError,
    filename: str,
    *,
    source: str,
    sheet: str | None = None,
    column_map: dict[str, str | None] | None = None,
    checksum: str | None = None,
) -> ImportPlan:
    """Read, validate and compare an import with the stored values; write nothing."""
    policy.require(can_import(actor))
    if isinstance(data, RawTable | TableError):  # parsed once, at upload (metrics/uploads.py)
        checksum = checksum or ""
    elif isinstance(data, bytes):
        checksum = checksum_of(data)
    else:
        checksum = checksum_of(json.dumps(data, sort_keys=True, default=str).encode())
    plan = ImportPlan(filename=filename, source=source, checksum=checksum)
    try:
        raw: RawTable
        if isinstance(data, TableError):
            raise data
        if isinstance(data, RawTable):
            raw = data
        elif isinstance(data, bytes):
            raw = read_table(data, filename, sheet=sheet,
                             max_bytes=current_app.config["IMPORT_MAX_BYTES"])
        else:
            raw = read_records(data)
    except TableError as exc:
        plan.errors = [exc.as_import_error()]  # with the line, when one is at fault
        plan.error_count = 1
        return plan
    # Whether the bytes came now or were read at upload (the preview page), as one check.
    broken = cell_with_line_break(raw) if raw.may_quote else None
    if broken is not None:
        plan.errors, plan.error_count = [broken], 1
        return plan
    plan.headers = [str(h) for h in raw.frame.columns]
    plan.sheet, plan.sheet_names = raw.sheet, list(raw.sheet_names)
    reps, metrics, others = _references(actor)
    result: Validated = validate(raw, reps=reps, metrics=metrics, column_map=column_map,
                                 others=others)
    plan.layout = result.layout.kind.value if result.layout else ""
    plan.unknown_columns = list(result.unknown_columns)
    plan.mapping = dict(result.mapping)
    plan.errors, plan.error_count = list(result.errors), result.error_count
    if plan.error_count:
        return plan
    _compare(plan, result.rows)
    return plan


def _compare(plan: ImportPlan, rows: pd.DataFrame) -> None:
    """Fill the plan's comparison with what is stored now: duplicate, new, changed, same."""
    plan.compared_at = import_state()
    plan.duplicate_of = db.session.scalar(
        sa.select(ImportBatch.id).where(ImportBatch.checksum == plan.checksum,
                                        ImportBatch.status == BatchStatus.APPLIED)
        .order_by(ImportBatch.id)
    )
    plan.rows = _compare_with_stored(rows)
    changed = plan.rows["changed"].to_numpy()
    is_new = plan.rows["old_id"].isna().to_numpy()
    plan.new_count = int(is_new.sum())
    plan.changed_count = int(changed.sum())
    plan.unchanged_count = len(plan.rows) - plan.new_count - plan.changed_count
    if not plan.writes_nothing:
        # The same file again, after a later batch changed (or an undo removed) its values:
        # sending it is how a person puts them back, not a repeat that would write nothing.
        plan.duplicate_of = None


def import_state() -> tuple:
    """What changes whenever an import is applied or undone: the latest batch and the number
    of undone batches (observations are written by imports and undos only)."""
    return tuple(db.session.execute(sa.select(
        sa.func.max(ImportBatch.id),
        sa.func.count(ImportBatch.id).filter(ImportBatch.status == BatchStatus.UNDONE))).one())


def _lock_imports() -> None:
    """Wait for any other import or undo to finish, and keep them waiting until this
    transaction ends: two overlapping imports must not both insert the same new values, nor
    replace a value with a stale idea of what it was.

    PostgreSQL takes a transaction-scoped advisory lock. SQLite has one writer at a time: the
    first write of a transaction takes the database's write lock, so a harmless write is
    made (the busy timeout bounds the wait). Either way what is read next is current.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK})
    else:
        connection.execute(sa.update(ImportBatch).where(sa.false()).values(row_count=0))


def _busy(exc: Exception) -> ServiceError:
    return ServiceError("Another import is being written at this moment; nothing was written. "
                        "Try again in a moment.")


def _compare_with_stored(rows: pd.DataFrame) -> pd.DataFrame:
    """Join incoming rows with stored observations of the same metrics, rep and period."""
    rows = rows.copy()
    rows["period_start"] = pd.to_datetime(rows["period_start"]).astype("datetime64[ns]")
    metric_ids = sorted(set(rows["metric_id"].tolist()))
    grains = sorted(set(rows["grain"].tolist()))
    stored = pd.DataFrame(
        db.session.execute(
            sa.select(Observation.id, Observation.rep_id, Observation.metric_id,
                      Observation.grain, Observation.period_start, Observation.value,
                      Observation.batch_id)
            .where(Observation.metric_id.in_(metric_ids), Observation.grain.in_(grains))
        ).all(),
        columns=["old_id", "rep_id", "metric_id", "grain", "period_start", "old_value",
                 "old_batch_id"],
    )
    if stored.empty:
        rows["old_id"] = np.nan
        rows["old_value"] = np.nan
        rows["old_batch_id"] = np.nan
        rows["changed"] = False
        return rows
    stored["period_start"] = pd.to_datetime(stored["period_start"]).astype("datetime64[ns]")
    stored = stored.astype({"rep_id": "int64", "metric_id": "int64"})
    merged = rows.merge(stored, on=KEY, how="left", sort=False)
    old = merged["old_value"].to_numpy(dtype=float)
    new = merged["value"].to_numpy(dtype=float)
    merged["changed"] = ~np.isnan(old) & ~np.isclose(old, new, rtol=1e-12, atol=0.0)
    return merged


@refused_when_full()
def apply_import(actor: User, plan: ImportPlan, *, replace: bool = False) -> ImportBatch:
    """Write a prepared, error-free plan as one batch (flushes; the caller commits).

    Imports are serialised (_lock_imports); a plan compared before another import or undo
    finished is compared again, so its counts, its duplicate check and the values it keeps
    for undo are those of the data it actually replaces. A database with no room left refuses
    the whole batch (OutOfStorage), and the caller's rollback leaves nothing of it.
    """
    policy.require(can_import(actor))
    if not plan.ok:
        raise ServiceError(f"The file has {plan.error_count} error(s); nothing was imported.")
    try:
        _lock_imports()
    except sa.exc.OperationalError as exc:
        raise _busy(exc) from exc
    if plan.compared_at != import_state():
        _compare(plan, plan.rows[list(ROW_COLUMNS)])
    if plan.duplicate_of is not None:
        raise ServiceError(
            f"This file was already imported as batch #{plan.duplicate_of}; nothing was written.")
    if plan.writes_nothing:
        # The same values in another order or spelling ("10" for 10): a batch that changes
        # nothing is only noise in the list, and undoing it would do nothing either.
        raise ServiceError(f"Every value is already stored ({plan.unchanged_count} unchanged); "
                           "nothing was written.")
    if plan.changed_count and not replace:
        raise ServiceError(
            f"{plan.changed_count} stored value(s) would change. Choose to replace them, "
            "or cancel.")
    batch = ImportBatch(
        uploaded_by_id=actor.id, source=plan.source, filename=plan.filename[:255],
        checksum=plan.checksum, layout=plan.layout or "long", row_count=plan.row_count,
        new_count=plan.new_count, changed_count=plan.changed_count,
        unchanged_count=plan.unchanged_count,
    )
    db.session.add(batch)
    db.session.flush()
    rows = plan.rows
    written = rows.loc[rows["old_id"].isna() | rows["changed"]]
    fresh = rows.loc[rows["old_id"].isna(), ["rep_id", "metric_id", "grain", "period_start",
                                             "value"]]
    fresh = fresh.assign(period_start=bulk.iso_dates(fresh["period_start"]), batch_id=batch.id)
    bulk.insert_rows("observations", bulk.OBSERVATION_COLUMNS, fresh)
    if plan.changed_count:
        changed = rows.loc[rows["changed"]]
        replaced = pd.DataFrame({
            "batch_id": batch.id,
            "rep_id": changed["rep_id"].to_numpy(),
            "metric_id": changed["metric_id"].to_numpy(),
            "grain": changed["grain"].to_numpy(),
            "period_start": bulk.iso_dates(changed["period_start"]),
            "old_value": changed["old_value"].to_numpy(),
            "old_batch_id": changed["old_batch_id"].astype("Int64").to_numpy(),
        })
        bulk.insert_rows("replaced_values", tuple(replaced.columns), replaced)
        bulk.update_values(
            pd.DataFrame({"id": changed["old_id"].astype("int64"), "value": changed["value"]}),
            batch.id,
        )
    rollups.refresh(
        rollups.box_of(written["rep_id"], written["metric_id"], written["grain"],
                       written["period_start"]),
        written=pd.DataFrame({"rep": written["rep_id"].to_numpy(dtype="int64"),
                              "metric": written["metric_id"].to_numpy(dtype="int64"),
                              "grain": written["grain"].to_numpy(dtype=object),
                              "start": written["period_start"].to_numpy(dtype="datetime64[ns]"),
                              "value": written["value"].to_numpy(dtype=float)}),
        batch_id=batch.id)
    record(actor, "import.apply", "import_batch", batch.id, after={
        "filename": batch.filename, "rows": batch.row_count, "new": batch.new_count,
        "changed": batch.changed_count, "unchanged": batch.unchanged_count,
        "source": batch.source})
    return batch


@refused_when_full()
def undo_batch(actor: User, batch: ImportBatch) -> None:
    """Take a whole batch back: its new values go, the values it replaced return."""
    policy.require(policy.can_undo_batch(actor, batch))
    try:
        _lock_imports()
    except sa.exc.OperationalError as exc:
        raise _busy(exc) from exc
    db.session.refresh(batch)  # another undo may have finished while we waited
    if batch.status != BatchStatus.APPLIED:
        raise ServiceError(f"Batch #{batch.id} has already been undone.")
    later = db.session.scalar(
        sa.select(ReplacedValue.batch_id)
        .join(ImportBatch, ImportBatch.id == ReplacedValue.batch_id)
        .where(ReplacedValue.old_batch_id == batch.id,
               ImportBatch.status == BatchStatus.APPLIED)
        .limit(1)
    )
    if later is not None:
        raise ServiceError(
            f"Batch #{later} has since replaced values from this batch; undo batch #{later} "
            "first.")
    touched = db.session.execute(
        sa.select(Observation.rep_id, Observation.metric_id, Observation.grain,
                  Observation.period_start).where(Observation.batch_id == batch.id)).all()
    db.session.execute(sa.delete(Observation).where(Observation.batch_id == batch.id),
                       execution_options=rollups.MAINTAINED)
    restored = db.session.execute(
        sa.select(ReplacedValue.rep_id, ReplacedValue.metric_id, ReplacedValue.grain,
                  ReplacedValue.period_start, ReplacedValue.old_value,
                  ReplacedValue.old_batch_id)
        .where(ReplacedValue.batch_id == batch.id)
    ).all()
    if restored:
        db.session.execute(sa.insert(Observation), [
            {"rep_id": r.rep_id, "metric_id": r.metric_id, "grain": r.grain,
             "period_start": r.period_start, "value": r.old_value, "batch_id": r.old_batch_id}
            for r in restored
        ], execution_options=rollups.MAINTAINED)
    if touched:  # the restored values sit at keys the batch had written
        rollups.refresh(rollups.box_of(*zip(*touched, strict=True)))
    batch.status = BatchStatus.UNDONE
    batch.undone_at = datetime.now(UTC)
    batch.undone_by_id = actor.id
    db.session.flush()
    record(actor, "import.undo", "import_batch", batch.id,
           after={"removed": batch.new_count + batch.changed_count, "restored": len(restored)})
