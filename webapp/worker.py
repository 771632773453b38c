"""`flask worker` and `flask cron`: RQ's worker and RQ's cron scheduler, run inside the app context."""
from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable, Iterable

import click
from flask import current_app
from flask.cli import with_appcontext
from rq import Worker

from webapp.collector import spare_loaded_objects
from webapp.queues import QUEUES, WORKER_OPTIONS, queue, redis_client, serve


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
    worker = Worker(queues, connection=redis_client(), work_horse_killed_handler=jobs.campaigns.work_horse_killed,
                    **WORKER_OPTIONS)  # beats often: pages see a dead one
    spare_loaded_objects()  # and every work-horse forked from here inherits this (webapp/collector.py)
    worker.work(with_scheduler=True, burst=burst, logging_level=current_app.config.get("WORKER_LOG_LEVEL", "INFO"))


@click.command("cron")
@with_appcontext
def cron_command() -> None:
    """Run RQ's cron scheduler: it enqueues the periodic jobs listed in jobs/schedule.py."""
    from rq.cron import create_cron

    from jobs.schedule import PERIODIC  # registers the periodic jobs

    logging.getLogger("rq.cron").addFilter(QuietPeriodicJobs(PERIODIC))
    create_cron(redis_client()).start()


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
