"""Reporting periods (day, ISO week, month, quarter): parsing, labels and roll-ups.

Pure pandas/numpy so it can be unit-tested without the app or the database.

Labels: day ``2026-03-15``, ISO week ``2026-W11`` (Monday start, ISO year), month ``2026-03``,
quarter ``2026-Q1``. A period is identified by its grain and its first day.

Roll-up rule for weeks: a week belongs to the month (and quarter) that contains its Thursday.
That is the same rule that gives an ISO week its year (week 1 is the week with the year's first
Thursday), so a week never lands in a month of a different ISO year, and every week lands in
exactly one month even when it straddles a month end.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reviewapp.lazy import np, pd

__all__ = [
    "Grain",
    "Period",
    "PeriodError",
    "MIN_YEAR",
    "MAX_YEAR",
    "ROLLUP_HOW",
    "parse_period",
    "parse_periods",
    "parse_period_array",
    "period_of",
    "quarter_of",
    "current_quarter",
    "periods_between",
    "to_grain",
    "rollup",
    "rollup_all",
]

# Years outside this range are almost certainly typos (e.g. "0226-03"), and keeping them in range
# also keeps every start date representable as datetime64[ns] (1677..2262).
MIN_YEAR = 1900
MAX_YEAR = 2199

ROLLUP_HOW = ("sum", "mean", "last")


class Grain(StrEnum):
    """Granularity of a period, ordered day < week < month < quarter."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"

    @property
    def rank(self) -> int:
        """Position in the order day=0, week=1, month=2, quarter=3."""
        return _GRAIN_RANK[self.value]

    # StrEnum would otherwise compare alphabetically ("day" < "month" < "quarter" < "week").
    def _rank_of(self, other: object) -> int | None:
        if isinstance(other, Grain):
            return other.rank
        if isinstance(other, str):
            try:
                return Grain(other).rank
            except ValueError:
                return None
        return None

    def __lt__(self, other: object) -> bool:
        r = self._rank_of(other)
        return NotImplemented if r is None else self.rank < r

    def __le__(self, other: object) -> bool:
        r = self._rank_of(other)
        return NotImplemented if r is None else self.rank <= r

    def __gt__(self, other: object) -> bool:
        r = self._rank_of(other)
        return NotImplemented if r is None else self.rank > r

    def __ge__(self, other: object) -> bool:
        r = self._rank_of(other)
        return NotImplemented if r is None else self.rank >= r


_GRAIN_ORDER: tuple[Grain, ...] = (Grain.DAY, Grain.WEEK, Grain.MONTH, Grain.QUARTER)
_GRAIN_RANK = {g.value: i for i, g in enumerate(_GRAIN_ORDER)}
# Index -1 (invalid) picks the trailing None, so code arrays can be mapped with one take.
_GRAIN_NAMES = (*(g.value for g in _GRAIN_ORDER), None)


class PeriodError(ValueError):
    """A text that is not a valid period label; ``value`` is the offending text."""

    def __init__(self, value: object, message: str) -> None:
        super().__init__(message)
        self.value = value
        self.message = message


def _has_week_53(year: int) -> bool:
    # Dec 28 is always in the last ISO week of its year.
    return dt.date(year, 12, 28).isocalendar().week == 53


