"""The roll-up table: each metric's value per rep per month and quarter, computed once.

Pages used to load every observation of their reps and roll them up in pandas on every
request; now they read `metric_rollups` with SQL. The table is a pure function of the
observations (`periods.rollup_all` of them, the same arithmetic as `data.rolled_up`), and is
kept so in the transaction that changes them:

- the import and its undo call `refresh` for the box of reps, metrics and quarters they
  touched (`box_of`): every roll-up in the box is deleted and recomputed from the
  observations, so the box may be larger than what changed, never smaller;
- any other write of observations through the session (tests, a maintenance script) is
  caught by the session events at the bottom, which refresh the same way;
- a metric's roll-up rule is not stored in it: each row keeps the sum, the mean and the latest
  value, so changing a rule (or reading with a cycle's frozen rule) picks another column and
  needs nothing recomputed.

`flask metrics rollups --check` compares the table with a recomputation; `--rebuild` rebuilds it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from reviewapp.extensions import db
from reviewapp.metrics import bulk
from reviewapp.metrics.data import fetch_columns, frame_of_columns
from reviewapp.metrics.models import Metric, MetricRollup, Observation, Rollup
from reviewapp.metrics.periods import Grain, quarter_of, rollup_all

TABLE = MetricRollup.__table__
COLUMNS = ("rep_id", "metric_id", "grain", "period_start", "sum_value", "mean_value",
           "last_value", "n")
GRAINS = (Grain.MONTH, Grain.QUARTER)
# A week starting up to six days before a quarter belongs to it when its Thursday does.
WEEK_REACH = timedelta(days=6)
# Beyond this many ids the box is bounded by its quarters alone (a larger box stays correct).
MANY_IDS = 500
# Set on a statement that writes observations and refreshes the roll-ups itself.
MAINTAINED = {"rollups_maintained": True}
RULE_COLUMN = {Rollup.SUM: TABLE.c.sum_value, Rollup.MEAN: TABLE.c.mean_value,
               Rollup.LAST: TABLE.c.last_value}


@dataclass(frozen=True)
class Box:
    """Reps × metrics × whole quarters whose roll-ups are recomputed (None: all of them)."""

    rep_ids: tuple[int, ...] | None
    metric_ids: tuple[int, ...] | None
    first: date  # the first day of the first quarter
    last: date  # the last day of the last quarter


def _ids(values: Iterable[int]) -> tuple[int, ...] | None:
    unique = tuple(sorted({int(v) for v in values}))
    return None if len(unique) > MANY_IDS else unique


def box_of(rep_ids, metric_ids, grains, starts) -> Box | None:
    """The box of observations (rep, metric, grain, start) that were written or removed."""
    grains = np.asarray(list(grains), dtype=object)
    if not len(grains):
        return None
    days = pd.to_datetime(pd.Series(list(starts))).to_numpy(dtype="datetime64[D]")
    # A week counts where its Thursday is: it may belong to the quarter after its Monday.
    anchors = days + np.where(grains == Grain.WEEK.value, 3, 0).astype("timedelta64[D]")
    first = quarter_of(pd.Timestamp(days.min()).date())
    last = quarter_of(pd.Timestamp(anchors.max()).date())
    return Box(_ids(rep_ids), _ids(metric_ids), first.start, last.end)


def _where(query, box: Box | None, rep_col, metric_col, period_col, *, reach=timedelta(0)):
    if box is None:
        return query
    if box.rep_ids is not None:
        query = query.where(rep_col.in_(box.rep_ids))
    if box.metric_ids is not None:
        query = query.where(metric_col.in_(box.metric_ids))
    return query.where(period_col >= box.first - reach, period_col <= box.last)


def recompute(connection: sa.Connection, box: Box | None = None) -> pd.DataFrame:
    """The roll-ups the observations in the box give (COLUMNS; period_start as datetime64)."""
    query = sa.select(Observation.rep_id, Observation.metric_id, Observation.grain,
                      sa.type_coerce(Observation.period_start, sa.String), Observation.value)
    query = _where(query, box, Observation.rep_id, Observation.metric_id,
                   Observation.period_start, reach=WEEK_REACH)
    frame = frame_of_columns(fetch_columns(query, connection),
                             ["rep", "metric", "grain", "start", "value"])
    parts = []
    for grain in GRAINS:
        finer = frame[frame["grain"].isin([g.value for g in Grain if g <= grain])]
        parts.append(rollup_all(finer, grain))
    out = pd.concat(parts, ignore_index=True)
    if box is not None:
        first, last = pd.Timestamp(box.first), pd.Timestamp(box.last)
        out = out[((out["start"] >= first) & (out["start"] <= last)).to_numpy()]
    return pd.DataFrame({
        "rep_id": out["rep"].to_numpy(dtype=np.int64),
        "metric_id": out["metric"].to_numpy(dtype=np.int64),
        "grain": out["grain"].to_numpy(dtype=object),
        "period_start": out["start"].to_numpy(dtype="datetime64[ns]"),
        "sum_value": out["sum"].to_numpy(dtype=float),
        "mean_value": out["mean"].to_numpy(dtype=float),
        "last_value": out["last"].to_numpy(dtype=float),
        "n": out["n"].to_numpy(dtype=np.int64)})


def refresh(box: Box | None, connection: sa.Connection | None = None) -> int:
    """Recompute every roll-up in the box (None: the whole table) from the observations, in
    the caller's transaction; returns how many roll-ups the box now holds."""
    connection = connection if connection is not None else db.session.connection()
    fresh = recompute(connection, box)
    connection.execute(_where(sa.delete(TABLE), box, TABLE.c.rep_id, TABLE.c.metric_id,
                              TABLE.c.period_start))
    if not fresh.empty:
        bulk.insert_rows(TABLE.name, COLUMNS,
                         fresh.assign(period_start=bulk.iso_dates(fresh["period_start"])),
                         connection)
    return len(fresh)


