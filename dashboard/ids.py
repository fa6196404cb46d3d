"""Record ids as the database holds them. An id outside the integer columns' range cannot
name a record, and PostgreSQL refuses to compare one ("integer out of range"), so ids from
requests are checked here before they reach a query."""
from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter

#: the largest value of an INTEGER primary key
MAX_ID = 2**31 - 1


def parse_id(value: str | None) -> int | None:
    """The id ``value`` names, or None when it cannot name a record."""
    value = (value or "").strip()
    if not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def whole_number(value: str, digits: int) -> bool:
    """ASCII digits only, at most ``digits`` of them (``str.isdigit`` also takes "²")."""
    return re.fullmatch(rf"[0-9]{{1,{digits}}}", value) is not None


class IdConverter(IntegerConverter):
    """``<int:...>`` in routes: a number past ``MAX_ID`` matches no route (404)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (werkzeug's signature)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