def _add_months(d: dt.date, months: int) -> dt.date:
    total = d.year * 12 + (d.month - 1) + months
    return dt.date(total // 12, total % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    """One period: its grain and its first day (Monday for weeks, the 1st for months)."""

    grain: Grain
    start: dt.date

    def __post_init__(self) -> None:
        grain = Grain(self.grain)
        start = self.start
        if isinstance(start, dt.datetime):
            start = start.date()
        if not isinstance(start, dt.date):
            raise TypeError(f"Period start must be a date, got {start!r}")
        aligned = {
            Grain.DAY: True,
            Grain.WEEK: start.weekday() == 0,
            Grain.MONTH: start.day == 1,
            Grain.QUARTER: start.day == 1 and start.month in (1, 4, 7, 10),
        }[grain]
        if not aligned:
            raise ValueError(f"{start.isoformat()} is not the first day of a {grain.value}")
        object.__setattr__(self, "grain", grain)
        object.__setattr__(self, "start", start)

    @property
    def label(self) -> str:
        """Canonical label, e.g. 2026-03-15, 2026-W11, 2026-03, 2026-Q1."""
        s = self.start
        if self.grain is Grain.DAY:
            return s.isoformat()
        if self.grain is Grain.WEEK:
            iso = s.isocalendar()
            return f"{iso.year:04d}-W{iso.week:02d}"
        if self.grain is Grain.MONTH:
            return f"{s.year:04d}-{s.month:02d}"
        return f"{s.year:04d}-Q{(s.month - 1) // 3 + 1}"

    @property
    def end(self) -> dt.date:
        """Last day of the period (inclusive)."""
        return self.shift(1).start - dt.timedelta(days=1)

    def shift(self, n: int) -> Period:
        """The period n steps later (earlier when n < 0) at the same grain."""
        if self.grain is Grain.DAY:
            return Period(self.grain, self.start + dt.timedelta(days=n))
        if self.grain is Grain.WEEK:
            return Period(self.grain, self.start + dt.timedelta(weeks=n))
        step = 1 if self.grain is Grain.MONTH else 3
        return Period(self.grain, _add_months(self.start, n * step))

    def next(self) -> Period:
        """The following period at the same grain."""
        return self.shift(1)

    def contains(self, day: dt.date) -> bool:
        """Whether the date falls inside this period."""
        return self.start <= day <= self.end

    @property
    def anchor(self) -> dt.date:
        """The day that places this period in coarser ones: a week's Thursday, else its first
        day."""
        return self.start + dt.timedelta(days=3) if self.grain is Grain.WEEK else self.start

    def containing(self, grain: Grain | str) -> Period:
        """The period of a coarser (or equal) grain containing this one (weeks: by Thursday)."""
        target = Grain(grain)
        if target < self.grain:
            raise ValueError(f"cannot map a {self.grain.value} to a finer {target.value}")
        return period_of(self.anchor, target)

    def __str__(self) -> str:
        return self.label


_HINT = "use 2026-03-15 (day), 2026-W11 (week), 2026-03 (month) or 2026-Q1 (quarter)"
# One pattern for the scalar and the vectorised parser, so that they cannot disagree.
_PATTERN = r"(?P<y>\d{4})-(?:(?P<m>\d{2})(?:-(?P<d>\d{2}))?|[Ww](?P<w>\d{2})|[Qq](?P<q>\d))"
# ASCII digits only: \d would also take "2026-1٠" (Arabic-Indic zero) as October.
_RE = re.compile(rf"^{_PATTERN}$", re.ASCII)


def parse_period(text: object) -> Period:
    """Parse one period label; raise PeriodError naming the value if it is not valid."""
    if not isinstance(text, str):
        raise PeriodError(text, f"{text!r} is not a period: {_HINT}")
    s = text.strip()
    if not s:
        raise PeriodError(text, "period is empty: " + _HINT)
    match = _RE.match(s)
    if match is None:
        raise PeriodError(text, f"'{s}' is not a period: {_HINT}")
    year = int(match["y"])

    def fail(reason: str) -> PeriodError:
        return PeriodError(text, f"'{s}' is not a period: {reason}")

    if not MIN_YEAR <= year <= MAX_YEAR:
        raise fail(f"year must be between {MIN_YEAR} and {MAX_YEAR}")
    if match["w"] is not None:
        week = int(match["w"])
        if not 1 <= week <= 53:
            raise fail("ISO week must be 01 to 53")
        if week == 53 and not _has_week_53(year):
            raise fail(f"{year} has only 52 ISO weeks")
        return Period(Grain.WEEK, dt.date.fromisocalendar(year, week, 1))
    if match["q"] is not None:
        quarter = int(match["q"])
        if not 1 <= quarter <= 4:
            raise fail("quarter must be Q1 to Q4")
        return Period(Grain.QUARTER, dt.date(year, 3 * quarter - 2, 1))
    month = int(match["m"])
    if not 1 <= month <= 12:
        raise fail("month must be 01 to 12")
    if match["d"] is None:
        return Period(Grain.MONTH, dt.date(year, month, 1))
    try:
        return Period(Grain.DAY, dt.date(year, month, int(match["d"])))
    except ValueError:
        raise fail("no such date") from None


def parse_period_array(labels: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Parse period labels vectorised: (grain rank int8, -1 if invalid; start datetime64[D])."""
    values = labels if isinstance(labels, np.ndarray) else list(labels)
    # object dtype: .str methods yield NaN for non-strings, which then fail to match.
    text = pd.Series(np.asarray(values, dtype=object), dtype=object).str.strip()
    n = len(text)
    parts = text.str.extract(rf"^{_PATTERN}$")

    def num(col: str) -> tuple[np.ndarray, np.ndarray]:
        digits = pd.to_numeric(parts[col], errors="coerce")
        present = digits.notna().to_numpy().copy()
        return digits.fillna(1).to_numpy(np.int64, copy=True), present

    year, ok = num("y")
    month, has_m = num("m")
    day, has_d = num("d")
    week, has_w = num("w")
    quarter, has_q = num("q")
    ok &= (year >= MIN_YEAR) & (year <= MAX_YEAR)
    year = np.where(ok, year, 2000)  # keep the date arithmetic below in range for bad rows

    grain = np.full(n, -1, dtype=np.int8)
    start = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")

    # Months and days.
    is_md = ok & has_m & (month >= 1) & (month <= 12)
    m0 = (year - 1970) * 12 + np.where(is_md, month, 1) - 1
    month_start = m0.astype("datetime64[M]").astype("datetime64[D]")
    next_month = (m0 + 1).astype("datetime64[M]").astype("datetime64[D]")
    days_in_month = (next_month - month_start).astype(np.int64)
    is_month = is_md & ~has_d
    is_day = is_md & has_d & (day >= 1) & (day <= days_in_month)
    grain[is_month] = Grain.MONTH.rank
    start[is_month] = month_start[is_month]
    grain[is_day] = Grain.DAY.rank
    start[is_day] = (month_start + (day - 1))[is_day]

    # Quarters.
    is_q = ok & has_q & (quarter >= 1) & (quarter <= 4)
    q0 = (year - 1970) * 12 + (np.where(is_q, quarter, 1) - 1) * 3
    grain[is_q] = Grain.QUARTER.rank
    start[is_q] = q0.astype("datetime64[M]").astype("datetime64[D]")[is_q]

    # ISO weeks: week 1 is the week containing January 4th.
    jan4 = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + 3
    weekday = (jan4.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    w_start = jan4 - weekday + (np.where(has_w, week, 1) - 1) * 7
    thursday_year = (w_start + 3).astype("datetime64[Y]").astype(np.int64) + 1970
    is_w = ok & has_w & (week >= 1) & (thursday_year == year)
    grain[is_w] = Grain.WEEK.rank
    start[is_w] = w_start[is_w]
    return grain, start


def parse_periods(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse a column of labels: (grain str, start datetime64[ns], bad_mask), same index."""
    # Periods repeat a lot: parse each distinct label once, then broadcast by code.
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    g_u, s_u = parse_period_array(np.asarray(uniques, dtype=object))
    # A trailing sentinel entry lets code -1 (missing value) map to "invalid".
    g_u = np.append(g_u, np.int8(-1))
    s_u = np.append(s_u, np.datetime64("NaT", "D"))
    g = g_u[codes]
    index = series.index
    grain = pd.Series(np.array(_GRAIN_NAMES, dtype=object)[g], index=index, name="grain")
    start = pd.Series(s_u[codes].astype("datetime64[ns]"), index=index, name="start")
    bad = pd.Series(g < 0, index=index, name="bad")
    return grain, start, bad


def period_of(day: dt.date, grain: Grain | str) -> Period:
    """The period of the given grain that contains a date."""
    g = Grain(grain)
    if isinstance(day, dt.datetime):
        day = day.date()
    if g is Grain.DAY:
        return Period(g, day)
    if g is Grain.WEEK:
        return Period(g, day - dt.timedelta(days=day.weekday()))
    if g is Grain.MONTH:
        return Period(g, day.replace(day=1))
    return Period(g, dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1))


def quarter_of(day: dt.date) -> Period:
    """The calendar quarter containing a date."""
    return period_of(day, Grain.QUARTER)


def current_quarter(today: dt.date | None = None) -> Period:
    """The quarter containing today (or the given date)."""
    return quarter_of(today or dt.date.today())


def periods_between(first: Period, last: Period) -> list[Period]:
    """All periods from first to last inclusive (same grain; empty if last < first)."""
    if first.grain != last.grain:
        raise ValueError(f"{first.label} and {last.label} have different grains")
    out: list[Period] = []
    p = first
    while p.start <= last.start:
        out.append(p)
        p = p.next()
    return out


def _as_day_array(start_dates: Any) -> np.ndarray:
    values = pd.to_datetime(
        pd.Series(start_dates) if not isinstance(start_dates, pd.Series) else start_dates
    )
    return values.to_numpy().astype("datetime64[D]")


def to_grain(start_dates: Any, from_grain: Grain | str, to_grain: Grain | str) -> pd.Series:
    """Map period starts to the start of the containing coarser period (weeks by Thursday)."""
    src, dst = Grain(from_grain), Grain(to_grain)
    if dst < src:
        raise ValueError(f"cannot map {src.value} periods to a finer {dst.value}")
    days = _as_day_array(start_dates)
    if src is Grain.WEEK and dst is not Grain.WEEK:
        # A week belongs where its Thursday is (ISO-year convention, see module docstring).
        days = days + 3
    if dst is Grain.WEEK:
        days = days - (days.astype(np.int64) + 3) % 7
    elif dst is Grain.MONTH:
        days = days.astype("datetime64[M]").astype("datetime64[D]")
    elif dst is Grain.QUARTER:
        months = days.astype("datetime64[M]").astype(np.int64)
        # Month 0 is January 1970, so quarters start at multiples of 3.
        days = (months - months % 3).astype("datetime64[M]").astype("datetime64[D]")
    index = start_dates.index if isinstance(start_dates, pd.Series) else None
    return pd.Series(days.astype("datetime64[ns]"), index=index, name="start")


# rollup's parameter shadows the public function name inside its body.
_to_grain = to_grain


def rollup(df: pd.DataFrame, to_grain: Grain | str, how: str | Mapping[str, str]) -> pd.DataFrame:
    """Roll observations (rep, metric, grain, start, value) up to month or quarter.

    ``how`` is "sum", "mean" or "last" (value of the latest finer period), or a mapping
    metric -> how. Returns rep, metric, grain, start, value and n (number of finer periods),
    one row per (rep, metric, coarser period), sorted by those keys. Where grains mix within
    one coarser period, only the coarsest grain there counts (see ``_coarsest_only``).
    """
    target = _rollup_target(df, to_grain)
    columns = ["rep", "metric", "grain", "start", "value", "n"]
    if df.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=df[c].dtype if c in df else "int64") for c in columns}
        )
    work, keys = _targets(df, target)
    hows = _resolve_how(work["metric"], how)
    parts = []
    for h in pd.unique(hows):
        part = work[(hows == h).to_numpy()]
        grouped = part.groupby(keys, sort=False)
        if h == "last":
            latest = part.sort_values("_start", kind="stable").drop_duplicates(keys, keep="last")
            value = latest.set_index(keys)["value"]
        elif h == "sum":
            value = grouped["value"].sum(min_count=1)
        else:
            value = grouped["value"].mean()
        out = value.to_frame("value")
        out["n"] = grouped.size()
        parts.append(out.reset_index())
    result = pd.concat(parts, ignore_index=True).rename(columns={"_target": "start"})
    result["grain"] = target.value
    result["n"] = result["n"].astype(np.int64)
    result = result.sort_values(["rep", "metric", "start"], kind="stable", ignore_index=True)
    return result[columns]


