"""RQ entry points for imports: run one import by id, notice one whose worker died under it, and remove the
upload files no import needs any more."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import current_app
from rq import Callback
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from webapp.contacts import import_run, imports, upload_cleanup
from webapp.extensions import db
from webapp.queues import enqueue, redis_client

JOB_TIMEOUT = 3600  # a million rows take a minute or two; an hour means something is stuck
WORKER_DIED = ("The worker running this import stopped before it finished (it may have been restarted). "
               "Nothing was added to the list; upload the file again.")


def job_id(import_id: int) -> str:
    """One RQ job per import, named after it, so a page can ask RQ how it is doing."""
    return f"import-{import_id}"


def enqueue_import(import_id: int) -> None:
    enqueue(run, import_id, job_id=job_id(import_id), job_timeout=JOB_TIMEOUT,
            on_failure=Callback(worker_failed), failure_ttl=7 * 24 * 3600)


def run(import_id: int) -> dict | None:
    """Run the import; a repeated job for an import that already ran does nothing."""
    record = import_run.run_import(db.session, import_id)
    return imports.report(db.session, record) if record is not None else None


def worker_failed(job: Job, connection, *exc_info) -> None:
    """RQ gave up on the job (a timeout, or a worker found dead): the import says so instead of running forever."""
    db.session.rollback()
    import_run.fail(db.session, job.args[0], WORKER_DIED)


def settle(import_id: int, status: str) -> None:
    """Called while a page watches an unfinished import: mend what Redis lost or RQ gave up on.

    A queued import whose job is gone (Redis restarted or flushed) is queued again; the run's claim
    makes a second job harmless. A running import whose job failed (its work-horse was killed) is
    recorded as failed.
    """
    try:
        job_status = Job.fetch(job_id(import_id), connection=redis_client()).get_status()
    except NoSuchJobError:
        if status == "queued":
            enqueue_import(import_id)
        return
    if job_status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
        import_run.fail(db.session, import_id, WORKER_DIED)


def remove_unneeded_uploads() -> int:
    """Hourly (jobs/schedule.py): how many upload files were removed."""
    config = current_app.config
    return upload_cleanup.remove_unneeded_uploads(db.session, Path(config["UPLOAD_FOLDER"]),
                                                  timedelta(hours=config["UPLOAD_RETENTION_HOURS"]))
