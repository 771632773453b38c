"""RQ entry points for imports: run one import by id, record one whose worker died under it, and remove the
upload files no import needs any more (webapp/contacts/import_jobs.py enqueues and mends them)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import current_app
from rq.job import Job

from webapp.contacts import import_jobs, import_run, imports, upload_cleanup
from webapp.extensions import db


def run(import_id: int) -> dict | None:
    """Run the import; a repeated job for an import that already ran does nothing."""
    record = import_run.run_import(db.session, import_id)
    return imports.report(db.session, record) if record is not None else None


def worker_failed(job: Job, connection, *exc_info) -> None:
    """RQ gave up on the job (a timeout, or a worker found dead): the import says so instead of running forever."""
    db.session.rollback()
    import_jobs.worker_died(db.session, job.args[0])


def remove_unneeded_uploads() -> int:
    """Hourly (jobs/schedule.py): how many upload files were removed."""
    config = current_app.config
    return upload_cleanup.remove_unneeded_uploads(db.session, Path(config["UPLOAD_FOLDER"]),
                                                  timedelta(hours=config["UPLOAD_RETENTION_HOURS"]))
