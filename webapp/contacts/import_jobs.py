"""An import's job on the queue: enqueued by dotted name (jobs/ stands above webapp), and mended while a page
watches it when Redis lost it or RQ gave up on it."""
from __future__ import annotations

from rq import Callback
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy.orm import Session

from webapp.contacts import import_run
from webapp.queues import enqueue, redis_client

JOB_TIMEOUT = 3600  # a million rows take a minute or two; an hour means something is stuck
WORKER_DIED = ("The worker running this import stopped before it finished (it may have been restarted). "
               "Nothing was added to the list; upload the file again.")


def job_id(import_id: int) -> str:
    """One RQ job per import, named after it, so a page can ask RQ how it is doing."""
    return f"import-{import_id}"


def enqueue_import(import_id: int) -> None:
    enqueue("jobs.imports.run", import_id, queue_name="imports", job_id=job_id(import_id), job_timeout=JOB_TIMEOUT,
            on_failure=Callback("jobs.imports.worker_failed"), failure_ttl=7 * 24 * 3600)


def settle(session: Session, import_id: int, status: str) -> None:
    """Called while a page watches an unfinished import: mend what Redis lost or RQ gave up on.

    A queued import whose job is gone (Redis restarted or flushed) is queued again; the run's claim
    makes a second job harmless. A running import whose job failed (its work-horse was killed) is
    recorded as failed, or resumed if its merge had begun.
    """
    try:
        job_status = Job.fetch(job_id(import_id), connection=redis_client()).get_status()
    except NoSuchJobError:
        if status == "queued":
            enqueue_import(import_id)
        return
    if job_status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
        worker_died(session, import_id)


def worker_died(session: Session, import_id: int) -> None:
    """The import's job ended without finishing it: failed if its merge had not begun, else resumed."""
    if not import_run.fail(session, import_id, WORKER_DIED) and import_run.resume(session, import_id):
        enqueue_import(import_id)
