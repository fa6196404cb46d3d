"""One active scheduler across hosts: a lock in Redis that the active one renews while it
runs, and a standby that takes over when it lapses.

The lock is a plain key set with ``SET NX EX`` to a token naming its holder; renewing and
releasing check the token first (in one Lua call each), so a scheduler that lost the lock
(Redis restarted, a long pause) can never extend or delete its successor's.
"""
from __future__ import annotations

import os
import socket
import uuid

import redis

_RENEW = """if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('expire', KEYS[1], ARGV[2]) else return 0 end"""
_RELEASE = """if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1]) else return 0 end"""


class LeaderLock:
    """Held by at most one process at a time; lapses ``ttl`` seconds after its holder
    last renewed it (a holder killed with -9 is replaced after that long)."""

    def __init__(self, conn: redis.Redis, key: str, ttl: int):
        self.conn, self.key, self.ttl = conn, key, ttl
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held = False

    def hold(self) -> bool:
        """Renew the lock when it is ours (also after a Redis outage that kept it), else
        try to take it; True while we hold it."""
        self.held = bool(self.conn.eval(_RENEW, 1, self.key, self.token, self.ttl)
                         or self.conn.set(self.key, self.token, nx=True, ex=self.ttl))
        return self.held

    def holder(self) -> str:
        value = self.conn.get(self.key)
        return value.decode() if value else "nobody"

    def release(self) -> None:
        """Give the lock up at once (a standby need not wait for it to lapse)."""
        if self.held:
            self.held = False
            self.conn.eval(_RELEASE, 1, self.key, self.token)
