"""RQ entry points for imports: run one import by id, record one whose worker died under it, and remove the
upload files no import needs any more (webapp/contacts/import_jobs.py enqueues and mends them)."""
from __future__ import annotations

import os
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from flask import current_app
from rq.job import Job

from webapp.contacts import import_jobs, import_run, imports, upload_cleanup
from webapp.extensions import db


def run(import_id: int) -> dict | None:
    """Run the import, within IMPORT_MEMORY_MB more memory; a repeated job for an import that already ran does
    nothing."""
    with memory_cap(current_app.config["IMPORT_MEMORY_MB"]):
        record = import_run.run_import(db.session, import_id)
    return imports.report(db.session, record) if record is not None else None


@contextmanager
def memory_cap(megabytes: int) -> Iterator[None]:
    """At most `megabytes` more address space while the block runs, then the limit as it was.

    The readers are bounded already; this is the backstop that turns a file they did not foresee into a
    MemoryError the import records, in the work-horse RQ forked for the job, instead of a machine out of memory.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as statm:  # the address space in use, in pages
        in_use = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    cap = in_use + megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def worker_failed(job: Job, connection, *exc_info) -> None:
    """RQ gave up on the job (a timeout, or a worker found dead): the import says so instead of running forever."""
    db.session.rollback()
    import_jobs.worker_died(db.session, job.args[0])


def remove_unneeded_uploads() -> int:
    """Hourly (jobs/schedule.py): how many upload files were removed."""
    config = current_app.config
    return upload_cleanup.remove_unneeded_uploads(db.session, Path(config["UPLOAD_FOLDER"]),
                                                  timedelta(hours=config["UPLOAD_RETENTION_HOURS"]))
