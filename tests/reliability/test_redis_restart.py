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


def restart(url: str, down: float = DOWN) -> tuple[float, float]:
    """Stop the test's private redis-server (no save) and start it again on the same socket after `down` s; it
    loads the folder's dump.rdb, if any. When it stopped and when it answered again (epoch seconds)."""
    folder = Path(url.removeprefix("unix://")).parent
    stopped = time.time()
    redis.Redis.from_url(url).shutdown(nosave=True)
    wait_until(lambda: not _alive(url), 5, interval=0.05, message="Redis to stop")
    time.sleep(down)
    private_redis.start(folder)
    return stopped, time.time()


def pause(ledger: list[dict], outage: tuple[float, float]) -> str:
    """How long sending stood still around an outage: from the last message accepted before Redis stopped to the
    first one after it answered again (a figure for docs/deploy.md; nothing is asserted on time)."""
    stopped, back = outage
    before = max((m["accepted_ts"] for m in ledger if m["accepted_ts"] <= stopped), default=stopped)
    after = min((m["accepted_ts"] for m in ledger if m["accepted_ts"] >= back), default=None)
    paused = "all sent before" if after is None else f"sending paused {after - before:.1f} s"
    return f"Redis away {back - stopped:.1f} s, {paused}"


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
        app.extensions["redis"].save()  # dump.rdb: set aside for the first restart, loaded by the second
        wait_until(lambda: accepted(sandbox) >= 200, 120, message="sends after the snapshot", processes=group)
        snapshot.rename(snapshot.with_suffix(".stale"))
        empty = restart(redis_url)
        wait_until(lambda: "dispatch" not in unserved(["sending"]), 60, message="the pages to see the workers again")
        wait_until(lambda: accepted(sandbox) >= 400, 120, message="sends after the first restart", processes=group)
        snapshot.with_suffix(".stale").rename(snapshot)
        stale = restart(redis_url)  # from the snapshot
        snapshot.unlink()
        check(sandbox, campaign_id, group, RATE, SIZE)
        ledger = sandbox.messages(limit=10 * SIZE)
        print(f"\nrestarted empty: {pause(ledger, empty)}; from a stale snapshot: {pause(ledger, stale)}")
    finally:
        snapshot.unlink(missing_ok=True)
        snapshot.with_suffix(".stale").unlink(missing_ok=True)
