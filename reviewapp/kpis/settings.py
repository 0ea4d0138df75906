"""Organisation settings of the KPI lab: which outcome KPIs must predict."""

import sqlalchemy as sa

from reviewapp.audit.services import record
from reviewapp.auth.models import User
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.kpis.models import OrgSetting
from reviewapp.metrics.models import Metric, MetricKind

PRIMARY_OUTCOME = "kpi.primary_outcome"
DEFAULT_PRIMARY_OUTCOME = "revenue"


def get_setting(key: str, default: str | None = None) -> str | None:
    """A stored setting, or the default."""
    value = db.session.scalar(sa.select(OrgSetting.value).where(OrgSetting.key == key))
    return default if value is None else value


def primary_outcome_key() -> str:
    """Key of the outcome that organisation-wide runs must predict to change KPI statuses."""
    return get_setting(PRIMARY_OUTCOME, DEFAULT_PRIMARY_OUTCOME) or DEFAULT_PRIMARY_OUTCOME


def outcome_metrics() -> list[Metric]:
    """Outcome metrics that may be chosen, by name."""
    return list(db.session.scalars(
        sa.select(Metric).where(Metric.kind == MetricKind.OUTCOME, sa.not_(Metric.archived))
        .order_by(Metric.name)))


def set_primary_outcome(actor: User | None, key: str) -> None:
    """Make another outcome metric the primary one (audited). Earlier runs stay as they are."""
    metric = db.session.scalar(sa.select(Metric).where(Metric.key == (key or "").strip()))
    if metric is None or metric.kind != MetricKind.OUTCOME or metric.archived:
        raise ServiceError("Choose an outcome metric that is in use.", field="outcome")
    before = primary_outcome_key()
    if before == metric.key:
        return
    setting = db.session.get(OrgSetting, PRIMARY_OUTCOME)
    if setting is None:
        setting = OrgSetting(key=PRIMARY_OUTCOME, value=metric.key)
        db.session.add(setting)
    setting.value = metric.key
    setting.updated_by_id = actor.id if actor is not None else None
    db.session.flush()
    record(actor, "kpi.primary_outcome", "org_setting", None,
           before={"primary_outcome": before}, after={"primary_outcome": metric.key})
