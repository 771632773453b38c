"""The limiter admits at most `rate` messages in any window, across processes, on a real Redis."""
from __future__ import annotations

import multiprocessing
import time

import redis

from webapp.ratelimit import DailyCap, RateLimiter


def _hammer(url: str, rate: int, seconds: float, out) -> None:
    limiter = RateLimiter(redis.Redis.from_url(url), "sender-x", rate, margin_ms=0)
    stamps = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        grant = limiter.acquire(7)
        stamps += [time.time()] * grant.granted
        if grant.granted < 7:
            time.sleep(min(grant.wait_seconds, 0.01))
    out.put(stamps)


def test_four_processes_together_never_exceed_the_rate_in_any_window(redis_url):
    redis.Redis.from_url(redis_url).flushdb()
    rate, seconds = 50, 2.5
    out = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_hammer, args=(redis_url, rate, seconds, out)) for _ in range(4)]
    for w in workers:
        w.start()
    stamps = sorted(s for _ in workers for s in out.get(timeout=30))
    for w in workers:
        w.join()
    # Admission times are stamped by Redis; the local stamps trail them by at most a few ms.
    busiest = max(sum(1 for s in stamps[i:] if s - stamps[i] < 0.99) for i in range(len(stamps)))
    assert busiest <= rate
    assert len(stamps) >= rate * 2  # and the rate is actually used, not starved


def test_unused_slots_can_be_given_back(redis_url):
    limiter = RateLimiter(redis.Redis.from_url(redis_url), "sender-y", 500)  # 10 per 20 ms step
    grant = limiter.acquire(10)
    assert grant.granted == 10 and limiter.acquire(1).granted == 0
    limiter.give_back(grant, 4)
    assert limiter.acquire(10).granted == 4


def test_grants_are_spread_over_the_second_not_given_at_once(redis_url):
    limiter = RateLimiter(redis.Redis.from_url(redis_url), "sender-smooth", 500)
    first = limiter.acquire(500)
    assert first.granted == 10  # a fiftieth of the rate per 20 ms
    assert 0 < first.wait_seconds <= 0.02
    time.sleep(first.wait_seconds)
    assert limiter.acquire(500).granted == 10


def test_a_hold_admits_nothing_until_it_expires(redis_url):
    limiter = RateLimiter(redis.Redis.from_url(redis_url), "sender-z", 10)
    limiter.hold(0.2)
    blocked = limiter.acquire(1)
    assert blocked.granted == 0 and 0 < blocked.wait_seconds <= 0.2
    time.sleep(0.25)
    assert limiter.acquire(1).granted == 1


def _next_slot_after_a_full_window(limiter) -> float:
    """Seconds until a slot frees, asked right after filling a rate-1 window."""
    limiter.redis.delete(limiter.log_key)
    assert limiter.acquire(1).granted == 1
    return limiter.acquire(1).wait_seconds


def test_each_130429_widens_the_margin_and_calm_narrows_it_back(redis_url):
    limiter = RateLimiter(redis.Redis.from_url(redis_url), "sender-w", 1, margin_ms=0, narrow_ms_per_second=20)
    assert 0.98 < _next_slot_after_a_full_window(limiter) <= 1.0
    assert limiter.widen() == 20
    assert 1.005 < _next_slot_after_a_full_window(limiter) <= 1.02
    assert 30 < limiter.widen() <= 40  # doubles what is left
    time.sleep(1.5)  # 20 ms of margin shed per second here (a millisecond every five seconds by default)
    assert 0.98 < _next_slot_after_a_full_window(limiter) <= 1.011


def test_the_widening_is_capped_and_shared_by_every_limiter_of_the_number(redis_url):
    mine = RateLimiter(redis.Redis.from_url(redis_url), "sender-v", 1, margin_ms=0)
    for _ in range(10):
        mine.widen()
    theirs = RateLimiter(redis.Redis.from_url(redis_url), "sender-v", 1, margin_ms=0)
    assert 1.24 < _next_slot_after_a_full_window(theirs) <= 1.25


def test_the_daily_cap_counts_unique_customers_and_rebuilds_after_a_flush(redis_url):
    client = redis.Redis.from_url(redis_url)
    cap = DailyCap(client, "sender-cap", 3)
    now = time.time()
    cap.ensure_built(lambda: [])
    cap.record(["+1", "+2", "+2"], now)
    assert cap.room(now) == 1
    client.flushdb()
    cap.ensure_built(lambda: [("+1", now - 100), ("+2", now - 90000)])  # +2 was more than a day ago
    assert cap.room(now) == 2
