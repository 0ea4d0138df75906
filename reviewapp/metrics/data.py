"""Reading stored observations back as tidy DataFrames, rolled up to month or quarter."""

from collections.abc import Iterable
from datetime import date

import pandas as pd
import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.metrics.models import Metric, Observation
from reviewapp.metrics.periods import Grain, rollup

COLUMNS = ["rep", "metric", "grain", "start", "value"]


def load_observations(
    rep_ids: Iterable[int] | None = None,
    metric_ids: Iterable[int] | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Observations as rep, metric (ids), grain, start, value; optionally filtered."""
    query = sa.select(Observation.rep_id, Observation.metric_id, Observation.grain,
                      Observation.period_start, Observation.value)
    if rep_ids is not None:
        query = query.where(Observation.rep_id.in_(list(rep_ids)))
    if metric_ids is not None:
        query = query.where(Observation.metric_id.in_(list(metric_ids)))
    if start is not None:
        query = query.where(Observation.period_start >= start)
    if end is not None:
        query = query.where(Observation.period_start <= end)
    frame = pd.DataFrame(db.session.execute(query).all(), columns=COLUMNS)
    frame["start"] = pd.to_datetime(frame["start"]).astype("datetime64[ns]")
    return frame


def rollup_how() -> dict[int, str]:
    """Each metric's roll-up rule, by id."""
    return {mid: how.value for mid, how in db.session.execute(sa.select(Metric.id, Metric.rollup))}


def rolled_up(frame: pd.DataFrame, grain: Grain | str = Grain.QUARTER,
              how: dict[int, str] | None = None) -> pd.DataFrame:
    """Roll a frame from load_observations up to month or quarter with each metric's rule.

    Values stored at a coarser grain than asked for (a quarter, in a monthly view) cannot be
    split and are left out; callers can tell from the metrics that are missing.
    """
    target = Grain(grain)
    finer = frame["grain"].map(lambda g: Grain(g) <= target) if not frame.empty else None
    if finer is not None:
        frame = frame[finer.astype(bool)]
    if frame.empty:
        return frame.assign(n=pd.Series(dtype="int64"))
    # `how` lets a caller hold a rule fixed (a launched cycle's frozen roll-ups).
    return rollup(frame, target, {**rollup_how(), **(how or {})})
