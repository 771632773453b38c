"""Login throttling: failed logins counted in Redis per (account, address) pair, a slot taken before the check.

An attempt takes its slot atomically before its password is checked, so however many arrive at once, no more
than `limit` passwords are checked per pair and window; a success frees the pair's slots. The pair is counted,
not the account or the address alone: a stranger's failures lock out neither the account's owner at another
address nor the colleagues who share the stranger's address (an office, or the proxy when it is not trusted).
"""
from __future__ import annotations

import hashlib
import math

from redis import Redis

# KEYS: the pair's counter. ARGV: the limit, the window in ms. Returns 0 (go ahead) or the ms until a slot frees.
_TAKE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then
  return math.max(redis.call('PTTL', KEYS[1]), 1)
end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
"""


class LoginThrottle:
    def __init__(self, redis: Redis, limit: int, window_seconds: int) -> None:
        self.redis = redis
        self.limit = limit
        self.window_ms = window_seconds * 1000
        self._take = redis.register_script(_TAKE)

    @staticmethod
    def _key(email: str, address: str) -> str:
        pair = hashlib.sha256(f"{email}\n{address}".encode()).hexdigest()[:32]  # no email in Redis's keys
        return f"login-failures:{pair}"

    def take(self, email: str, address: str) -> int:
        """Take a slot for one attempt: 0 if it may go ahead, else the whole seconds until it may."""
        wait_ms = int(self._take(keys=[self._key(email, address)], args=[self.limit, self.window_ms]))
        return math.ceil(wait_ms / 1000)

    def clear(self, email: str, address: str) -> None:
        """A success: the pair starts afresh."""
        self.redis.delete(self._key(email, address))
