"""Reading stored observations back as tidy DataFrames, rolled up to month or quarter."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa

from reviewapp.collector import collector_paused
from reviewapp.extensions import db
from reviewapp.lazy import np, pd
from reviewapp.metrics.models import Metric, Observation
from reviewapp.metrics.periods import Grain, rollup
from reviewapp.model_types import among

COLUMNS = ["rep", "metric", "grain", "start", "value"]


def observations_query(
    rep_ids: Iterable[int] | None = None,
    metric_ids: Iterable[int] | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
) -> sa.Select:
    """rep_id, metric_id, grain, period_start (as the driver gives it), value; filtered."""
    query = sa.select(Observation.rep_id, Observation.metric_id, Observation.grain,
                      sa.type_coerce(Observation.period_start, sa.String), Observation.value)
    if rep_ids is not None:
        query = query.where(among(Observation.rep_id, rep_ids))
    if metric_ids is not None:
        query = query.where(Observation.metric_id.in_(list(metric_ids)))
    if start is not None:
        query = query.where(Observation.period_start >= start)
    if end is not None:
        query = query.where(Observation.period_start <= end)
    return query


def load_observations(
    rep_ids: Iterable[int] | None = None,
    metric_ids: Iterable[int] | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Observations as rep, metric (ids), grain, start, value; optionally filtered."""
    return frame_of_columns(fetch_columns(observations_query(
        rep_ids, metric_ids, start=start, end=end)), COLUMNS)


def observation_rows(
    rep_ids: Iterable[int] | None = None,
    metric_ids: Iterable[int] | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
) -> list[tuple]:
    """The same observations as plain (rep, metric, grain, start, value) rows, no DataFrame:
    for pages, which meet a few hundred rows (goals/progress.goal_values)."""
    columns = fetch_columns(observations_query(rep_ids, metric_ids, start=start, end=end))
    return list(zip(*columns, strict=True)) if columns else []


def fetch_columns(query: sa.Select,
                  connection: sa.Connection | None = None) -> tuple[tuple, ...] | None:
    """The result as one tuple per column (None if empty), from plain DB-API rows.

    A DataFrame built from SQLAlchemy Row objects probes every row; plain tuples, transposed
    once, are several times cheaper (the same path as kpis/panel.py). The cyclic garbage
    collector, triggered again and again by many new tuples that hold no cycles, is paused.
    """
    with collector_paused():
        connection = connection if connection is not None else db.session.connection()
        result = connection.execute(query)
        try:
            rows = result.cursor.fetchall()
        finally:
            result.close()
        return tuple(zip(*rows, strict=True)) if rows else None


def as_datetimes(values) -> np.ndarray:
    """Dates (or ISO date strings, as SQLite gives them) as datetime64[ns], each distinct one
    converted once."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    starts = pd.to_datetime(pd.Index(uniques).astype(str), format="%Y-%m-%d")
    return starts.to_numpy(dtype="datetime64[ns]")[codes]


def frame_of_columns(columns: tuple[tuple, ...] | None, names: list[str]) -> pd.DataFrame:
    """rep, metric, grain, start, value (and any further float columns) from fetch_columns."""
    if columns is None:
        frame = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in zip(
            names, ["int64", "int64", object, "datetime64[ns]"] + ["float64"] * 8,
            strict=False)})
        return frame
    data = {"rep": np.fromiter(columns[0], dtype=np.int64, count=len(columns[0])),
            "metric": np.fromiter(columns[1], dtype=np.int64, count=len(columns[1])),
            "grain": np.array(columns[2], dtype=object),
            "start": as_datetimes(columns[3])}
    for name, values in zip(names[4:], columns[4:], strict=True):
        data[name] = np.array(values, dtype=np.float64)
    return pd.DataFrame(data)


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
    frame = frame[frame["grain"].isin([g.value for g in Grain if g <= target])]
    if frame.empty:
        return frame.assign(n=pd.Series(dtype="int64"))
    # `how` lets a caller hold a rule fixed (a launched cycle's frozen roll-ups).
    return rollup(frame, target, {**rollup_how(), **(how or {})})
