"""`flask worker` and `flask cron`: RQ's worker and RQ's cron scheduler, run inside the app context."""
from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterable

import click
import rq
from flask import current_app
from flask.cli import with_appcontext
from rq import worker_registration
from rq.exceptions import StopRequested

from webapp.collector import spare_loaded_objects
from webapp.cron import UNREACHABLE
from webapp.queues import QUEUES, WORKER_OPTIONS, queue, redis_client, serve

log = logging.getLogger(__name__)


@click.command("worker")
@click.option("--queues", "names", default=",".join(QUEUES), show_default=True, help="Comma-separated, by priority.")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty (tests, scripts).")
@with_appcontext
def worker_command(names: str, burst: bool) -> None:
    """Run an RQ worker; its forked work-horses inherit this app context."""
    queues = [queue(name.strip()) for name in names.split(",") if name.strip()]
    serve([q.name for q in queues])
    import jobs.campaigns, jobs.imports, jobs.senders  # noqa: E401, F401 - loaded once here, not in each work-horse
    from jobs.schedule import PERIODIC

    logging.getLogger("rq.worker").addFilter(QuietPeriodicJobs(PERIODIC))
    spare_loaded_objects()  # and every work-horse forked from here inherits this (webapp/collector.py)
    while True:
        worker = Worker(queues, connection=redis_client(), work_horse_killed_handler=jobs.campaigns.work_horse_killed,
                        **WORKER_OPTIONS)  # beats often: pages see a dead one
        try:
            worker.work(with_scheduler=True, burst=burst,
                        logging_level=current_app.config.get("WORKER_LOG_LEVEL", "INFO"))
        except UNREACHABLE as exc:  # RQ's own clean-up, on its way out, could not reach Redis either
            log.warning("The worker could not reach Redis on its way out: %s", exc)
        if burst or worker.stopping:
            return
        # RQ's worker retries Redis while it waits for a job, but quits when Redis fails it anywhere else; an
        # exit with status 0 would not even be restarted by systemd (Restart=on-failure). Start a new one.
        log.warning("The worker stopped on an error (above); a new one starts once Redis answers.")
        try:
            _wait_for_redis()
        except StopRequested:  # SIGTERM meanwhile, through the handler the worker installed
            return


def _wait_for_redis() -> None:
    """Return once Redis answers; a second at least, so that an error that persists is not repeated in a tight loop."""
    while True:
        time.sleep(1)
        try:
            redis_client().ping()
            return
        except UNREACHABLE:
            pass


class Worker(rq.Worker):
    """RQ's worker, made to outlive Redis restarting.

    RQ's heartbeat only refreshes the worker's own hash: after Redis restarted empty, or from a snapshot older
    than the worker, the worker would work on while RQ's registry no longer lists it, so pages would say that no
    worker serves its queues (webapp/campaigns/workers.py). And RQ's scheduler (the child that enqueues jobs
    delayed with enqueue_in) ends on a Redis error, and RQ starts it again only at its next maintenance, ten
    minutes later. So each heartbeat (every HEARTBEAT_SECONDS) puts both back.
    """

    @property
    def stopping(self) -> bool:
        """Whether SIGTERM or Ctrl-C asked this worker to stop."""
        return self._shutdown_requested_date is not None

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        super().heartbeat(timeout, pipeline)
        if self.is_horse or self.stopping:
            return
        if not self.connection.sismember(worker_registration.REDIS_WORKER_KEYS, self.key):
            with self.connection.pipeline() as again:
                again.hset(self.key, mapping=self.serialize())
                again.expire(self.key, (timeout or self.worker_ttl) + 60)
                worker_registration.register(self, again)
                again.execute()
            self.log.warning("Worker %s: Redis had lost this worker's registration; registered again", self.name)
        process = self.scheduler and self.scheduler._process
        if process and not process.is_alive():
            self.log.warning("Worker %s: its scheduler had stopped; starting it again", self.name)
            self.scheduler.acquire_locks(auto_start=True)


@click.command("cron")
@with_appcontext
def cron_command() -> None:
    """Run RQ's cron scheduler: it enqueues the periodic jobs listed in jobs/schedule.py. Several may run (one per
    machine): one is active, the others stand by (webapp/cron.py)."""
    from jobs.schedule import PERIODIC  # registers the periodic jobs
    from webapp import cron

    logging.getLogger("rq.cron").addFilter(QuietPeriodicJobs(PERIODIC))
    cron.create(redis_client()).run()


_JOB_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class QuietPeriodicJobs(logging.Filter):
    """Leaves out RQ's INFO lines about the periodic jobs (enqueued, started, completed, OK, result kept): the tick
    runs every 2 s, and a line each time would bury what happened. A periodic job logs what it changes itself, and
    RQ's warnings and errors about it still show.

    RQ names the job in the line that starts it and only its id in the lines that end it, so the ids of the
    periodic jobs just started are remembered (a few: the work-horse that ends a job is forked after it starts).
    """

    def __init__(self, functions: Iterable[Callable]):
        super().__init__()
        functions = tuple(functions)
        self.started = tuple(f"{function.__module__}.{function.__name__}(" for function in functions)
        self.enqueued = tuple(f"Enqueued job {function.__name__} to queue " for function in functions)
        self.job_ids: deque[str] = deque(maxlen=16)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = record.getMessage()
        if message.startswith(self.enqueued):
            return False
        if any(name in message for name in self.started):
            self.job_ids.extend(_JOB_ID.findall(message))
            return False
        return not any(job_id in message for job_id in self.job_ids)
