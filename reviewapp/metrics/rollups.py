"""The roll-up table: each metric's value per rep per month and quarter, computed once.

Quarters are all in the table; months are in it when they are rolled up from days or weeks,
while a value stored by month is its own roll-up and is read from the observations (`_view`
puts both together), so that a monthly import does not write every value twice.

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

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from reviewapp.extensions import db
from reviewapp.lazy import np, pd
from reviewapp.metrics import bulk
from reviewapp.metrics.data import fetch_columns, frame_of_columns
from reviewapp.metrics.models import Metric, MetricRollup, Observation, Rollup
from reviewapp.metrics.periods import Grain, quarter_of, rollup_all
from reviewapp.model_types import among

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


def recompute(connection: sa.Connection, box: Box | None = None, *,
              written: pd.DataFrame | None = None,
              batch_id: int | None = None) -> pd.DataFrame:
    """The roll-ups the observations in the box give (COLUMNS; period_start as datetime64).

    An import passes the rows it has just written (rep, metric, grain, start, value) and its
    batch: those are taken from memory and only the box's other observations are read back,
    so a million-row import does not read its million rows again.
    """
    query = sa.select(Observation.rep_id, Observation.metric_id, Observation.grain,
                      sa.type_coerce(Observation.period_start, sa.String), Observation.value)
    query = _where(query, box, Observation.rep_id, Observation.metric_id,
                   Observation.period_start, reach=WEEK_REACH)
    if written is not None:
        query = query.where(Observation.batch_id.is_distinct_from(batch_id))
    frame = frame_of_columns(fetch_columns(query, connection),
                             ["rep", "metric", "grain", "start", "value"])
    if written is not None and not written.empty:
        frame = pd.concat([frame, written[["rep", "metric", "grain", "start", "value"]]],
                          ignore_index=True) if not frame.empty else written
    # Months: only those rolled up from days or weeks. A month stored as such is its own
    # roll-up (read from the observations, see _view), and where a month value exists, finer
    # values of that month do not count (the coarsest grain wins, as in periods.rollup).
    finer = rollup_all(frame[frame["grain"].isin([Grain.DAY.value, Grain.WEEK.value])],
                       Grain.MONTH)
    months = frame[frame["grain"] == Grain.MONTH.value]
    if not months.empty and not finer.empty:
        stored_months = pd.MultiIndex.from_frame(months[["rep", "metric", "start"]])
        cells = pd.MultiIndex.from_frame(finer[["rep", "metric", "start"]])
        finer = finer[~cells.isin(stored_months)]
    out = pd.concat([finer, rollup_all(frame, Grain.QUARTER)], ignore_index=True)
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


# Called with each box of observations just changed, in the same transaction of the app's
# session (the reviews that follow the data store their KPI actuals and scores anew).
on_refreshed: list[Callable[[Box | None], None]] = []


def refresh(box: Box | None, connection: sa.Connection | None = None, *,
            written: pd.DataFrame | None = None, batch_id: int | None = None) -> int:
    """Recompute every roll-up in the box (None: the whole table) from the observations, in
    the caller's transaction; returns how many roll-ups the box now holds. `written` and
    `batch_id`: see recompute."""
    # Hooks read through the app's session: not when a migration refreshes on its own
    # connection (its transaction locks the tables, and the models may be ahead of them).
    in_session = connection is None
    connection = connection if connection is not None else db.session.connection()
    fresh = recompute(connection, box, written=written, batch_id=batch_id)
    connection.execute(_where(sa.delete(TABLE), box, TABLE.c.rep_id, TABLE.c.metric_id,
                              TABLE.c.period_start))
    if not fresh.empty:
        bulk.insert_rows(TABLE.name, COLUMNS,
                         fresh.assign(period_start=bulk.iso_dates(fresh["period_start"])),
                         connection)
    for hook in on_refreshed if in_session else ():
        hook(box)
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


def _view(grain: Grain | str, *, rep_ids=None, metric_ids=None, start: date | None = None,
          first: date | None = None, last: date | None = None):
    """Roll-ups at a grain as one selectable (rep_id, metric_id, period_start, sum_value,
    mean_value, last_value, n), the filters applied inside: for months, the table's months
    (rolled up from days and weeks) and the observations stored by month, which are their
    own roll-up (so a monthly import stores its values once, not twice)."""
    obs = Observation.__table__

    def filtered(query, table):
        if isinstance(rep_ids, sa.Select):  # the reps as a subquery: a scope of any size
            query = query.where(table.c.rep_id.in_(rep_ids))
        elif rep_ids is not None:
            query = query.where(among(table.c.rep_id, rep_ids))
        if metric_ids is not None:
            query = query.where(table.c.metric_id.in_(list(metric_ids)))
        if start is not None:
            query = query.where(table.c.period_start == start)
        if first is not None:
            query = query.where(table.c.period_start >= first)
        if last is not None:
            query = query.where(table.c.period_start <= last)
        return query

    grain = Grain(grain)
    table = filtered(sa.select(TABLE.c.rep_id, TABLE.c.metric_id, TABLE.c.period_start,
                               TABLE.c.sum_value, TABLE.c.mean_value, TABLE.c.last_value,
                               TABLE.c.n).where(_grain_is(grain, by_rep=rep_ids is not None)),
                     TABLE)
    if grain != Grain.MONTH:
        return table.subquery("rollup")
    own = filtered(sa.select(obs.c.rep_id, obs.c.metric_id, obs.c.period_start,
                             obs.c.value.label("sum_value"), obs.c.value.label("mean_value"),
                             obs.c.value.label("last_value"), sa.literal(1).label("n"))
                   .where(obs.c.grain == Grain.MONTH.value), obs)
    return sa.union_all(table, own).subquery("rollup")


def _grain_is(grain: Grain, *, by_rep: bool) -> sa.ColumnElement[bool]:
    """`grain = :grain` on the roll-up table. When reps are given, SQLite is kept from reading
    it by the (grain, period) index, written `+grain` (the unary plus SQLite documents for
    that): not knowing how many reps a json_each list holds, it took that index over the
    primary key, which starts with the rep, and so read every rep's roll-ups of the grain to
    keep one rep's: one rep's page took 23 ms at 2,000 reps for 30 rows, and grew with the
    organisation. PostgreSQL plans `rep_id = ANY(...)` by the key on its own."""
    column = TABLE.c.grain
    if by_rep and db.engine.dialect.name == "sqlite":
        column = UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)
    return column == grain.value


def value_column(view, how: str | Rollup | None = None):
    """The value under a fixed rule, or (None) under each metric's own rule (join Metric)."""
    columns = {Rollup.SUM: view.c.sum_value, Rollup.MEAN: view.c.mean_value,
               Rollup.LAST: view.c.last_value}
    if how is not None:
        return columns[Rollup(how)]
    return sa.case((Metric.rollup == Rollup.SUM, view.c.sum_value),
                   (Metric.rollup == Rollup.MEAN, view.c.mean_value),
                   else_=view.c.last_value)


