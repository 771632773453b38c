"""`flask cron`: RQ's cron scheduler, safe to run on several machines at once and through Redis going away.

RQ's own scheduler (rq.cron, RQ 3.0) takes no lock: two of them enqueue every periodic job twice. Here each
turn first takes or keeps one lock in Redis (LOCK_KEY, owned by the scheduler's name, expiring after
LOCK_SECONDS): the holder enqueues what is due, every other one stands by and asks again each STEP_SECONDS.
A holder stopped with SIGTERM lets go at once; one killed, or cut off, is replaced once its lock expires.

When Redis cannot be reached (restarted, flushed, the network), a turn fails and the next one a second later
tries again, instead of the process ending: the lock, the registry entry and the jobs' next times are written
afresh once Redis answers. The periodic jobs are safe to repeat, so a take-over that runs one early is harmless.
"""
from __future__ import annotations

import time

import redis
from rq.cron import CronScheduler
from rq.exceptions import StopRequested
from rq.scripts import acquire_or_refresh_lock, release_lock

LOCK_KEY = "broadcaster:cron:active"
LOCK_SECONDS = 10  # a standby takes over at most this long after the active scheduler was killed
STEP_SECONDS = 1.0  # the active one refreshes its lock, and a standby asks for it, this often
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)
ACTIVE = "enqueuing the periodic jobs"  # logged when a scheduler becomes the active one


class SingleCron(CronScheduler):
    """RQ's cron scheduler, active only while it holds LOCK_KEY."""

    active: bool | None = None  # unknown until the first turn, which says which it is
    unreachable = False

    def step(self) -> bool:
        """One turn: take or keep the lock, and if this one holds it, enqueue the jobs that are due. Whether it
        is the active scheduler now."""
        active = acquire_or_refresh_lock(self.connection, LOCK_KEY, self.name, LOCK_SECONDS) != "taken"
        if active != self.active:
            self.log.info("CronScheduler %s: %s", self.name, ACTIVE if active else "standing by (another scheduler runs)")
        self.active = active
        if self.active and self.enqueue_jobs():
            self.save()
        self.heartbeat()
        return self.active

    def run(self) -> None:
        """Turn until SIGTERM or Ctrl-C, through Redis outages; let go of the lock at the end."""
        self.log.info("CronScheduler %s: starting...", self.name)
        self._install_signal_handlers()
        try:
            self.register_birth()
        except UNREACHABLE:
            pass  # the first turn that reaches Redis registers it
        try:
            while True:
                time.sleep(self._turn())
        except (StopRequested, KeyboardInterrupt):
            self.log.info("CronScheduler %s: stopping", self.name)
        finally:
            try:
                release_lock(self.connection, LOCK_KEY, self.name)
                self.register_death()
            except UNREACHABLE:
                pass  # the lock expires by itself

    def _turn(self) -> float:
        """Run one step; the seconds to wait before the next."""
        try:
            active = self.step()
        except UNREACHABLE as exc:
            if not self.unreachable:
                self.log.warning("CronScheduler %s: Redis cannot be reached (%s); trying again every %s s",
                                 self.name, exc, STEP_SECONDS)
            self.unreachable, self.active = True, False
            return STEP_SECONDS
        if self.unreachable:
            self.log.warning("CronScheduler %s: Redis answers again", self.name)
            self.unreachable = False
        return min(self.calculate_sleep_interval(), STEP_SECONDS) if active else STEP_SECONDS


def create(connection: redis.Redis) -> SingleCron:
    """A SingleCron with every job registered through rq.cron.register (jobs/schedule.py), as rq's create_cron."""
    from rq import cron

    scheduler = SingleCron(connection=connection)
    for data in cron._job_data_registry[:]:
        scheduler.register(**data)
    cron._job_data_registry.clear()
    return scheduler