ROLLUP_ALL_COLUMNS = ["rep", "metric", "grain", "start", "sum", "mean", "last", "n"]


def rollup_all(df: pd.DataFrame, to_grain: Grain | str) -> pd.DataFrame:
    """``rollup`` under every rule at once: rep, metric, grain, start, sum, mean, last, n.

    One pass instead of three, for the stored roll-up table, which keeps each rule's value so
    that a metric's rule (or a cycle's frozen one) can be read without recomputing anything.
    """
    target = _rollup_target(df, to_grain)
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            ROLLUP_ALL_COLUMNS, ["int64", "int64", object, "datetime64[ns]", "float64",
                                 "float64", "float64", "int64"], strict=True)})
    work, keys = _targets(df, target)
    grouped = work.groupby(keys, sort=False)
    out = pd.DataFrame({"sum": grouped["value"].sum(min_count=1),
                        "mean": grouped["value"].mean(), "n": grouped.size()})
    latest = work.sort_values("_start", kind="stable").drop_duplicates(keys, keep="last")
    out["last"] = latest.set_index(keys)["value"]
    result = out.reset_index().rename(columns={"_target": "start"})
    result["grain"] = target.value
    result["n"] = result["n"].astype(np.int64)
    result = result.sort_values(["rep", "metric", "start"], kind="stable", ignore_index=True)
    return result[ROLLUP_ALL_COLUMNS]


