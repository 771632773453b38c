"""Redis and the RQ queues: `control` (ticks, sweeps; quick), `dispatch` (sending), `default` (imports…)."""
from __future__ import annotations

from collections.abc import Iterator

from flask import current_app
from redis import Redis
from rq import Queue
from rq.job import Job

QUEUES = ("control", "dispatch", "default")

_served: tuple[str, ...] = ()  # the queues this process's RQ worker (and the work-horses it forks) serves


def redis_client() -> Redis:
    return current_app.extensions["redis"]


def queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_client())


def enqueue(func, *args, queue_name: str = "default", **options):
    """Enqueue a job function (an importable function from jobs/) with its id arguments."""
    return queue(queue_name).enqueue(func, *args, **options)


def serve(names: list[str]) -> None:
    """Note the queues this process's worker takes jobs from (`flask worker` does, before it forks)."""
    global _served
    _served = tuple(names)


def waiting_jobs(limit: int = 100) -> Iterator[Job]:
    """The jobs that wait for this process's worker, in the order it would take them; none outside a worker."""
    for name in _served:
        yield from (job for job in queue(name).get_jobs(0, limit) if job is not None)
