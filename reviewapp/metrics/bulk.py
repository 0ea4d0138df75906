"""Bulk writes of observations through the database driver's fast path.

The ORM would spend minutes on a million rows; sqlite3's executemany and PostgreSQL's COPY take
seconds. Both run on the session's own connection, so they share its transaction: the import
still commits once, or not at all.
"""

from __future__ import annotations

import io

import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.lazy import np, pd

OBSERVATION_COLUMNS = ("rep_id", "metric_id", "grain", "period_start", "value", "batch_id")


def iso_dates(values: pd.Series) -> np.ndarray:
    """'YYYY-MM-DD' strings for a column of dates, converting each distinct date once."""
    codes, uniques = pd.factorize(values)
    labels = np.array([pd.Timestamp(u).strftime("%Y-%m-%d") for u in uniques] + [""],
                      dtype=object)
    return labels[codes]


def _driver_connection(connection: sa.Connection | None = None):
    connection = connection if connection is not None else db.session.connection()
    return connection.dialect.name, connection.connection.driver_connection


def insert_rows(table: str, columns: tuple[str, ...], frame: pd.DataFrame,
                connection: sa.Connection | None = None) -> None:
    """Insert the frame's columns (in order) into table, in the session's transaction (or on
    the connection given, as a migration does)."""
    if frame.empty:
        return
    dialect, raw = _driver_connection(connection)
    if dialect == "postgresql":
        buffer = io.StringIO()
        frame.loc[:, list(columns)].to_csv(buffer, header=False, index=False, na_rep="")
        buffer.seek(0)
        with raw.cursor() as cursor:
            with cursor.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
            ) as copy:
                while chunk := buffer.read(1 << 20):
                    copy.write(chunk)
        return
    placeholders = ", ".join("?" for _ in columns)
    rows = zip(*(_python_values(frame[c]) for c in columns), strict=True)
    cursor = raw.cursor()
    try:
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows
        )
    finally:
        cursor.close()


def _python_values(column: pd.Series) -> list:
    # sqlite3 binds Python ints/floats/str; NaN (missing batch ids) must become None.
    if column.dtype == object:
        return column.tolist()
    if column.isna().any():
        return [None if pd.isna(v) else v for v in column.tolist()]
    return column.tolist()


def update_values(frame: pd.DataFrame, batch_id: int) -> None:
    """Set value and batch for existing observations, identified by id."""
    if frame.empty:
        return
    params = [
        {"value": value, "batch_id": batch_id, "id": obs_id}
        for obs_id, value in zip(frame["id"].tolist(), frame["value"].tolist(), strict=True)
    ]
    db.session.execute(
        sa.text("UPDATE observations SET value = :value, batch_id = :batch_id WHERE id = :id"),
        params,
    )
