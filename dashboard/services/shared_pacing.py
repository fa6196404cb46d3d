"""One rate allowance per house account, shared through Redis by every worker that sends
to it, so N workers together stay inside the house's limit instead of each spending the
whole of it (a 429 storm).

The budget lives in a Redis hash per account: calls ``remaining`` in the house's current
window, the window's ``limit`` and when it refills (``refill_at``, wall-clock seconds).
Each call first takes one (a Lua script, atomic across workers); each answer's headers
bring the count down to what the house says is left and date the window's end. A worker
that finds the budget empty waits until the refill, as one worker alone did before on
its own count. Answers to calls sent before the current window began are ignored, so a
late answer cannot empty a fresh window. Hosts' clocks are assumed NTP-synchronised.

Redis being away must not stop sending: the allowance then lets every call through, and
the house's 429s (with their retry times) pace the run as they would without it.
"""
from __future__ import annotations

import logging
import time

import redis
from flask import current_app

from dashboard.redis_conn import connection

log = logging.getLogger(__name__)

#: a budget nobody used for this long is forgotten
IDLE_TTL = 3600

_TAKE = """
local now = tonumber(ARGV[1])
local s = redis.call('hmget', KEYS[1], 'remaining', 'limit', 'refill_at')
local remaining, limit, refill_at = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
if refill_at and now >= refill_at then
  redis.call('hdel', KEYS[1], 'refill_at')
  redis.call('hset', KEYS[1], 'window_start', ARGV[3])
  refill_at = nil
  remaining = limit
  if limit then redis.call('hset', KEYS[1], 'remaining', limit)
  else redis.call('hdel', KEYS[1], 'remaining') end
end
redis.call('expire', KEYS[1], ARGV[2])
if remaining == nil or remaining > 0 then
  if remaining then redis.call('hset', KEYS[1], 'remaining', remaining - 1) end
  return '0'
end
if refill_at == nil then return '0' end
return tostring(refill_at - now)
"""

_OBSERVE = """
local now, sent = tonumber(ARGV[1]), tonumber(ARGV[2])
local remaining, limit, reset = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local s = redis.call('hmget', KEYS[1], 'remaining', 'window_start', 'refill_at')
local ours, window_start, known = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
if window_start and sent < window_start then return 0 end
if ours == nil or remaining < ours then redis.call('hset', KEYS[1], 'remaining', remaining) end
if limit > 0 then redis.call('hset', KEYS[1], 'limit', limit) end
-- the house rounds its reset up to whole seconds, so now + reset is never early; a
-- window's first call dates its end more closely (sent + the whole window)
local ends = now + reset
if limit > 0 and remaining == limit - 1 and sent + reset < ends then ends = sent + reset end
ends = ends + 0.05
if known == nil or known <= now or ends < known then
  redis.call('hset', KEYS[1], 'refill_at', string.format('%.3f', ends))
end
redis.call('expire', KEYS[1], ARGV[6])
return 1
"""


class RedisAllowance:
    """``adapters.base.SharedAllowance`` kept in Redis under ``key``."""

    def __init__(self, conn: redis.Redis, key: str, clock=time.time):
        self.conn, self.key, self.clock = conn, key, clock
        self._take = conn.register_script(_TAKE)
        self._observe = conn.register_script(_OBSERVE)

    def take(self) -> float:
        now = self.clock()
        try:
            return max(0.0, float(self._take(keys=[self.key],
                                             args=[f"{now:.3f}", IDLE_TTL, f"{now:.3f}"])))
        except (redis.RedisError, OSError) as exc:
            log.warning("shared rate allowance unavailable (%s); sending unpaced", exc)
            return 0.0

    def observe(self, sent: float, remaining: int, limit: int | None, reset: float) -> None:
        try:
            self._observe(keys=[self.key], args=[f"{self.clock():.3f}", f"{sent:.3f}",
                                                 remaining, limit or 0, reset, IDLE_TTL])
        except (redis.RedisError, OSError) as exc:
            log.warning("shared rate allowance unavailable (%s)", exc)

    def state(self) -> dict[str, str]:
        """The stored budget, for tests and troubleshooting."""
        return {k.decode(): v.decode() for k, v in self.conn.hgetall(self.key).items()}


def for_account(account_id: int) -> RedisAllowance | None:
    """The allowance every worker of this deployment shares for one house account; None
    where the app waits with a sleeper of its own (``config["SLEEP"]``: time simulated in
    tests), which a wall-clock budget shared with other processes cannot follow, so the
    client paces alone on the house's headers."""
    if current_app.config.get("SLEEP"):
        return None
    return RedisAllowance(connection(),
                          f"{current_app.config['RQ_QUEUE']}:allowance:{account_id}")
