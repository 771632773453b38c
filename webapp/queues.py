"""Redis and the RQ queues: `control` (ticks, sweeps; quick), `dispatch` (sending), `default` (imports…)."""
from __future__ import annotations

from flask import current_app
from redis import Redis
from rq import Queue

QUEUES = ("control", "dispatch", "default")


def redis_client() -> Redis:
    return current_app.extensions["redis"]


def queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_client())


def enqueue(func, *args, queue_name: str = "default", **options):
    """Enqueue a job function (an importable function from jobs/) with its id arguments."""
    return queue(queue_name).enqueue(func, *args, **options)
