"""Column helpers every area's models share: timestamps and enums stored the same way."""

import enum
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from reviewapp.extensions import db


def utcnow() -> datetime:
    """Timezone-aware now, evaluated per row (never once at import)."""
    return datetime.now(UTC)


def enum_column(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum stored as its value, backed by a CHECK constraint on every database."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


def among(column, ids) -> sa.ColumnElement[bool]:
    """`column IN ids` for a list of ids that can be as large as a manager's scope, sent as ONE
    bound parameter whatever its length: an array on PostgreSQL (`= ANY(...)`), a JSON list
    read by `json_each` on SQLite. An IN list of 200 ids is 200 parameters, which SQLAlchemy
    and psycopg each rewrite in Python on every execution: a quarter of a 200-report
    dashboard's time on PostgreSQL went there, and the statement's text changed with the team
    size. tests/test_statement_counts.py holds the parameter counts equal for 5 and 50 reps."""
    ids = sorted(int(i) for i in ids)
    if db.engine.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, ids, type_=ARRAY(sa.Integer)))
    listed = sa.func.json_each(sa.bindparam(None, json.dumps(ids))).table_valued("value")
    return column.in_(sa.select(listed.c.value))
