"""Keyset pagination: pages are found by the last row's key, never by OFFSET, so page
1,000 costs what page 1 costs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from dashboard.ids import parse_id


@dataclass
class Page:
    rows: Sequence[Any]
    #: the key to pass as ``after`` for the next page; None on the last page
    next_after: int | None
    is_first: bool


def keyset_page(session, stmt, id_column, after: int | None, size: int) -> Page:
    """Rows of ``stmt`` with ids below ``after`` (newest first), one page of ``size``."""
    if after is not None:
        stmt = stmt.where(id_column < after)
    rows = session.execute(stmt.order_by(id_column.desc()).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    next_after = None
    if more:
        first = rows[-1][0]
        next_after = first.id if hasattr(first, "id") else first
    return Page(rows, next_after, after is None)


def parse_after(value: str | None) -> int | None:
    return parse_id(value)
