"""The global rate limiter per sender number, in Redis, shared by every worker on every machine.

A sliding-window log: each admitted message is an entry stamped with Redis's own clock, and a grant
is made only while the last `window` holds fewer than `rate` entries. So in no one-second window does
a number get more than its rate, however many processes ask. The window is a little longer than one
second (RATE_MARGIN_MS) because a request reaches Meta a few milliseconds after its admission, and
those delays differ; without the margin two admissions one second apart could arrive closer.

The margin also adapts: a 130429 from Meta shows that arrivals bunched more than the margin allowed for
(a loaded host, a slow network), so it widens (doubling, up to a quarter of a second) and then narrows
back by itself, a millisecond every five seconds, while Meta stays content. It need not wait for Meta: a
request that leaves its process later after its admission than the margin allows (a starved host, a new
slot still starting its threads) widens it at once to that lateness, before the next grant of any slot.

Grants are also smoothed: at most a fiftieth of the rate in any 20 ms step. The requests of one grant
leave the process one after another (each costs CPU), so a big grant spreads its arrivals over more than
the margin: with steps of 100 ms, 500 msg/s from four workers met 28–43 answers 130429 a run and
reached 84–86 % of the rate; with 20 ms steps, none and 96 % (docs/benchmarks.md). It costs no throughput.

When Redis loses the window while the number is sending (a FLUSHALL, a restart without persistence), the
messages of the last second are still in Meta's window: a limiter that had granted slots within its window
sees the number's epoch change and holds everything for one window, as if the last one had been full.

The breaker (`Breaker`) lowers the rate itself while Meta fails: after a run of 5xx answers or timeouts the
number's rate halves (at most every quarter of a second, down to 1 msg/s) and stays there while failures go on;
once Meta answers again it doubles per quiet interval without a failure, up to the configured rate. Its state
sits beside the window, so every slot obeys it at once.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from redis import Redis

# The margin added after 130429s, as it is at `now` (µs): KEYS[n] is the hash {us = added, at = when}.
_WIDENED = """
local function widened(key, now, narrow)
  local w = redis.call('HMGET', key, 'us', 'at')
  if not w[1] then return 0 end
  return math.max(0, tonumber(w[1]) - (now - tonumber(w[2])) * narrow / 1000000)
end
"""

# The rate the breaker allows at `now` (µs): its level, doubled per quiet interval since Meta answered again.
# KEYS[n] is the hash {level, calm = when answers came back after the last failure (absent while failing),
# streak, halved}.
_ALLOWED = """
local function allowed(key, rate, now, quiet)
  local b = redis.call('HMGET', key, 'level', 'calm')
  if not b[1] then return rate end
  if not b[2] then return tonumber(b[1]) end
  local doublings = math.floor((now - tonumber(b[2])) / quiet)
  if doublings >= 20 then return rate end
  return math.min(rate, tonumber(b[1]) * 2 ^ doublings)
end
"""

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

# KEYS: window log, hold flag, widening, epoch, breaker. ARGV: window µs, rate, wanted, grant id, narrowing
# (µs per second), step µs, the epoch this limiter knew ('' if none), a new epoch, whether this limiter granted
# within the last window (1/0), breaker quiet µs.
# Returns {granted, µs until a slot frees (0 when all were granted), the epoch}.
_ACQUIRE = _WIDENED + _ALLOWED + _NOW + """
local epoch = redis.call('GET', KEYS[4])
if not epoch then
  epoch = ARGV[8]
  redis.call('SET', KEYS[4], epoch)
end
if ARGV[7] ~= '' and ARGV[7] ~= epoch and ARGV[9] == '1' then
  -- Redis lost the window while this number was sending: Meta's still holds the last second, assume it full.
  redis.call('SET', KEYS[2], '1', 'PX', math.ceil(tonumber(ARGV[1]) / 1000))
