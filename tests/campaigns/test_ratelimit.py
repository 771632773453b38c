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


def test_a_request_leaving_later_than_the_margin_widens_it_for_every_slot_at_once(redis_url):
    client = redis.Redis.from_url(redis_url)
    mine = RateLimiter(client, "sender-late", 1, margin_ms=20)
    mine.leaving(0.015)  # within the margin
    theirs = RateLimiter(client, "sender-late", 1, margin_ms=20)
    assert 1.0 < _next_slot_after_a_full_window(theirs) <= 1.02
    mine.leaving(0.100)  # a starved process: 80 ms more than the margin
    assert 1.09 < _next_slot_after_a_full_window(theirs) <= 1.1


def _granted_within(limiter, seconds: float) -> int:
    """How many single slots the limiter grants, asked as soon as each frees, over `seconds`."""
    granted, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        grant = limiter.acquire(1)
        granted += grant.granted
        if not grant.granted:
            time.sleep(min(grant.wait_seconds, max(deadline - time.monotonic(), 0)))
    return granted


def test_a_flush_while_sending_holds_the_number_for_a_window_as_if_the_last_one_was_full(redis_url):
    client = redis.Redis.from_url(redis_url)
    limiter = RateLimiter(client, "sender-flushed", 50, margin_ms=0)
    assert limiter.acquire(1).granted == 1
    client.flushdb()  # Meta's window still holds what was just sent
    held = limiter.acquire(1)
    assert held.granted == 0 and 0.9 < held.wait_seconds <= 1.0
    assert RateLimiter(client, "sender-flushed", 50, margin_ms=0).acquire(1).granted == 0  # every slot waits
    time.sleep(held.wait_seconds)
    assert limiter.acquire(1).granted == 1


def test_a_number_that_was_not_sending_starts_at_once(redis_url):
    limiter = RateLimiter(redis.Redis.from_url(redis_url), "sender-fresh", 50)
    assert limiter.acquire(1).granted == 1


def test_a_run_of_failures_halves_the_rate_of_every_slot_of_the_number(redis_url):
    client = redis.Redis.from_url(redis_url)
    mine = RateLimiter(client, "sender-failing", 10, margin_ms=0)
    assert mine.breaker.record(failures=4, successes=0) == 10  # not yet a run
    assert mine.breaker.record(failures=1, successes=0) == 5
    assert mine.breaker.record(failures=5, successes=0) == 5  # answers to requests sent before the halving
    theirs = RateLimiter(client, "sender-failing", 10, margin_ms=0)
    assert _granted_within(theirs, 0.9) == 5
    time.sleep(0.15)
    assert mine.breaker.record(failures=5, successes=0) == 2  # later, still failing


def test_a_success_ends_the_run_of_failures(redis_url):
    breaker = RateLimiter(redis.Redis.from_url(redis_url), "sender-flaky", 10).breaker
    breaker.record(failures=4, successes=0)
    breaker.record(failures=1, successes=1)  # the failure came first
    assert breaker.record(failures=4, successes=0) == 10


def test_the_failures_after_a_batchs_last_success_begin_the_next_run(redis_url):
    # Meta began failing in the middle of a batch of answers: the answer to a request sent just before came first. The
    # storm halves the rate at once, not a batch (a quarter of a second of 5xx at the full rate) later.
    storm = RateLimiter(redis.Redis.from_url(redis_url), "sender-storm", 10).breaker
    assert storm.record(failures=11, successes=1, failing_last=11) == 5
    recovering = RateLimiter(redis.Redis.from_url(redis_url), "sender-recovering-mid-batch", 10).breaker
    assert recovering.record(failures=4, successes=0) == 10
    assert recovering.record(failures=3, successes=9, failing_last=1) == 10  # then Meta answered again
    assert recovering.record(failures=3, successes=0) == 10  # 1 + 3: not yet a run
    assert recovering.record(failures=1, successes=0) == 5


def test_the_rate_doubles_back_per_quiet_interval_up_to_the_configured_rate(redis_url):
    breaker = RateLimiter(redis.Redis.from_url(redis_url), "sender-recovering", 40,
                          breaker_quiet_seconds=0.3).breaker
    assert breaker.record(failures=5, successes=0) == 20
    time.sleep(0.32)
    assert breaker.rate_now() == 20  # no answer yet: no sign that Meta is back
    assert breaker.record(failures=0, successes=3) == 20
    time.sleep(0.2)
    assert breaker.record(failures=1, successes=0) == 20  # failing again: the quiet interval starts over
    assert breaker.record(failures=0, successes=3) == 20
    time.sleep(0.2)
    assert breaker.rate_now() == 20
    time.sleep(0.12)
    assert breaker.rate_now() == 40


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
