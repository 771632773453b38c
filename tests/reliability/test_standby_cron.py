"""`flask cron` on two machines at once: one scheduler enqueues the periodic jobs, the other stands by and takes
over when the first stops, or when Redis lost the lock (webapp/cron.py). Quick: the schedulers' turns are taken
here, one by one, against the test's Redis."""
from __future__ import annotations

import redis
from rq import Queue

from webapp import cron


def periodic() -> None:
    """The job the schedulers enqueue; no worker runs it here."""


def scheduler(connection: redis.Redis) -> cron.SingleCron:
    scheduler = cron.SingleCron(connection=connection)
    scheduler.register(periodic, "control", interval=3600)
    return scheduler


def test_two_cron_processes_enqueue_each_periodic_job_once_and_the_standby_takes_over(redis_url):
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    control = Queue("control", connection=connection)
    first, second = scheduler(connection), scheduler(connection)

    assert first.step() is True
    assert second.step() is False  # standing by: its job, due at once, is not enqueued
    assert first.step() is True
    assert control.count == 1

    cron.release_lock(connection, cron.LOCK_KEY, first.name)  # the first one stopped (SIGTERM)
    assert second.step() is True
    assert first.step() is False
    assert control.count == 2  # the standby ran its jobs on taking over

    connection.flushall()  # Redis restarted empty: the lock is gone, one of them takes it again
    assert [first.step(), second.step()] == [True, False]