def _rollup_target(df: pd.DataFrame, to_grain: Grain | str) -> Grain:
    target = Grain(to_grain)
    if target not in (Grain.MONTH, Grain.QUARTER):
        raise ValueError(f"can only roll up to month or quarter, not {target.value}")
    missing = {"rep", "metric", "grain", "start", "value"} - set(df.columns)
    if missing:
        raise ValueError(f"rollup needs columns {sorted(missing)}")
    return target


def _targets(df: pd.DataFrame, target: Grain) -> tuple[pd.DataFrame, list[str]]:
    """rep, metric, value, _start and _target (the containing period) of each row that counts,
    and the group keys; refuses grains coarser than the target."""
    work = df[["rep", "metric", "value"]].copy()
    work["_start"] = pd.to_datetime(df["start"]).astype("datetime64[ns]")
    work["_target"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    grains = df["grain"].astype(object)
    present = pd.unique(grains)
    for name in present:
        try:
            g = Grain(name)
        except ValueError:
            raise ValueError(f"unknown grain {name!r} in data") from None
        if g > target:
            raise ValueError(
                f"cannot roll {g.value} data up to {target.value}: target is finer than the data"
            )
        rows = (grains == name).to_numpy()
        work.loc[rows, "_target"] = _to_grain(work.loc[rows, "_start"], g, target).to_numpy()

    keys = ["rep", "metric", "_target"]
    if len(present) > 1:
        work = _coarsest_only(work, grains, keys)
    return work, keys


def _coarsest_only(work: pd.DataFrame, grains: pd.Series, keys: list[str]) -> pd.DataFrame:
    """Keep, in each (rep, metric, target period), only the values at the coarsest grain there.

    The import refuses a second grain for a metric, but older data may still mix them. A
    coarser value already covers the finer periods inside it: adding them as well would count
    them twice (sum) or weigh them wrongly (mean, last). Refusing would take a whole page down
    for one stray row; so the fuller, coarser figure is kept and the finer ones are ignored.
    """
    rank = grains.map(_GRAIN_RANK).to_numpy()
    coarsest = pd.Series(rank, index=work.index).groupby(
        [work[k] for k in keys], sort=False).transform("max").to_numpy()
    return work[rank == coarsest]


def _resolve_how(metrics: pd.Series, how: str | Mapping[str, str]) -> pd.Series:
    if isinstance(how, str):
        if how not in ROLLUP_HOW:
            raise ValueError(f"how must be one of {ROLLUP_HOW}, got {how!r}")
        return pd.Series(how, index=metrics.index, dtype=object)
    mapped = metrics.map(dict(how)).astype(object)
    unmapped = mapped.isna()
    if unmapped.any():
        raise ValueError(f"no roll-up rule for metric {metrics[unmapped].iloc[0]!r}")
    bad = set(pd.unique(mapped)) - set(ROLLUP_HOW)
    if bad:
        raise ValueError(f"how must be one of {ROLLUP_HOW}, got {sorted(bad)!r}")
    return mapped
