"""Redis and the RQ queues: `control` (ticks, sweeps; quick), `dispatch` (sending), `default` (launches, template
syncs), `imports` (CSV imports: long, so on a queue and a process of their own, never ahead of a launch)."""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

from flask import current_app
from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.timestamps import utcnow

QUEUES = ("control", "dispatch", "default", "imports")
HEARTBEAT_SECONDS = 5  # how often a worker tells RQ's registry it lives, idle or busy (WORKER_OPTIONS)
# RQ's registry keeps a killed worker's record for minutes: one not heard of for this long is counted as gone.
SILENT_SECONDS = 4 * HEARTBEAT_SECONDS
# Idle, RQ's worker beats once per dequeue timeout (its ttl less 15 s); busy, once per monitoring interval.
WORKER_OPTIONS = {"worker_ttl": HEARTBEAT_SECONDS + 15, "job_monitoring_interval": HEARTBEAT_SECONDS}

_served: tuple[str, ...] = ()  # the queues this process's RQ worker (and the work-horses it forks) serves


def redis_client() -> Redis:
    return current_app.extensions["redis"]


def queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_client())


def enqueue(func: str, *args, queue_name: str = "default", **options):
    """Enqueue a job by its dotted name (a function in jobs/, which stands above webapp) with its id arguments."""
    return queue(queue_name).enqueue(func, *args, **options)


def on_commit(session: Session, action: Callable[[], object]) -> None:
    """Run `action` (typically an enqueue) once the caller commits the session's transaction: a job never
    starts before the rows it reads exist, and a rolled-back change starts none. Services register; they
    never commit (docs/architecture.md)."""
    session.info.setdefault(_ON_COMMIT, []).append(action)


_ON_COMMIT = "broadcaster.on_commit"


@event.listens_for(Session, "after_commit")
def _run_on_commit(session: Session) -> None:
    for action in session.info.pop(_ON_COMMIT, []):
        action()


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_ON_COMMIT, None)


def serve(names: list[str]) -> None:
    """Note the queues this process's worker takes jobs from (`flask worker` does, before it forks)."""
    global _served
    _served = tuple(names)


def waiting_jobs(limit: int = 100) -> Iterator[Job]:
    """The jobs that wait for this process's worker, in the order it would take them; none outside a worker."""
    for name in _served:
        yield from (job for job in queue(name).get_jobs(0, limit) if job is not None)


_live_workers: dict[str, tuple[float, Counter]] = {}  # Redis URL -> (when asked, live workers per queue name)


def live_workers() -> Counter:
    """How many live workers serve each queue, from RQ's worker registry; kept WORKER_CHECK_SECONDS, since pages
    that poll ask it every few seconds, and so does the tick for every sending campaign."""
    url, keep = current_app.config["REDIS_URL"], current_app.config["WORKER_CHECK_SECONDS"]
    asked, counted = _live_workers.get(url, (0.0, Counter()))
    if time.monotonic() - asked >= keep:
        heard_since = utcnow() - timedelta(seconds=SILENT_SECONDS)
        counted = Counter(name for worker in Worker.all(connection=redis_client())
                          if worker.last_heartbeat and worker.last_heartbeat > heard_since
                          for name in worker.queue_names())
        _live_workers[url] = (time.monotonic(), counted)
    return counted


def served_queues() -> frozenset[str]:
    """The queues some live worker serves."""
    return frozenset(live_workers())
