"""Redis stopped and started again mid-campaign, twice: once empty (no persistence: every queue, lock and limiter
key gone) and once from a snapshot taken earlier (stale limiter keys, stale locks, stale queue entries). The
workers and the cron process reconnect by themselves, and the campaign completes with nothing lost, nothing sent
twice and no one-second window over the rate."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

from tests.processes import wait_for_workers, wait_until
from tests.reliability.conftest import RATE
from tests.reliability.trials import accepted, check, launch
from webapp import private_redis
from webapp.campaigns.workers import unserved

pytestmark = [pytest.mark.reliability, pytest.mark.flow, pytest.mark.only_on("postgresql")]

SIZE = 600
DOWN = 2.0  # seconds Redis is away each time


def restart(url: str, down: float = DOWN) -> None:
    """Stop the test's private redis-server (no save) and start it again on the same socket after `down` s; it
    loads the folder's dump.rdb, if any."""
    folder = Path(url.removeprefix("unix://")).parent
    redis.Redis.from_url(url).shutdown(nosave=True)
    wait_until(lambda: not _alive(url), 5, interval=0.05, message="Redis to stop")
    time.sleep(down)
    private_redis.start(folder)


def _alive(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except (redis.ConnectionError, OSError):
        return False


def test_redis_restarted_empty_and_from_a_stale_snapshot_mid_send_loses_nothing_and_keeps_the_rate(
        app, sandbox, sandbox_sender, processes, redis_url):
    group = processes(DISPATCHERS_PER_CAMPAIGN=2)
    group.worker()
    group.worker()
    group.cron()
    wait_for_workers(app, 2, group)
    campaign_id = launch(sandbox_sender, "+1555081", SIZE)
    wait_until(lambda: accepted(sandbox) >= 100, 120, message="the first sends", processes=group)
    snapshot = Path(redis_url.removeprefix("unix://")).parent / "dump.rdb"
    try:
        app.extensions["redis"].save()  # what the second restart brings back
        wait_until(lambda: accepted(sandbox) >= 200, 120, message="sends after the snapshot", processes=group)
        snapshot.rename(snapshot.with_suffix(".stale"))
        restart(redis_url)  # empty
        wait_until(lambda: "dispatch" not in unserved(["sending"]), 60, message="the pages to see the workers again")
        wait_until(lambda: accepted(sandbox) >= 400, 120, message="sends after the first restart", processes=group)
        snapshot.with_suffix(".stale").rename(snapshot)
        restart(redis_url)  # from the stale snapshot
        snapshot.unlink()
        check(sandbox, campaign_id, group, RATE, SIZE)
        times = sorted(m["accepted_ts"] for m in sandbox.messages(limit=10 * SIZE))
        print(f"longest pause in sending: {max(b - a for a, b in zip(times, times[1:])):.1f} s")
    finally:
        snapshot.unlink(missing_ok=True)
        snapshot.with_suffix(".stale").unlink(missing_ok=True)
