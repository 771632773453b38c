"""`flask worker` and `flask cron`: RQ's worker and RQ's cron scheduler, run inside the app context."""
from __future__ import annotations

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
    worker = Worker(queues, connection=redis_client(), work_horse_killed_handler=jobs.campaigns.work_horse_killed,
                    **WORKER_OPTIONS)  # beats often: pages see a dead one
    spare_loaded_objects()  # and every work-horse forked from here inherits this (webapp/collector.py)
    worker.work(with_scheduler=True, burst=burst, logging_level=current_app.config.get("WORKER_LOG_LEVEL", "INFO"))


@click.command("cron")
@with_appcontext
def cron_command() -> None:
    """Run RQ's cron scheduler: it enqueues the periodic jobs listed in jobs/schedule.py."""
    from rq.cron import create_cron

    import jobs.schedule  # noqa: F401 - registers the periodic jobs

    create_cron(redis_client()).start()