def rep_values(rep_id: int, grain: Grain | str) -> list[tuple[int, date, float]]:
    """(metric id, period start, value) of one rep at a grain, under each metric's rule."""
    v = _view(grain, rep_ids=[rep_id])
    query = (sa.select(v.c.metric_id, v.c.period_start, value_column(v))
             .join(Metric, Metric.id == v.c.metric_id)
             .order_by(v.c.metric_id, v.c.period_start))
    return [(m, _day(start), value) for m, start, value in db.session.execute(query)]


def _day(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def metrics_of(rep_id: int, grain: Grain | str) -> set[int]:
    """The metrics with roll-ups for the rep at a grain."""
    v = _view(grain, rep_ids=[rep_id])
    return set(db.session.scalars(sa.select(v.c.metric_id).distinct()))


def periods_and_metrics(rep_ids: Iterable[int] | sa.Select,
                        grain: Grain | str) -> tuple[list[date], set[int]]:
    """The periods that hold any roll-up of these reps (ids, or a SELECT of ids) at a grain,
    oldest first, and the metrics that have any (one grouped statement)."""
    v = _view(grain, rep_ids=rep_ids if isinstance(rep_ids, sa.Select) else list(rep_ids))
    query = sa.select(v.c.period_start, v.c.metric_id).group_by(v.c.period_start,
                                                                 v.c.metric_id)
    periods, metrics = set(), set()
    for start, metric_id in db.session.execute(query):
        periods.add(_day(start))
        metrics.add(metric_id)
    return sorted(periods), metrics


def period_table(rep_ids: Iterable[int], grain: Grain | str,
                 start: date) -> dict[int, dict[int, float]]:
    """rep id → metric id → value in one period, under each metric's rule."""
    v = _view(grain, rep_ids=list(rep_ids), start=start)
    query = (sa.select(v.c.rep_id, v.c.metric_id, value_column(v))
             .join(Metric, Metric.id == v.c.metric_id))
    table: dict[int, dict[int, float]] = {}
    for rep_id, metric_id, value in db.session.execute(query):
        table.setdefault(rep_id, {})[metric_id] = value
    return table


def reps_with_data(grain: Grain | str, start: date) -> sa.Select:
    """The ids of the reps with any value in one period (SELECT, to filter people by)."""
    return sa.select(_view(grain, start=start).c.rep_id)


def period_values(metric_id: int, grain: Grain | str, start: date) -> sa.Subquery:
    """(rep_id, value) of one metric in one period under its rule, as a subquery to join (the
    team table sorts its reps by it in SQL)."""
    v = _view(grain, metric_ids=[metric_id], start=start)
    return (sa.select(v.c.rep_id, value_column(v).label("value"))
            .join(Metric, Metric.id == v.c.metric_id).subquery("sort_values"))


def _value_under(view, how: dict[int, str] | None):
    """The value under each metric's own rule, but `how`'s rule for the metrics it names."""
    rules = [(view.c.metric_id == mid, value_column(view, rule))
             for mid, rule in (how or {}).items()]
    return sa.case(*rules, else_=value_column(view)) if rules else value_column(view)


def one_period(rep_id: int, metric_ids: Iterable[int], grain: Grain | str, start: date, *,
               how: dict[int, str] | None = None) -> dict[int, float]:
    """metric id → one rep's value in the period starting at `start` (one statement); `how`
    holds some metrics' rules fixed (a cycle's frozen ones)."""
    v = _view(grain, rep_ids=[rep_id], metric_ids=list(metric_ids), start=start)
    query = (sa.select(v.c.metric_id, _value_under(v, how))
             .join(Metric, Metric.id == v.c.metric_id))
    return dict(db.session.execute(query).all())


def values_in(rep_ids: Iterable[int], metric_ids: Iterable[int], grain: Grain | str, *,
              first: date, last: date, how: dict[int, str] | None = None) -> pd.DataFrame:
    """rep, metric, grain, start, value, n for periods starting in [first, last], as
    data.rolled_up gives them; `how` holds some metrics' rules fixed (a cycle's frozen ones)."""
    v = _view(grain, rep_ids=list(rep_ids), metric_ids=list(metric_ids), first=first,
              last=last)
    value = _value_under(v, how)
    query = (sa.select(v.c.rep_id, v.c.metric_id, sa.literal(Grain(grain).value),
                       sa.type_coerce(v.c.period_start, sa.String), value, v.c.n)
             .join(Metric, Metric.id == v.c.metric_id)
             .order_by(v.c.rep_id, v.c.metric_id, v.c.period_start))
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
