"""The metric catalogue: adding, editing and archiving metrics (HR)."""

import re

import sqlalchemy as sa

from reviewapp import text_limits
from reviewapp.audit.services import record
from reviewapp.auth.models import User
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.metrics.models import Direction, KpiStatus, Metric, MetricKind, Rollup

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


def _enum(enum_cls, value, field_name: str):
    try:
        return value if isinstance(value, enum_cls) else enum_cls(str(value).strip().lower())
    except ValueError as exc:
        allowed = ", ".join(m.value for m in enum_cls)
        raise ServiceError(f"'{value}' is not one of {allowed}.", field=field_name) from exc


def snapshot(metric: Metric) -> dict:
    """The audited fields of a metric."""
    return {
        "key": metric.key, "name": metric.name, "unit": metric.unit, "kind": metric.kind.value,
        "direction": metric.direction.value, "rollup": metric.rollup.value,
        "description": metric.description, "archived": metric.archived,
        "kpi_status": metric.kpi_status.value if metric.kpi_status else None,
    }


UNIT = 32  # the column's length, as the form's
DESCRIPTION = 2000


def _texts(name: str, unit: str, description: str) -> tuple[str, str, str]:
    """A metric's name, unit and description, stripped and within their limits (the form
    checks them too; the command line and the services did not, and PostgreSQL refused a
    500-character name with a traceback)."""
    name = text_limits.check(name, text_limits.NAME, "name", "The name")
    if not name:
        raise ServiceError("Enter a name.", field="name")
    return (name, text_limits.check(unit, UNIT, "unit", "The unit"),
            text_limits.check(description, DESCRIPTION, "description", "The description"))


def add_metric(actor: User | None, *, key: str, name: str, kind, direction, rollup,
               unit: str = "", description: str = "") -> Metric:
    """Add a metric; new activity metrics start as KPI candidates."""
    key = (key or "").strip().lower()
    if not KEY_PATTERN.match(key):
        raise ServiceError(
            "Use 2–64 lower-case letters, digits or underscores, starting with a letter "
            f"(got '{key}').", field="key")
    if db.session.scalar(sa.select(Metric.id).where(Metric.key == key)) is not None:
        raise ServiceError(f"A metric with key '{key}' already exists.", field="key")
    name, unit, description = _texts(name, unit, description)
    kind = _enum(MetricKind, kind, "kind")
    metric = Metric(
        key=key, name=name.strip(), unit=(unit or "").strip(), kind=kind,
        direction=_enum(Direction, direction, "direction"), rollup=_enum(Rollup, rollup, "rollup"),
        description=(description or "").strip(),
        kpi_status=KpiStatus.CANDIDATE if kind == MetricKind.ACTIVITY else None,
    )
    db.session.add(metric)
    db.session.flush()
    record(actor, "metric.create", "metric", metric.id, after=snapshot(metric))
    return metric


def update_metric(actor: User, metric: Metric, *, name: str, unit: str, direction, rollup,
                  description: str) -> Metric:
    """Edit what a metric means; its key, kind and KPI status are not edited here."""
    name, unit, description = _texts(name, unit, description)
    before = snapshot(metric)
    metric.name = name.strip()
    metric.unit = (unit or "").strip()
    metric.direction = _enum(Direction, direction, "direction")
    metric.rollup = _enum(Rollup, rollup, "rollup")
    metric.description = (description or "").strip()
    db.session.flush()
    if snapshot(metric) != before:
        record(actor, "metric.update", "metric", metric.id, before=before, after=snapshot(metric))
    return metric


def set_archived(actor: User, metric: Metric, archived: bool) -> None:
    """Archive a metric (no new data accepted) or bring it back; its history stays."""
    if metric.archived == archived:
        return
    before = snapshot(metric)
    metric.archived = archived
    db.session.flush()
    record(actor, "metric.archive" if archived else "metric.unarchive", "metric", metric.id,
           before=before, after=snapshot(metric))


def list_metrics(include_archived: bool = True) -> list[Metric]:
    """Metrics ordered for display: outcomes first, then activities, by name."""
    query = sa.select(Metric)
    if not include_archived:
        query = query.where(sa.not_(Metric.archived))
    return list(db.session.scalars(query.order_by(Metric.kind.desc(), Metric.name)))


def metric_by_key(key: str) -> Metric | None:
    """The metric with this key."""
    return db.session.scalar(sa.select(Metric).where(Metric.key == (key or "").strip().lower()))
