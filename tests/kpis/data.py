"""Synthetic sales data for KPI tests: meetings and proposals drive revenue within rep, calls
do not (and across reps, high callers sell less). Observations are inserted directly."""

import datetime as dt

import numpy as np
import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.metrics.catalogue import add_metric
from reviewapp.metrics.models import Metric, Observation

METRICS = [
    # key, name, kind, direction, rollup, unit
    ("revenue", "Revenue", "outcome", "higher", "sum", "$"),
    ("new_business", "New business", "outcome", "higher", "sum", "$"),
    ("calls_per_day", "Calls per day", "activity", "higher", "mean", "calls"),
    ("emails_sent", "Emails sent", "activity", "higher", "sum", "emails"),
    ("meetings", "Meetings", "activity", "higher", "sum", "meetings"),
    ("proposals", "Proposals", "activity", "higher", "sum", "proposals"),
]
CANDIDATES = ["calls_per_day", "meetings", "proposals"]
ALL_CANDIDATES = ["calls_per_day", "emails_sent", "meetings", "proposals"]  # a policy run's


def quarters(n: int, last: dt.date = dt.date(2025, 10, 1)) -> list[dt.date]:
    """The first days of the n quarters ending with `last`, oldest first."""
    out, year, month = [], last.year, last.month
    for _ in range(n):
        out.append(dt.date(year, month, 1))
        month -= 3
        if month < 1:
            month, year = month + 12, year - 1
    return out[::-1]


def ensure_metrics() -> dict[str, Metric]:
    """The demo catalogue, created once."""
    found = {m.key: m for m in db.session.scalars(sa.select(Metric))}
    for key, name, kind, direction, rollup, unit in METRICS:
        if key not in found:
            found[key] = add_metric(None, key=key, name=name, kind=kind, direction=direction,
                                    rollup=rollup, unit=unit)
    db.session.commit()
    return found


def insert_sales(rep_ids: list[int], *, n_quarters: int = 8, seed: int = 1,
                 star: int | None = None, meetings_matter: bool = True) -> dict[str, Metric]:
    """Quarterly observations for every rep; `star` makes half the calls and sells the most."""
    metrics = ensure_metrics()
    rng = np.random.default_rng(seed)
    rows = []
    for rep_id in rep_ids:
        skill = 2.5 if rep_id == star else rng.normal()
        calls_base = 40.0 - 5.0 * skill + rng.normal(0, 2)
        if rep_id == star:
            calls_base = 20.0
        meet_base, prop_base = 12 + 2 * rng.normal(), 6 + rng.normal()
        for start in quarters(n_quarters):
            calls = calls_base + rng.normal(0, 3)
            meetings = max(0.0, meet_base + rng.normal(0, 3))
            proposals = max(0.0, prop_base + rng.normal(0, 1.5))
            emails = max(0.0, 300 + 30 * rng.normal())
            revenue = (60_000 + 15_000 * skill + 4_000 * proposals + rng.normal(0, 4_000)
                       + (2_500 * meetings if meetings_matter else 2_500 * meet_base))
            values = {"calls_per_day": calls, "meetings": round(meetings),
                      "proposals": round(proposals), "emails_sent": round(emails),
                      "revenue": round(revenue, 2),
                      "new_business": round(0.4 * revenue + rng.normal(0, 3_000), 2)}
            rows += [{"rep_id": rep_id, "metric_id": metrics[k].id, "grain": "quarter",
                      "period_start": start, "value": float(v)} for k, v in values.items()]
    db.session.execute(sa.insert(Observation), rows)
    db.session.commit()
    return metrics


def replace_metric_with_noise(metric: Metric, seed: int = 99) -> None:
    """Overwrite one metric's observations with values unrelated to anything."""
    rng = np.random.default_rng(seed)
    rows = db.session.execute(sa.select(Observation.id).where(
        Observation.metric_id == metric.id).order_by(Observation.id)).scalars().all()
    db.session.execute(sa.update(Observation), [
        {"id": oid, "value": float(round(12 + 3 * rng.normal()))} for oid in rows])
    db.session.commit()
