"""Rep x period panels: preparation (calendar lag and lead, complete rows, reps seen twice,
codes), group means, two-way absorption, fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from reviewapp.lazy import np, pd

REP = "rep"
PERIOD = "period"


def group_sums(codes: np.ndarray, matrix: np.ndarray, n_groups: int | None = None) -> np.ndarray:
    """Sum the rows of `matrix` (n or n x m) per integer group code (0..G-1)."""
    codes = np.asarray(codes, dtype=np.intp)
    g = int(codes.max()) + 1 if n_groups is None else n_groups
    m = np.asarray(matrix, dtype=float)
    if m.ndim == 1:
        return np.bincount(codes, weights=m, minlength=g)
    # A sparse G x n indicator (built in O(n), one entry per column) times the matrix sums all
    # columns in one pass: several times faster than a bincount per column or groupby.
    from scipy.sparse import csc_matrix  # ~0.2 s to import: only the analysis needs it

    n = codes.shape[0]
    indicator = csc_matrix((np.ones(n), codes, np.arange(n + 1)), shape=(g, n))
    return np.asarray(indicator @ m)


def group_means(codes: np.ndarray, matrix: np.ndarray, n_groups: int | None = None) -> np.ndarray:
    """Mean of the rows of `matrix` per group code; empty groups give NaN."""
    codes = np.asarray(codes, dtype=np.intp)
    g = int(codes.max()) + 1 if n_groups is None else n_groups
    counts = np.bincount(codes, minlength=g).astype(float)
    sums = group_sums(codes, matrix, g)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts if sums.ndim == 1 else sums / counts[:, None]


def demean_by(codes: np.ndarray, matrix: np.ndarray, n_groups: int | None = None) -> np.ndarray:
    """Subtract each group's mean from its rows (the within transformation)."""
    return np.asarray(matrix, dtype=float) - group_means(codes, matrix, n_groups)[codes]


@dataclass(frozen=True)
class TwoWay:
    """Result of absorbing rep (and optionally period) effects from the columns of a matrix."""

    resid: np.ndarray  # n x m, orthogonal to the rep (and period) dummies
    rep_effects: np.ndarray  # G x m; resid = M - rep_effects[rep] - period part
    iterations: int


def absorb(
    matrix: np.ndarray,
    rep_codes: np.ndarray,
    n_reps: int,
    period_codes: np.ndarray | None = None,
    n_periods: int = 0,
    tol: float = 1e-13,
    max_iter: int = 10_000,
) -> TwoWay:
    """Partial rep effects, and period effects if given, out of every column of `matrix`.

    Two-way uses alternating projections (exact after one sweep in a balanced panel); this
    equals residualising on rep and period dummies, without building n x T dummy matrices.
    The rep effects are accumulated so predictions can use them (they are linear in the
    input, which lets one call serve every sub-model of the out-of-sample check).
    """
    m = np.asarray(matrix, dtype=float)
    m2 = m[:, None] if m.ndim == 1 else m
    rep_effects = group_means(rep_codes, m2, n_reps)
    resid = m2 - rep_effects[rep_codes]
    iterations = 0
    if period_codes is not None:
        # Tolerance relative to the raw column size: a column the rep effects absorb entirely
        # leaves only rounding noise, which must count as converged.
        limit = tol * np.maximum(np.abs(m2).max(axis=0, initial=0.0), np.finfo(float).tiny)
        converged = False
        while not converged and iterations < max_iter:
            iterations += 1
            resid -= group_means(period_codes, resid, n_periods)[period_codes]
            step = group_means(rep_codes, resid, n_reps)
            resid -= step[rep_codes]
            rep_effects += step
            converged = bool(np.all(np.abs(step).max(axis=0) <= limit))
    if m.ndim == 1:
        return TwoWay(resid[:, 0], rep_effects[:, 0], iterations)
    return TwoWay(resid, rep_effects, iterations)


