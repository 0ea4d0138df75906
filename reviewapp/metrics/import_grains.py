"""One grain per metric: an import check of ``import_checks``.

All of a metric's values are days, or weeks, or months, or quarters: a quarter next to a week of
the same metric cannot be rolled up or compared without counting something twice. The grain a
metric must have is the one already stored for it; for a metric with nothing stored yet, the one
most of the file uses (ties go to the one seen first), so that the odd lines are the ones named.
Pure numpy/pandas.
"""

from __future__ import annotations

from collections.abc import Sequence

from reviewapp.lazy import np, pd
from reviewapp.metrics.import_errors import ErrorCollector, ImportProblem
from reviewapp.metrics.periods import Grain

__all__ = ["ONE_GRAIN", "flag_mixed_grains", "grain_rank"]

ONE_GRAIN = "Send all of one metric's values at one grain."
_NAMES = [g.value for g in sorted(Grain, key=lambda g: g.rank)]
_N_GRAINS = len(_NAMES)


def grain_rank(grain: str | None) -> int:
    """Rank of a grain name (day 0 ... quarter 3), -1 for None."""
    return -1 if grain is None else Grain(grain).rank


def _expected(pair: np.ndarray, stored: np.ndarray) -> np.ndarray:
    """The grain rank each catalogue metric must have: stored, else the file's usual one."""
    expected = stored.copy()
    counts = np.bincount(pair, minlength=len(stored) * _N_GRAINS)
    _, seen = pd.factorize(pair)  # in order of first appearance: the tie-break
    for p in seen.tolist():
        metric, grain = divmod(p, _N_GRAINS)
        if stored[metric] >= 0:
            continue
        best = expected[metric]
        # Strictly more values, so that on a tie the grain seen first stays.
        if best < 0 or counts[p] > counts[metric * _N_GRAINS + best]:
            expected[metric] = grain
    return expected


def flag_mixed_grains(
    entry_metric: np.ndarray,
    entry_row: np.ndarray,
    row_grain: np.ndarray,
    row_lines: np.ndarray,
    row_labels: np.ndarray,
    stored: np.ndarray,
    names: Sequence[str],
    column: tuple[int, str],
    errors: ErrorCollector,
) -> np.ndarray:
    """Report every entry at another grain than its metric's; return the mask of those entries.

    ``entry_metric`` is the catalogue position (-1 unknown) and ``entry_row`` the frame row of
    each entry; ``row_grain`` the grain rank per row (-1 for a bad period, reported elsewhere);
    ``stored`` the stored grain rank per catalogue metric (-1 nothing stored; with the trailing
    sentinel); ``column`` the period column's (index, header).
    """
    mixed = np.zeros(len(entry_metric), dtype=bool)
    grain = row_grain[entry_row] if len(entry_row) else np.empty(0, dtype=np.int8)
    considered = np.flatnonzero((entry_metric >= 0) & (grain >= 0))
    if not len(considered):
        return mixed
    pair = entry_metric[considered].astype(np.int64) * _N_GRAINS + grain[considered]
    expected = _expected(pair, np.asarray(stored, dtype=np.int64))
    bad = considered[grain[considered] != expected[entry_metric[considered]]]
    if not len(bad):
        return mixed
    mixed[bad] = True
    first_line: dict[int, int] = {}
    for metric in np.unique(entry_metric[bad]).tolist():
        if stored[metric] < 0:  # name where the file's own grain for the metric starts
            at = considered[np.argmax(pair == metric * _N_GRAINS + expected[metric])]
            first_line[metric] = int(row_lines[entry_row[at]])

    def build(pos: np.ndarray) -> list[ImportProblem]:
        out = []
        for e in bad[pos]:
            metric, row = int(entry_metric[e]), entry_row[e]
            label = str(row_labels[row])
            want = _NAMES[expected[metric]]
            if metric in first_line:
                where = (f"is given by {want} elsewhere in this file "
                         f"(first on line {first_line[metric]})")
            else:
                where = f"is stored by {want}"
            message = (f"{names[metric]} {where}; {label.strip()} is a "
                       f"{_NAMES[grain[e]]}. {ONE_GRAIN}")
            out.append(ImportProblem(int(row_lines[row]), column[1], label, message))
        return out

    errors.add(row_lines[entry_row[bad]], column[0], build)
    return mixed