def stored(connection: sa.Connection | None = None) -> pd.DataFrame:
    """The whole table as recompute() returns it, sorted alike (for checks and tests)."""
    connection = connection if connection is not None else db.session.connection()
    query = sa.select(TABLE.c.rep_id, TABLE.c.metric_id, TABLE.c.grain,
                      sa.type_coerce(TABLE.c.period_start, sa.String), TABLE.c.sum_value,
                      TABLE.c.mean_value, TABLE.c.last_value, TABLE.c.n)
    columns = fetch_columns(query, connection) or tuple(() for _ in COLUMNS)
    frame = pd.DataFrame({name: pd.Series(values, dtype=object)
                          for name, values in zip(COLUMNS, columns, strict=True)})
    frame["period_start"] = pd.to_datetime(frame["period_start"].astype(str)).astype(
        "datetime64[ns]")
    return frame.astype({"rep_id": "int64", "metric_id": "int64", "grain": object,
                         "sum_value": float, "mean_value": float, "last_value": float,
                         "n": "int64"})


def differences(connection: sa.Connection | None = None) -> pd.DataFrame:
    """Roll-ups that the table and a recomputation disagree on (empty when they agree)."""
    connection = connection if connection is not None else db.session.connection()
    keys = ["rep_id", "metric_id", "grain", "period_start"]
    both = stored(connection).merge(recompute(connection), on=keys, how="outer",
                                    suffixes=("_stored", "_computed"), indicator=True)
    differ = both["_merge"] != "both"
    for column in ("sum_value", "mean_value", "last_value", "n"):
        a, b = both[f"{column}_stored"], both[f"{column}_computed"]
        differ |= ~np.isclose(a.to_numpy(dtype=float), b.to_numpy(dtype=float),
                              rtol=1e-9, atol=1e-9, equal_nan=True)
    return both[differ.to_numpy()]


# Reading, for the pages --------------------------------------------------------------------


def value_column(how: str | Rollup | None = None):
    """The value under a fixed rule, or (None) under each metric's own rule (join Metric)."""
    if how is not None:
        return RULE_COLUMN[Rollup(how)]
    return sa.case((Metric.rollup == Rollup.SUM, TABLE.c.sum_value),
                   (Metric.rollup == Rollup.MEAN, TABLE.c.mean_value),
                   else_=TABLE.c.last_value)


def rep_values(rep_id: int, grain: Grain | str) -> list[tuple[int, date, float]]:
    """(metric id, period start, value) of one rep at a grain, under each metric's rule."""
    query = (sa.select(TABLE.c.metric_id, TABLE.c.period_start, value_column())
             .join(Metric, Metric.id == TABLE.c.metric_id)
             .where(TABLE.c.rep_id == rep_id, TABLE.c.grain == Grain(grain).value)
             .order_by(TABLE.c.metric_id, TABLE.c.period_start))
    return [tuple(row) for row in db.session.execute(query)]


def metrics_of(rep_id: int, grain: Grain | str) -> set[int]:
    """The metrics with roll-ups for the rep at a grain."""
    query = sa.select(TABLE.c.metric_id).distinct().where(
        TABLE.c.rep_id == rep_id, TABLE.c.grain == Grain(grain).value)
    return set(db.session.scalars(query))


