"""Rep x period panels: preparation (lag, complete rows, codes), group means, fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csc_matrix

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


def _previous_row_is_previous_period(rep_codes: np.ndarray, period_codes: np.ndarray) -> np.ndarray:
    """For rows sorted by rep then period: is the row before the same rep, one period earlier?"""
    ok = np.zeros(rep_codes.shape[0], dtype=bool)
    ok[1:] = (rep_codes[1:] == rep_codes[:-1]) & (period_codes[1:] == period_codes[:-1] + 1)
    return ok


def _shift_down(values: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Row i takes row i-1's values where `ok`, NaN elsewhere."""
    out = np.full(values.shape, np.nan)
    out[1:][ok[1:]] = values[:-1][ok[1:]]
    return out


def lag_within(
    panel: pd.DataFrame,
    columns: Sequence[str],
    rep_col: str = REP,
    period_col: str = PERIOD,
) -> pd.DataFrame:
    """Replace `columns` by their value in the previous period of the same rep.

    "Previous" is the previous distinct period of the whole panel, not the previous row of the
    rep: if a rep has no row for the previous period its lagged value is missing rather than
    silently taken from an older period. The first period of every rep therefore drops out.
    """
    out = panel.sort_values([rep_col, period_col], kind="mergesort").reset_index(drop=True)
    rep_codes = pd.factorize(out[rep_col], sort=True)[0]
    period_codes = pd.factorize(out[period_col], sort=True)[0]
    ok = _previous_row_is_previous_period(rep_codes, period_codes)
    cols = list(columns)
    out[cols] = _shift_down(out[cols].to_numpy(dtype=float), ok)
    return out


@dataclass(frozen=True)
class PreparedPanel:
    """Complete-case model data as arrays, with codes built AFTER dropping incomplete rows."""

    y: np.ndarray  # n
    x: np.ndarray  # n x k, candidate columns in the given order (lagged if asked)
    rep_codes: np.ndarray  # n, 0..n_reps-1, rows sorted by rep then period
    period_codes: np.ndarray  # n, 0..n_periods-1 in period order
    reps: np.ndarray  # labels, index = rep code
    periods: np.ndarray  # labels, index = period code
    candidates: tuple[str, ...]

    @property
    def n_obs(self) -> int:
        """Number of complete observations."""
        return int(self.y.shape[0])

    @property
    def n_reps(self) -> int:
        """Number of reps with at least one complete observation."""
        return int(self.reps.shape[0])

    @property
    def n_periods(self) -> int:
        """Number of periods with at least one complete observation."""
        return int(self.periods.shape[0])


def prepare_panel(
    panel: pd.DataFrame,
    outcome: str,
    candidates: Sequence[str],
    lag: int = 0,
    rep_col: str = REP,
    period_col: str = PERIOD,
) -> PreparedPanel:
    """Lag (optional), drop incomplete rows, then build rep and period codes."""
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
    order = np.lexsort((period_all, rep_all))
    rep_sorted, period_sorted = rep_all[order], period_all[order]
    values = panel[cols].to_numpy(dtype=float)[order]
    if lag:
        ok = _previous_row_is_previous_period(rep_sorted, period_sorted)
        values[:, 1:] = _shift_down(values[:, 1:], ok)
    complete = np.isfinite(values).all(axis=1)
    values = values[complete]
    # Codes come from the complete rows only: a rep with no complete row must not count as a
    # cluster (it would inflate G in the small-sample correction and the t df).
    used_reps, rep_codes = np.unique(rep_sorted[complete], return_inverse=True)
    used_periods, period_codes = np.unique(period_sorted[complete], return_inverse=True)
    # Object arrays keep labels as Python/pandas scalars (int, str, Timestamp, Period).
    reps = rep_labels[used_reps].to_numpy(dtype=object)
    periods = period_labels[used_periods].to_numpy(dtype=object)
    return PreparedPanel(
        y=values[:, 0].copy(),
        x=np.ascontiguousarray(values[:, 1:]),
        rep_codes=rep_codes.astype(np.intp),
        period_codes=period_codes.astype(np.intp),
        reps=reps,
        periods=periods,
        candidates=tuple(candidates),
    )


def fingerprint(panel: pd.DataFrame, rep_col: str = REP, period_col: str = PERIOD) -> str:
    """SHA-256 hex of the panel, independent of row and column order."""
    cols = sorted(panel.columns, key=str)
    frame = panel[cols].sort_values([rep_col, period_col], kind="mergesort")
    # %.17g round-trips every double, so equal data give equal text and any change shows;
    # ints and integral floats print alike, so a dtype change alone does not alter the hash.
    text = frame.to_csv(index=False, float_format="%.17g", na_rep="NA", lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
