"""Import errors: the reported type, a bounded sorted collector, and the CSV download.

Shared by parsing (file-level problems) and import_checks (cell-level problems). Pure Python/numpy.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from reviewapp.exports import safe_text
from reviewapp.lazy import np

__all__ = ["MAX_ERRORS_SHOWN", "ErrorCollector", "ImportProblem", "cell_errors", "errors_to_csv"]

MAX_ERRORS_SHOWN = 200


@dataclass(frozen=True)
class ImportProblem:
    """One problem in an import: where (line, column), the offending value and what is wrong."""

    line: int | None
    column: str | None
    value: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the JSON API."""
        return asdict(self)


class ErrorCollector:
    """Collects errors as (lines, builder) batches and builds only the first N, sorted."""

    def __init__(self) -> None:
        self._batches: list[tuple[np.ndarray, int, Callable[[np.ndarray], list[ImportProblem]]]]
        self._batches = []

    def add(
        self, lines: np.ndarray, rank: int, build: Callable[[np.ndarray], list[ImportProblem]]
    ) -> None:
        """Queue errors at these lines; ``build(positions)`` makes the ones finally shown."""
        if len(lines):
            self._batches.append((np.asarray(lines, dtype=np.int64), rank, build))

    def one(self, error: ImportProblem, rank: int = -1) -> None:
        """Queue a single ready-made error (header and file-level problems)."""
        line = -1 if error.line is None else error.line
        self.add(np.array([line]), rank, lambda pos: [error])

    def __len__(self) -> int:
        return sum(len(b[0]) for b in self._batches)

    def finish(self, limit: int | None) -> tuple[list[ImportProblem], int]:
        """Build the first ``limit`` errors by (line, column); return them and the total."""
        total = len(self)
        if not total:
            return [], 0
        lines = np.concatenate([b[0] for b in self._batches])
        ranks = np.concatenate([np.full(len(b[0]), b[1]) for b in self._batches])
        batch = np.concatenate([np.full(len(b[0]), i) for i, b in enumerate(self._batches)])
        pos = np.concatenate([np.arange(len(b[0])) for b in self._batches])
        order = np.lexsort((pos, batch, ranks, lines))  # by line, then column, then arrival
        if limit is not None:
            order = order[:limit]
        out: list[ImportProblem | None] = [None] * len(order)
        chosen_batch, chosen_pos = batch[order], pos[order]
        for b in np.unique(chosen_batch):
            slots = np.flatnonzero(chosen_batch == b)
            for slot, err in zip(slots, self._batches[b][2](chosen_pos[slots]), strict=True):
                out[slot] = err
        return [e for e in out if e is not None], total


def cell_errors(
    rows: np.ndarray,
    lines: np.ndarray,
    cells: np.ndarray,
    column: str | None,
    message: Callable[[str], str],
) -> Callable[[np.ndarray], list[ImportProblem]]:
    """Builder for errors on the given frame rows of one column (built lazily, bounded)."""

    def build(pos: np.ndarray) -> list[ImportProblem]:
        out = []
        for r in rows[pos]:
            value = str(cells[r])
            out.append(ImportProblem(int(lines[r]), column, value, message(value)))
        return out

    return build


# The error report is likely to be opened in a spreadsheet, and the values come from an
# untrusted upload: every text cell is neutralised (see reviewapp/exports.py).
_safe_cell = safe_text


def errors_to_csv(errors: Iterable[ImportProblem]) -> str:
    """Render errors as CSV (line, column, value, message) for download."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["line", "column", "value", "message"])
    for e in errors:
        writer.writerow(
            [
                "" if e.line is None else e.line,
                _safe_cell(e.column),
                _safe_cell(e.value),
                _safe_cell(e.message),
            ]
        )
    return out.getvalue()