def periods_and_metrics(rep_ids: Iterable[int], grain: Grain | str) -> tuple[list[date], set[int]]:
    """The periods that hold any roll-up of these reps at a grain, oldest first, and the
    metrics that have any (one grouped statement)."""
    query = (sa.select(TABLE.c.period_start, TABLE.c.metric_id)
             .where(TABLE.c.grain == Grain(grain).value, TABLE.c.rep_id.in_(list(rep_ids)))
             .group_by(TABLE.c.period_start, TABLE.c.metric_id))
    periods, metrics = set(), set()
    for start, metric_id in db.session.execute(query):
        periods.add(start)
        metrics.add(metric_id)
    return sorted(periods), metrics


def period_table(rep_ids: Iterable[int], grain: Grain | str,
                 start: date) -> dict[int, dict[int, float]]:
    """rep id → metric id → value in one period, under each metric's rule."""
    query = (sa.select(TABLE.c.rep_id, TABLE.c.metric_id, value_column())
             .join(Metric, Metric.id == TABLE.c.metric_id)
             .where(TABLE.c.grain == Grain(grain).value, TABLE.c.period_start == start,
                    TABLE.c.rep_id.in_(list(rep_ids))))
    table: dict[int, dict[int, float]] = {}
    for rep_id, metric_id, value in db.session.execute(query):
        table.setdefault(rep_id, {})[metric_id] = value
    return table


def values_in(rep_ids: Iterable[int], metric_ids: Iterable[int], grain: Grain | str, *,
              first: date, last: date, how: dict[int, str] | None = None) -> pd.DataFrame:
    """rep, metric, grain, start, value, n for periods starting in [first, last], as
    data.rolled_up gives them; `how` holds some metrics' rules fixed (a cycle's frozen ones)."""
    how = how or {}
    rules = [(TABLE.c.metric_id == mid, RULE_COLUMN[Rollup(rule)]) for mid, rule in how.items()]
    value = sa.case(*rules, else_=value_column()) if rules else value_column()
    query = (sa.select(TABLE.c.rep_id, TABLE.c.metric_id, TABLE.c.grain,
                       sa.type_coerce(TABLE.c.period_start, sa.String), value, TABLE.c.n)
             .join(Metric, Metric.id == TABLE.c.metric_id)
             .where(TABLE.c.grain == Grain(grain).value, TABLE.c.rep_id.in_(list(rep_ids)),
                    TABLE.c.metric_id.in_(list(metric_ids)), TABLE.c.period_start >= first,
                    TABLE.c.period_start <= last)
             .order_by(TABLE.c.rep_id, TABLE.c.metric_id, TABLE.c.period_start))
    frame = frame_of_columns(fetch_columns(query), ["rep", "metric", "grain", "start", "value",
                                                    "n"])
    return frame.astype({"n": "int64"})


# Writes that do not come through the import --------------------------------------------------


def _keys_of(obj: Observation) -> list[tuple]:
    """The observation's key now and, when it changed in this flush, before."""
    state = sa.inspect(obj)
    now = (obj.rep_id, obj.metric_id, obj.grain, obj.period_start)
    before = []
    for name in ("rep_id", "metric_id", "grain", "period_start"):
        history = state.attrs[name].history
        before.append(history.deleted[0] if history.deleted else getattr(obj, name))
    return [now, tuple(before)]


@event.listens_for(Session, "after_flush")
def _note_flushed_observations(session: Session, _context) -> None:
    keys = [key for obj in (*session.new, *session.dirty, *session.deleted)
            if isinstance(obj, Observation) for key in _keys_of(obj)]
    keys = [k for k in keys if None not in k]
    if keys:
        session.info.setdefault("rollup_keys", []).extend(keys)


@event.listens_for(Session, "after_flush_postexec")
def _refresh_after_flush(session: Session, _context) -> None:
    keys = session.info.pop("rollup_keys", None)
    if keys:
        reps, metrics, grains, starts = zip(*keys, strict=True)
        refresh(box_of(reps, metrics, grains, starts), session.connection())


@event.listens_for(Session, "do_orm_execute")
def _refresh_after_statement(state) -> object | None:
    statement = state.statement
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    if getattr(getattr(statement, "table", None), "name", None) != "observations":
        return None
    if state.execution_options.get("rollups_maintained"):
        return None
    result = state.invoke_statement()
    params = state.parameters
    rows = params if isinstance(params, list) else [params] if params else []
    box = None  # an UPDATE or DELETE may touch anything: recompute everything
    if state.is_insert and rows and all(isinstance(r, dict) for r in rows):
        box = box_of([r["rep_id"] for r in rows], [r["metric_id"] for r in rows],
                     [r["grain"] for r in rows], [r["period_start"] for r in rows])
    refresh(box, state.session.connection())
    return result