end
local hold = redis.call('PTTL', KEYS[2])
if hold > 0 then return {0, hold * 1000, epoch} end
local window = tonumber(ARGV[1]) + widened(KEYS[3], now, tonumber(ARGV[5]))
local rate = allowed(KEYS[5], tonumber(ARGV[2]), now, tonumber(ARGV[10]))
local wanted = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
local step = tonumber(ARGV[6])
local burst = math.max(1, math.ceil(rate * step / 1000000))
local recent = redis.call('ZCOUNT', KEYS[1], now - step, '+inf')
local granted = math.max(0, math.min(wanted, rate - used, burst - recent))
if granted > 0 then
  local entries = {}
  for i = 1, granted do
    entries[#entries + 1] = now
    entries[#entries + 1] = ARGV[4] .. ':' .. i
  end
  redis.call('ZADD', KEYS[1], unpack(entries))
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
end
local wait = 0
if granted < wanted then
  if used + granted >= rate then
    local oldest = redis.call('ZRANGE', KEYS[1], used + granted - rate, used + granted - rate, 'WITHSCORES')
    wait = tonumber(oldest[2]) + window - now
  else
    local first = redis.call('ZRANGEBYSCORE', KEYS[1], now - step, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    wait = first[2] and (tonumber(first[2]) + step - now) or 1000
  end
  wait = math.max(1000, wait)
end
return {granted, math.floor(wait), epoch}
"""

# KEYS: widening. ARGV: at least µs, largest µs, narrowing (µs per second). Returns the added margin, µs.
_WIDEN_TO = _WIDENED + _NOW + """
local narrow = tonumber(ARGV[3])
local before = widened(KEYS[1], now, narrow)
local added = math.min(tonumber(ARGV[2]), tonumber(ARGV[1]))
if added <= before then return math.floor(before) end
redis.call('HSET', KEYS[1], 'us', added, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(added / narrow * 1000) + 1000)
return math.floor(added)
"""

# KEYS: widening. ARGV: first step µs, largest µs, narrowing (µs per second). Returns the added margin, µs.
_WIDEN = _WIDENED + _NOW + """
local narrow = tonumber(ARGV[3])
local added = math.min(tonumber(ARGV[2]), math.max(tonumber(ARGV[1]), 2 * widened(KEYS[1], now, narrow)))
redis.call('HSET', KEYS[1], 'us', added, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(added / narrow * 1000) + 1000)
return math.floor(added)
"""

# KEYS: breaker. ARGV: configured rate, failures, successes, run, µs between halvings, quiet µs, failures after the
# last success.
# Returns the rate allowed now.
_RECORD = _ALLOWED + _NOW + """
local rate, failures, successes = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local level = allowed(KEYS[1], rate, now, tonumber(ARGV[6]))
local b = redis.call('HMGET', KEYS[1], 'streak', 'halved', 'calm')
local streak = successes > 0 and tonumber(ARGV[7]) or tonumber(b[1] or 0) + failures  -- a success ends the run
if streak >= tonumber(ARGV[4]) and now - tonumber(b[2] or 0) >= tonumber(ARGV[5]) then
  level = math.max(1, math.floor(level / 2))
  streak = 0
  redis.call('HSET', KEYS[1], 'halved', now)
end
redis.call('HSET', KEYS[1], 'streak', streak)
if level >= rate then
  redis.call('HDEL', KEYS[1], 'level', 'calm')
elseif failures > 0 then  -- still failing: the rate stays where it is until Meta answers again
  redis.call('HSET', KEYS[1], 'level', level)
  redis.call('HDEL', KEYS[1], 'calm')
elseif not b[3] then  -- the first answers after the failures: the quiet intervals count from now
  redis.call('HSET', KEYS[1], 'level', level, 'calm', now)
end
redis.call('PEXPIRE', KEYS[1], 3600000)
return level
"""

# KEYS: breaker. ARGV: configured rate, quiet µs. Returns the rate allowed now.
_RATE_NOW = _ALLOWED + _NOW + """
return allowed(KEYS[1], tonumber(ARGV[1]), now, tonumber(ARGV[2]))
"""


@dataclass(frozen=True)
class Grant:
    granted: int
    wait_seconds: float  # how long until the next slot frees, when fewer were granted than asked
    grant_id: str

    def members(self, count: int) -> list[str]:
        """The window entries of the last `count` slots of this grant (to give back unused ones)."""
        return [f"{self.grant_id}:{i}" for i in range(self.granted - count + 1, self.granted + 1)]


class Breaker:
    """Meta failing (5xx answers, timeouts) lowers the number's rate for every slot; see the module's notes."""

    RUN = 5  # failures in a row that halve the rate
    HALVE_EVERY_MS = 250  # answers to requests sent before a halving do not halve it again at once

    def __init__(self, redis: Redis, sender_key: str, rate: int, quiet_seconds: float) -> None:
        self.rate = rate
        self.quiet_us = max(1, int(quiet_seconds * 1_000_000))
        self.key = f"ratelimit:{{{sender_key}}}:breaker"
        self._record = redis.register_script(_RECORD)
        self._rate_now = redis.register_script(_RATE_NOW)

    def record(self, failures: int, successes: int, failing_last: int = 0) -> int:
        """Count a batch of answers, in the order they came; returns the rate allowed now. A success ends the run:
        the `failing_last` failures that came after the batch's last success begin the next one (a storm that
        starts mid-batch halves the rate at its first run, not a batch later)."""
        return int(self._record(keys=[self.key], args=[self.rate, failures, successes, self.RUN,
                                                       self.HALVE_EVERY_MS * 1000, self.quiet_us,
                                                       failing_last if successes else 0]))

    def rate_now(self) -> int:
        return int(self._rate_now(keys=[self.key], args=[self.rate, self.quiet_us]))


class RateLimiter:
    STEP_MS = 20  # grants are smoothed: at most a step's share of the rate in any step
    WIDEN_FIRST_MS = 20  # the first 130429 adds this much margin; each next one doubles what is left
    WIDEN_MOST_MS = 250
    NARROW_MS_PER_SECOND = 0.2
    BREAKER_QUIET_SECONDS = 5.0

    def __init__(self, redis: Redis, sender_key: str, rate: int, margin_ms: int = 20,
                 narrow_ms_per_second: float = NARROW_MS_PER_SECOND,
                 breaker_quiet_seconds: float = BREAKER_QUIET_SECONDS) -> None:
        self.redis = redis
        self.rate = rate
        self.window_us = (1000 + margin_ms) * 1000
        self.narrow_us = narrow_ms_per_second * 1000
        self.burst = max(1, -(-rate * self.STEP_MS // 1000))  # a step's share of the rate, rounded up
        self.log_key = f"ratelimit:{{{sender_key}}}:log"  # one hash slot for all the number's keys
        self.hold_key = f"ratelimit:{{{sender_key}}}:hold"
        self.widen_key = f"ratelimit:{{{sender_key}}}:widened"
        self.epoch_key = f"ratelimit:{{{sender_key}}}:epoch"  # gone with the window when Redis loses its data
        self.breaker = Breaker(redis, sender_key, rate, breaker_quiet_seconds)
        self.epoch = ""  # the epoch of the window this limiter last granted in
        self.granted_at = float("-inf")  # monotonic time of its last grant
        self.margin_ms = margin_ms
        self.late_ms = 0.0  # the most lateness this limiter widened the margin for (see leaving)
        self._acquire = redis.register_script(_ACQUIRE)
        self._widen = redis.register_script(_WIDEN)
        self._widen_to = redis.register_script(_WIDEN_TO)

    def acquire(self, wanted: int) -> Grant:
        """Take up to `wanted` slots now; the grant says how many, and how long until the next frees."""
        grant_id = uuid.uuid4().hex
        recently = time.monotonic() - self.granted_at < self.window_us / 1_000_000
        granted, wait_us, epoch = self._acquire(
            keys=[self.log_key, self.hold_key, self.widen_key, self.epoch_key, self.breaker.key],
            args=[self.window_us, self.rate, wanted, grant_id, self.narrow_us, self.STEP_MS * 1000, self.epoch,
                  uuid.uuid4().hex, int(recently), self.breaker.quiet_us])
        self.epoch = epoch.decode() if isinstance(epoch, bytes) else epoch
        if granted:
            self.granted_at = time.monotonic()
        return Grant(int(granted), int(wait_us) / 1_000_000, grant_id)

    def give_back(self, grant: Grant, unused: int) -> None:
        """Return slots that were granted but will not be used (fewer rows were due than slots)."""
        if unused > 0:
            self.redis.zrem(self.log_key, *grant.members(unused))

    def hold(self, seconds: float) -> None:
        """Admit nothing for a while: Meta said the number's throughput was exceeded (130429)."""
        self.redis.set(self.hold_key, "1", px=max(1, int(seconds * 1000)))

    def leaving(self, late_seconds: float) -> None:
        """A request leaves `late_seconds` after its admission: more than the margin, and the margin widens to it."""
        late_ms = min(late_seconds * 1000 - self.margin_ms, self.WIDEN_MOST_MS)
        if late_ms > self.late_ms:  # once per new high: the window's hash keeps the rest (thread-safe enough)
            self.late_ms = late_ms
            self._widen_to(keys=[self.widen_key], args=[late_ms * 1000, self.WIDEN_MOST_MS * 1000, self.narrow_us])

    def widen(self) -> float:
        """Keep admissions further apart after a 130429 (see the module's notes); returns the margin added, ms."""
        return self._widen(keys=[self.widen_key],
                           args=[self.WIDEN_FIRST_MS * 1000, self.WIDEN_MOST_MS * 1000, self.narrow_us]) / 1000


class DailyCap:
    """Meta's messaging limit: unique customers per rolling 24 hours for one number.

    Redis keeps phone → time of last send; when Redis has lost it (a flush, a restart), it is rebuilt
    from the database, which remains the source of truth.
    """

    DAY = 24 * 3600

    def __init__(self, redis: Redis, sender_key: str, limit: int | None) -> None:
        self.redis = redis
        self.limit = limit
        self.key = f"dailycap:{{{sender_key}}}:phones"
        self.built_key = f"dailycap:{{{sender_key}}}:built"

    def ensure_built(self, loader) -> None:
        """Fill the set from `loader()` → [(phone, epoch seconds)] unless it is already there."""
        if self.limit is None or self.redis.exists(self.built_key):
            return
        pipe = self.redis.pipeline()
        for phone, at in loader():
            pipe.zadd(self.key, {phone: at}, gt=True)
        pipe.set(self.built_key, "1", ex=self.DAY)
        pipe.execute()

    def room(self, now: float) -> int | None:
        """How many more new customers may be messaged now (None: unlimited)."""
        if self.limit is None:
            return None
        self.redis.zremrangebyscore(self.key, "-inf", now - self.DAY)
        return max(0, self.limit - self.redis.zcard(self.key))

    def frees_at(self, now: float) -> float | None:
        """When the oldest customer of the window leaves it, making room for one more."""
        oldest = self.redis.zrange(self.key, 0, 0, withscores=True)
        return oldest[0][1] + self.DAY if oldest else None

    def record(self, phones: list[str], now: float) -> None:
        if self.limit is not None and phones:
            self.redis.zadd(self.key, dict.fromkeys(phones, now))
