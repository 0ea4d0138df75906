"""Lists that do not grow with the team: one page of rows, searched and sorted in SQL.

A view names the sort keys it offers (a whitelist: anything else in ?sort= is ignored), the
columns ?q= searches, and hands its query, already narrowed by policy's SQL visibility clause,
to `paginate`. The total comes from SQL COUNT and the rows from LIMIT/OFFSET, so a page reads
the same few rows whether the scope holds 5 people or 5,000. Bad ?page, ?size or ?sort values
are clamped or ignored, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app, request, url_for
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from reviewapp.extensions import db

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_PAGE = 10**6  # ?page=10**23 made an OFFSET SQLite cannot bind; past the last page anyway
MAX_QUERY_LENGTH = 100


@dataclass(frozen=True)
class Sort:
    """One sort key a list offers: the SQL expressions it orders by (empty values last)."""

    columns: tuple
    descending_first: bool = False  # a number column opens with the highest first

    @classmethod
    def by(cls, *columns, descending_first: bool = False) -> Sort:
        return cls(tuple(columns), descending_first)


@dataclass(frozen=True)
class PageRequest:
    """What the URL asked for, already made safe: page ≥ 1, a size in range, a known sort."""

    page: int
    size: int
    q: str
    sort: str
    descending: bool


def _int_arg(args: Mapping, name: str) -> int | None:
    raw = args.get(name, "")
    try:
        return int(str(raw).strip())
    except ValueError:
        return None


def page_size() -> int:
    """The configured number of rows a page shows (PAGE_SIZE, 50 by default)."""
    return int(current_app.config.get("PAGE_SIZE", DEFAULT_PAGE_SIZE))


def read_request(sorts: Mapping[str, Sort], default_sort: str,
                 args: Mapping | None = None) -> PageRequest:
    """?page=, ?size=, ?q= and ?sort= (a key, or -key for descending) read leniently."""
    args = request.args if args is None else args
    page = min(max(1, _int_arg(args, "page") or 1), MAX_PAGE)
    size = _int_arg(args, "size") or page_size()
    size = min(max(size, 1), MAX_PAGE_SIZE)
    q = " ".join(str(args.get("q", "")).split())[:MAX_QUERY_LENGTH]
    raw = str(args.get("sort", "")).strip()
    key = raw.lstrip("-")
    if key not in sorts:  # the default may be descending: "-key"
        key, raw = default_sort.lstrip("-"), default_sort
    descending = raw.startswith("-")
    return PageRequest(page=page, size=size, q=q, sort=key, descending=descending)


@dataclass
class Page:
    """One page of a list, with what the pager and the sortable headers need."""

    items: list
    total: int
    number: int
    size: int
    q: str
    sort: str
    descending: bool
    sorts: Sequence[str] = field(default_factory=tuple)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        """1-based position of the first row shown (0 when the list is empty)."""
        return 0 if not self.items else (self.number - 1) * self.size + 1

    @property
    def last_index(self) -> int:
        return 0 if not self.items else self.first_index + len(self.items) - 1

    def window(self, around: int = 2) -> list[int | None]:
        """Page numbers to link: the first, the last and those near this one (None: a gap)."""
        wanted = {1, self.pages, *range(self.number - around, self.number + around + 1)}
        shown, last = [], 0
        for n in sorted(p for p in wanted if 1 <= p <= self.pages):
            if n > last + 1:
                shown.append(None)
            shown.append(n)
            last = n
        return shown

    def url(self, **changes) -> str:
        """This page's URL with some arguments changed (None drops one)."""
        # url_for reads _external, _scheme, … and the path's own arguments from the same
        # keywords: a query string must not be able to set them.
        args = {name: values for name, values in request.args.to_dict(flat=False).items()
                if not name.startswith("_") and name != "endpoint"}
        for name, value in changes.items():
            if value is None or value == "":
                args.pop(name, None)
            else:
                args[name] = [value]
        return url_for(request.endpoint, **{**args, **(request.view_args or {})})

    def page_url(self, number: int) -> str:
        return self.url(page=None if number == 1 else number)

    def sort_url(self, key: str) -> str:
        """Sort by key; the key already in use flips its direction. Back to page 1."""
        if key == self.sort:
            value = key if self.descending else f"-{key}"
        else:
            value = key
        return self.url(sort=value, page=None)

    def aria_sort(self, key: str) -> str | None:
        if key != self.sort:
            return None
        return "descending" if self.descending else "ascending"


class folded(FunctionElement):
    """lower(text) that folds every letter: SQLite's own lower() folds only A-Z, so 'Åsa'
    stayed 'Åsa' and a search for 'åsa' found nobody (on SQLite it calls reviewapp_lower,
    Python's str.lower, registered on each connection in reviewapp/extensions.py)."""

    type = sa.String()
    inherit_cache = True


@compiles(folded)
def _folded(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(folded, "sqlite")
def _folded_sqlite(element, compiler, **kw):
    return f"reviewapp_lower({compiler.process(element.clauses, **kw)})"


def search_clause(q: str, columns: Sequence) -> sa.ColumnElement[bool]:
    """Every word of q appears in one of the columns (case-insensitive, % and _ literal)."""
    words = q.lower().split()
    if not words or not columns:
        return sa.true()
    clauses = []
    for word in words:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        clauses.append(sa.or_(*(folded(c).like(like, escape="\\") for c in columns)))
    return sa.and_(*clauses)


def order_by(sort: Sort, descending: bool, tiebreak: Sequence = ()) -> list:
    """ORDER BY terms: empty values last in either direction, then a stable tie-break."""
    flip = descending != sort.descending_first
    terms = []
    for column in sort.columns:
        terms += [column.is_(None), column.desc() if flip else column.asc()]
    return terms + list(tiebreak)


def paginate(query: sa.Select, asked: PageRequest, sorts: Mapping[str, Sort], *,
             search: Sequence = (), tiebreak: Sequence = (), scalars: bool = True) -> Page:
    """One page of query's rows: COUNT for the total, then LIMIT/OFFSET in the database.

    query must already hold the actor's visibility clause; the search is added here. A page
    past the end shows the last page.
    """
    if asked.q:
        query = query.where(search_clause(asked.q, search))
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // asked.size))
    number = min(asked.page, pages)
    ordered = query.order_by(None).order_by(
        *order_by(sorts[asked.sort], asked.descending, tiebreak))
    ordered = ordered.limit(asked.size).offset((number - 1) * asked.size)
    result = db.session.scalars(ordered) if scalars else db.session.execute(ordered)
    return Page(items=list(result.unique() if scalars else result), total=total,
                number=number, size=asked.size, q=asked.q, sort=asked.sort,
                descending=asked.descending, sorts=tuple(sorts))