GRAIN_FREQ = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def calendar_index(labels: pd.Index | np.ndarray, grain: str = "period") -> np.ndarray:
    """Integer position of each period label on the calendar: consecutive periods differ by 1.

    A lag or a lead must use the previous or next *calendar* period, so a quarter missing for
    every rep leaves a gap here rather than making two distant quarters look adjacent.
    pd.Period labels use their ordinal; integers are taken as they are; dates use the grain
    (month, quarter, ...), or, for an unnamed grain, the step that first-of-month dates share
    (the greatest common divisor of their gaps in months: 3 for quarter starts).
    """
    values = pd.Index(labels)
    if isinstance(values, pd.PeriodIndex):
        return np.asarray(values.asi8, dtype=np.int64)
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.to_numpy(dtype=np.int64)
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(values))
    except (TypeError, ValueError) as exc:
        raise ValueError("period labels must be periods, integers or dates") from exc
    freq = GRAIN_FREQ.get(grain)
    if freq is not None:
        return np.asarray(stamps.to_period(freq).asi8, dtype=np.int64)
    if len(stamps) and bool((stamps.day == 1).all()):
        months = np.asarray(stamps.year * 12 + stamps.month - 1, dtype=np.int64)
        step = int(np.gcd.reduce(np.diff(np.unique(months)))) if len(np.unique(months)) > 1 else 1
        return (months - months.min()) // max(step, 1)
    days = np.asarray(stamps.asi8 // 86_400_000_000_000, dtype=np.int64)
    step = int(np.gcd.reduce(np.diff(np.unique(days)))) if len(np.unique(days)) > 1 else 1
    return (days - days.min()) // max(step, 1)


def _neighbour_is_adjacent(rep_codes: np.ndarray, calendar: np.ndarray, step: int) -> np.ndarray:
    """For rows sorted by rep then calendar: is the row `step` (-1 before, +1 after) the same
    rep exactly one calendar period away?"""
    n = rep_codes.shape[0]
    ok = np.zeros(n, dtype=bool)
    if step < 0:
        ok[1:] = (rep_codes[1:] == rep_codes[:-1]) & (calendar[1:] == calendar[:-1] + 1)
    else:
        ok[:-1] = (rep_codes[:-1] == rep_codes[1:]) & (calendar[:-1] == calendar[1:] - 1)
    return ok


def _shift(values: np.ndarray, ok: np.ndarray, step: int) -> np.ndarray:
    """Row i takes row i+step's values where `ok`, NaN elsewhere (step is -1 or +1)."""
    out = np.full(values.shape, np.nan)
    if step < 0:
        out[1:][ok[1:]] = values[:-1][ok[1:]]
    else:
        out[:-1][ok[:-1]] = values[1:][ok[:-1]]
    return out


def lag_within(
    panel: pd.DataFrame,
    columns: Sequence[str],
    rep_col: str = REP,
    period_col: str = PERIOD,
    grain: str = "period",
) -> pd.DataFrame:
    """Replace `columns` by their value in the previous calendar period of the same rep.

    If the rep has no row for that period (or nobody has), the lagged value is missing rather
    than taken from an older period. The first period of every rep therefore drops out.
    """
    out = panel.sort_values([rep_col, period_col], kind="mergesort").reset_index(drop=True)
    rep_codes = pd.factorize(out[rep_col], sort=True)[0]
    calendar = calendar_index(pd.Index(out[period_col]), grain)
    ok = _neighbour_is_adjacent(rep_codes, calendar, -1)
    cols = list(columns)
    out[cols] = _shift(out[cols].to_numpy(dtype=float), ok, -1)
    return out


@dataclass(frozen=True)
class PreparedPanel:
    """Model data as arrays: complete rows of reps seen at least twice, codes built after."""

    y: np.ndarray  # n
    x: np.ndarray  # n x k (or n x 2k with leads: the model's columns, then their leads)
    rep_codes: np.ndarray  # n, 0..n_reps-1, rows sorted by rep then period
    period_codes: np.ndarray  # n, 0..n_periods-1 in period order
    calendar: np.ndarray  # n, calendar index of each row's period
    reps: np.ndarray  # labels, index = rep code
    periods: np.ndarray  # labels, index = period code
    candidates: tuple[str, ...]
    n_reps_once: int = 0  # reps with exactly one complete period, left out

    @property
    def n_obs(self) -> int:
        """Number of complete observations used."""
        return int(self.y.shape[0])

    @property
    def n_reps(self) -> int:
        """Number of reps used (at least two complete periods each)."""
        return int(self.reps.shape[0])

    @property
    def n_periods(self) -> int:
        """Number of periods with at least one observation used."""
        return int(self.periods.shape[0])

    def periods_per_rep(self) -> np.ndarray:
        """Complete periods of each rep (by rep code)."""
        return np.bincount(self.rep_codes, minlength=self.n_reps)


def prepare_panel(
    panel: pd.DataFrame,
    outcome: str,
    candidates: Sequence[str],
    lag: int = 0,
    rep_col: str = REP,
    period_col: str = PERIOD,
    *,
    grain: str = "period",
    leads: bool = False,
    min_periods_per_rep: int = 2,
) -> PreparedPanel:
    """Lag (calendar-correct), optionally add leads, drop incomplete rows and reps seen once.

    A rep with a single complete period carries no within-rep information: its own effect
    absorbs it entirely. Counting it would still add a cluster (inflating the small-sample
    correction and the t df) and pass the minimum-reps guard on reps who say nothing.
    """
    cols = [outcome, *candidates]
    missing = [c for c in [rep_col, period_col, *cols] if c not in panel.columns]
    if missing:
        raise ValueError(f"panel lacks columns: {', '.join(missing)}")
    if len(set(cols)) != len(cols):
        raise ValueError("outcome and candidates must be distinct columns")
    if lag not in (0, 1):
        raise ValueError("lag must be 0 or 1")
    # Factorise labels once and work on integer codes: sorting and duplicate checks on codes
    # are much cheaper than on string or date columns.
    rep_all, rep_labels = pd.factorize(panel[rep_col], sort=True)
    period_all, period_labels = pd.factorize(panel[period_col], sort=True)
    if (rep_all < 0).any() or (period_all < 0).any():
        raise ValueError("panel has rows without rep or period")
    cell = rep_all.astype(np.int64) * len(period_labels) + period_all
    if np.unique(cell).shape[0] != cell.shape[0]:
        raise ValueError("panel has more than one row for some (rep, period)")
    label_calendar = calendar_index(period_labels, grain)
    order = np.lexsort((period_all, rep_all))
    rep_sorted, period_sorted = rep_all[order], period_all[order]
    calendar_sorted = label_calendar[period_sorted]
    values = panel[cols].to_numpy(dtype=float)[order]
    raw_x = values[:, 1:].copy()
    if lag:
        ok = _neighbour_is_adjacent(rep_sorted, calendar_sorted, -1)
        values[:, 1:] = _shift(raw_x, ok, -1)
    if leads:
        ok = _neighbour_is_adjacent(rep_sorted, calendar_sorted, +1)
        values = np.column_stack([values, _shift(raw_x, ok, +1)])
    complete = np.isfinite(values).all(axis=1)
    per_rep = np.bincount(rep_sorted[complete], minlength=len(rep_labels))
    n_once = int(np.sum(per_rep == 1))
    keep = complete & (per_rep[rep_sorted] >= min_periods_per_rep)
    values = values[keep]
    # Codes come from the rows kept only: a rep with no usable row must not count as a
    # cluster (it would inflate G in the small-sample correction and the t df).
    used_reps, rep_codes = np.unique(rep_sorted[keep], return_inverse=True)
    used_periods, period_codes = np.unique(period_sorted[keep], return_inverse=True)
    # Object arrays keep labels as Python/pandas scalars (int, str, Timestamp, Period).
    reps = rep_labels[used_reps].to_numpy(dtype=object)
    periods = period_labels[used_periods].to_numpy(dtype=object)
    return PreparedPanel(
        y=values[:, 0].copy(),
        x=np.ascontiguousarray(values[:, 1:]),
        rep_codes=rep_codes.astype(np.intp),
        period_codes=period_codes.astype(np.intp),
        calendar=calendar_sorted[keep],
        reps=reps,
        periods=periods,
        candidates=tuple(candidates),
        n_reps_once=n_once,
    )


def fingerprint(panel: pd.DataFrame, rep_col: str = REP, period_col: str = PERIOD) -> str:
    """SHA-256 hex of the panel, independent of row and column order."""
    cols = sorted(panel.columns, key=str)
    frame = panel[cols].sort_values([rep_col, period_col], kind="mergesort")
    # %.17g round-trips every double, so equal data give equal text and any change shows;
    # ints and integral floats print alike, so a dtype change alone does not alter the hash.
    text = frame.to_csv(index=False, float_format="%.17g", na_rep="NA", lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
