"""Requests per minute per API key, in Redis: a generic cell rate algorithm (GCRA) on Redis's own clock.

A key may spend its whole minute's allowance at once, then earns one request back every 60/rate seconds,
whichever process or machine answers. A refusal says exactly how long until the next request fits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from redis import Redis

# KEYS: the key's theoretical arrival time. ARGV: µs per request, µs of burst tolerance.
# Returns {allowed, µs to wait, requests left now}.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, allow_at - now, 0}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {1, 0, math.floor((now - allow_at) / interval)}
"""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # whole seconds, at least 1 when refused
    remaining: int


class KeyRateLimiter:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._take = redis.register_script(_TAKE)

    def take(self, key_id: int, per_minute: int) -> Verdict:
        interval = 60_000_000 / max(per_minute, 1)
        allowed, wait_us, remaining = self._take(keys=[f"api-rate:{key_id}"],
                                                 args=[int(interval), int(interval * per_minute)])
        return Verdict(bool(allowed), max(1, math.ceil(int(wait_us) / 1_000_000)) if not allowed else 0,
                       int(remaining))
