"""Konnektive's page numbers, served by keyset paging: what a client walking pages can rely on.

A client walks one filter with ``page`` = 1, 2, 3 … and the same ``resultsPerPage``. Page 1
begins a *walk*; each answer remembers in Redis (per API user, endpoint, filter and page
size, for ``WALK_SECONDS`` after the last call) when the walk began, the id its page ended
on and the count. So page n+1 is a keyset query (``id > last id of page n``, ordered by
id), and records that leave the filter behind the walk (a Hold record the walk itself
handed over) shift nothing: a walk in one go receives every record that matched when it
began, each exactly once. Records that arrive during the walk come at its end.

``totalResults`` is counted when a walk begins (or a count at most ``COUNT_SECONDS`` old
for the same filter is reused), not on every page; it is exact on the page that ends the
walk (fewer than ``resultsPerPage`` records): the number of records the walk served.

A page asked out of turn (no walk, or the previous page unknown) starts from the nearest
page the walk knows and skips the rest with OFFSET. Without Redis, every page is an OFFSET
query and counts afresh: slower, never wrong in a different way.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

import redis

from dashboard.redis_conn import connection

log = logging.getLogger(__name__)

#: how long a walk is remembered after its last page
WALK_SECONDS = 900
#: how long a count is reused by walks of the same filter
COUNT_SECONDS = 60


@dataclass
class Walk:
    """Where one page of a walk starts, and what the walk knows."""

    key: str
    page: int
    per_page: int
    #: when page 1 was asked: records that left the filter since still belong to the walk
    began: datetime
    #: keyset start: the page holds records with ids above this (0: from the first)
    after_id: int
    #: records to skip after ``after_id`` (0 when the previous page is known)
    skip: int
    #: the count when the walk began, if known
    total: int | None


def begin(user_id: int, endpoint: str, params, page: int, per_page: int,
          at: datetime) -> Walk:
    """The walk this call belongs to (page 1 begins a new one)."""
    signature = "&".join(f"{k}={params.get(k, '')}" for k in sorted(params)
                         if k not in ("page", "password", "loginId"))
    key = "api-walk:" + hashlib.sha256(
        f"{user_id}|{endpoint}|{per_page}|{signature}".encode()).hexdigest()
    state: dict[str, str] = {}
    if page > 1:
        state = _read(key)
    began = datetime.fromisoformat(state["began"]) if "began" in state else at
    after_id, known = 0, 0
    for number in range(page - 1, 0, -1):
        if f"p{number}" in state:
            after_id, known = int(state[f"p{number}"]), number
            break
    total = int(state["total"]) if "total" in state else _cached_count(key)
    return Walk(key=key, page=page, per_page=per_page, began=began, after_id=after_id,
                skip=(page - 1 - known) * per_page, total=total)


def finish(walk: Walk, ids: list[int], count) -> int:
    """Remember where this page ended and return ``totalResults``: the walk's count
    (``count()`` when unknown), exact on the page that ends the walk."""
    served = (walk.page - 1) * walk.per_page + len(ids)
    if len(ids) < walk.per_page:
        total = served
    else:
        total = max(walk.total if walk.total is not None else count(), served)
    fields = {"began": walk.began.isoformat(), "total": str(total)}
    if ids:
        fields[f"p{walk.page}"] = str(ids[-1])
    try:
        pipe = connection().pipeline(transaction=False)
        if walk.page == 1:
            pipe.delete(walk.key)
        pipe.hset(walk.key, mapping=fields)
        pipe.expire(walk.key, WALK_SECONDS)
        if walk.total is None:
            pipe.set(walk.key + ":count", total, ex=COUNT_SECONDS)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("api paging: could not remember the walk (%s)", exc)
    return total


def _read(key: str) -> dict[str, str]:
    try:
        return {k.decode(): v.decode() for k, v in connection().hgetall(key).items()}
    except redis.RedisError as exc:
        log.warning("api paging: could not read the walk (%s)", exc)
        return {}


def _cached_count(key: str) -> int | None:
    try:
        value = connection().get(key + ":count")
    except redis.RedisError:
        return None
    return int(value) if value is not None else None
