"""Demo metric data: eight quarters that show why "40 calls a day" is a goal, not a KPI.

Within each rep, meetings and proposals move with revenue; calls per day do not. Across reps,
the people who call most sell least (a between-rep pattern that vanishes within reps), and
Priya Shah makes about half the average calls yet brings in the most revenue. A company-wide
season lifts every rep's activity and revenue together (year-end budgets in Q4, a summer lull
in Q3): without period effects it would make calls look predictive within reps.
"""

import io
from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa

from reviewapp.auth.models import Role, User
from reviewapp.demo.people import DOMAIN, TEAMS, email_for
from reviewapp.extensions import db
from reviewapp.metrics.catalogue import add_metric, metric_by_key
from reviewapp.metrics.importer import apply_import, prepare_import
from reviewapp.metrics.models import ImportBatch, Observation
from reviewapp.metrics.periods import Grain, Period, current_quarter, quarter_of

METRICS = [
    # key, name, kind, direction, rollup, unit, description
    ("revenue", "Revenue", "outcome", "higher", "sum", "$", "Closed-won revenue booked."),
    ("new_business", "New business", "outcome", "higher", "sum", "$",
     "Revenue from customers new to us."),
    ("calls_per_day", "Calls per day", "activity", "higher", "mean", "calls",
     "Outbound calls per working day."),
    ("emails_sent", "Emails sent", "activity", "higher", "sum", "emails",
     "Prospecting and follow-up emails."),
    ("meetings", "Meetings", "activity", "higher", "sum", "meetings",
     "Discovery and demo meetings held with prospects."),
    ("proposals", "Proposals", "activity", "higher", "sum", "proposals",
     "Written proposals sent."),
]
N_QUARTERS = 8
TOP_SELLER = "Priya Shah"
BUSY_REP = "Tom Becker"  # many calls, results below what his activity predicts
FILENAME = "demo-metrics.csv"
# The company-wide season by quarter of the year, in units of a typical swing.
SEASON = {1: -0.4, 2: 0.2, 3: -1.0, 4: 1.2}


def last_quarter(today: date | None = None) -> Period:
    """The latest complete quarter on `today`: where the demo's data stop, whenever it is
    loaded (a demo loaded in 2027 shows 2027's quarters, not a year-old story)."""
    return current_quarter(today or date.today()).shift(-1)


def loaded_last_quarter() -> Period | None:
    """The last quarter of the demo data in the database (None before it is loaded)."""
    latest = db.session.scalar(
        sa.select(sa.func.max(Observation.period_start)).join(
            ImportBatch, ImportBatch.id == Observation.batch_id)
        .where(ImportBatch.source == "demo"))
    return None if latest is None else quarter_of(latest)


def quarters(today: date | None = None) -> list[Period]:
    """The demo quarters, oldest first, ending with the last complete one."""
    last = last_quarter(today)
    return [last.shift(i - N_QUARTERS + 1) for i in range(N_QUARTERS)]


def ensure_metrics() -> dict[str, object]:
    """Create the demo metrics that are missing."""
    out = {}
    for key, name, kind, direction, rollup, unit, description in METRICS:
        metric = metric_by_key(key)
        if metric is None:
            metric = add_metric(None, key=key, name=name, kind=kind, direction=direction,
                                rollup=rollup, unit=unit, description=description)
        out[key] = metric
    return out


def generate(seed: int, today: date | None = None) -> pd.DataFrame:
    """The demo observations in the long layout (rep_email, period, metric, value)."""
    rng = np.random.default_rng(seed)
    names = [name for _, _, reps in TEAMS for name in reps]
    rows: list[tuple[str, str, str, float]] = []
    for name in names:
        email = email_for(name)
        skill = rng.normal(0, 1)
        if name == TOP_SELLER:
            skill = 2.2
        # Between reps, callers are the less skilled: calls stand in for what they lack.
        calls_level = 42 - 6 * skill + rng.normal(0, 3)
        if name == TOP_SELLER:
            calls_level = 20.0
        if name == BUSY_REP:
            skill, calls_level = -1.0, 58.0
        meetings_level = 24 + 3 * skill + rng.normal(0, 2)
        proposals_level = 9 + 1.2 * skill + rng.normal(0, 1)
        base = 120_000 + 18_000 * skill
        if name == TOP_SELLER:
            base += 45_000  # sells more than her activity explains: a teachable moment
        if name == BUSY_REP:
            base -= 30_000
        for quarter in quarters(today):
            season = SEASON[(quarter.start.month - 1) // 3 + 1]
            meetings = max(4, round(meetings_level + 1.5 * season + rng.normal(0, 4)))
            proposals = max(1, round(proposals_level + 0.6 * season + rng.normal(0, 2.2)))
            calls_q = []
            for month in range(3):
                start = quarter.start.replace(month=quarter.start.month + month)
                calls = max(3.0, round(calls_level + 5 * season + rng.normal(0, 10), 1))
                calls_q.append(calls)
                label = Period(Grain.MONTH, start).label
                rows.append((email, label, "calls_per_day", calls))
                rows.append((email, label, "emails_sent",
                             float(max(20, round(calls * 4 + rng.normal(0, 90))))))
            # The season lifts revenue beyond what the extra meetings and proposals explain.
            revenue = (base + 2_500 * (meetings - meetings_level)
                       + 4_100 * (proposals - proposals_level) + 9_000 * season
                       + rng.normal(0, 3_000))
            new_business = max(0.0, 0.35 * revenue + 1_800 * (proposals - proposals_level)
                               + rng.normal(0, 6_000))
            for key, value in [("meetings", meetings), ("proposals", proposals),
                               ("revenue", round(revenue, -2)),
                               ("new_business", round(new_business, -2))]:
                rows.append((email, quarter.label, key, float(value)))
    return pd.DataFrame(rows, columns=["rep_email", "period", "metric", "value"])


def load_metrics(seed: int, today: date | None = None) -> dict:
    """Add the demo metrics and, once, a batch of eight quarters of data for the demo reps."""
    ensure_metrics()
    db.session.flush()
    if db.session.scalar(sa.select(ImportBatch.id).where(ImportBatch.source == "demo")):
        return {"metric data": "already loaded"}
    hr = db.session.scalar(sa.select(User).where(User.email == f"hr@{DOMAIN}",
                                                 User.role == Role.HR_ADMIN))
    buffer = io.StringIO()
    generate(seed, today).to_csv(buffer, index=False)
    plan = prepare_import(hr, buffer.getvalue().encode(), FILENAME, source="demo")
    if not plan.ok:  # a bug in the generator, not user input
        raise RuntimeError(f"demo data did not validate: {plan.errors[:3]}")
    batch = apply_import(hr, plan, replace=True)
    first, last = quarters(today)[0].label, quarters(today)[-1].label
    return {"metric data": f"batch #{batch.id}: {batch.row_count} values, {first} to {last}"}
