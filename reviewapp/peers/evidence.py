"""Customer voice: a CSAT or NPS outcome metric shown beside the "Customer satisfaction"
competency as evidence (optional: HR chooses the metric, or none, for the organisation).

It is imported like any other metric (one value per rep per period) and is never scored: it
informs the manager's rating, as the peers' answers do.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from reviewapp.audit.services import record
from reviewapp.auth.models import User
from reviewapp.errors import NotAllowed, ServiceError
from reviewapp.extensions import db
from reviewapp.kpis.models import OrgSetting
from reviewapp.kpis.settings import get_setting, outcome_metrics
from reviewapp.lazy import pd
from reviewapp.metrics.data import load_observations, rolled_up
from reviewapp.metrics.models import Metric, MetricKind
from reviewapp.metrics.periods import parse_period

SETTING = "peers.customer_voice_metric"
COMPETENCY = "customer satisfaction"


def is_customer_competency(name: str | None) -> bool:
    """The competency the customer voice belongs beside (by its name, in any case)."""
    return (name or "").strip().casefold() == COMPETENCY


def customer_voice_metric() -> Metric | None:
    """The organisation's customer-satisfaction metric, if HR chose one that is still in use."""
    key = get_setting(SETTING)
    if not key:
        return None
    metric = db.session.scalar(sa.select(Metric).where(Metric.key == key))
    if metric is None or metric.archived or metric.kind != MetricKind.OUTCOME:
        return None
    return metric


def choices() -> list[Metric]:
    """Outcome metrics HR may choose as the customer voice."""
    return outcome_metrics()


def set_customer_voice_metric(actor: User, key: str | None) -> Metric | None:
    """Choose the customer-satisfaction metric (HR; an empty key: none). Audited."""
    from reviewapp import policy

    if not policy.can_manage_cycles(actor):
        raise NotAllowed("Only HR chooses the customer voice metric.")
    key = (key or "").strip()
    metric = None
    if key:
        metric = next((m for m in choices() if m.key == key), None)
        if metric is None:
            raise ServiceError("Choose an outcome metric in use, or none.", field="metric")
    before = get_setting(SETTING)
    setting = db.session.get(OrgSetting, SETTING)
    if setting is None:
        setting = OrgSetting(key=SETTING, value="")
        db.session.add(setting)
    setting.value, setting.updated_by_id = key, actor.id
    db.session.flush()
    record(actor, "peers.customer_voice", "org_setting", None,
           before={"metric": before or None}, after={"metric": key or None})
    return metric


@dataclass(frozen=True)
class CustomerVoice:
    """The rep's value of the metric in the review's period and in the one before."""

    metric: Metric
    period: str
    value: float | None
    previous_period: str
    previous: float | None

    @property
    def unit(self) -> str:
        return self.metric.unit or ""


def customer_voice(review) -> CustomerVoice | None:
    """The customer voice for one review, or None when the organisation has none."""
    metric = customer_voice_metric()
    if metric is None:
        return None
    period = parse_period(review.cycle.period_label)
    before = period.shift(-1)
    frame = load_observations([review.rep_id], [metric.id], start=before.start, end=period.end)
    data = rolled_up(frame, period.grain)
    values = dict(zip(data["start"].tolist(), data["value"].tolist(), strict=True)) \
        if len(data) else {}

    def value_at(p) -> float | None:
        value = values.get(pd.Timestamp(p.start))
        return None if value is None else float(value)

    return CustomerVoice(metric, period.label, value_at(period), before.label, value_at(before))
