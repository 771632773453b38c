"""A worker outlives Redis restarting: one that Redis forgot (restarted empty, or from a snapshot older than the worker)
registers itself again at its next heartbeat (webapp/worker.py), so the pages do not say that no worker serves its
queues while it works; and its RQ scheduler, ended by a Redis error, is started again."""
from __future__ import annotations

import pytest
import redis

from webapp.campaigns.workers import unserved
from webapp.queues import queue
from webapp.worker import Worker

pytestmark = pytest.mark.only_on("sqlite")  # Redis only: once is enough


def test_a_worker_forgotten_by_redis_is_registered_again_at_its_next_heartbeat(app):
    app.config["WORKER_CHECK_SECONDS"] = 0  # the pages' answer is not kept between the asks here
    connection: redis.Redis = app.extensions["redis"]
    worker = Worker([queue("control"), queue("dispatch")], connection=connection)
    worker.register_birth()
    worker.heartbeat()
    assert unserved(["sending"]) == {}

    connection.flushall()  # Redis restarted empty
    assert unserved(["sending"]) == {"dispatch": "sending has stopped"}

    worker.heartbeat()
    assert unserved(["sending"]) == {}


def test_a_worker_whose_scheduler_ended_on_a_redis_error_starts_it_again_at_its_next_heartbeat(app):
    """RQ's scheduler child (it enqueues the jobs delayed with enqueue_in) ends on a Redis error; RQ would start it
    again only at its ten-minute maintenance."""
    worker = Worker([queue("control")], connection=app.extensions["redis"])
    worker.register_birth()
    worker._start_scheduler()
    ended = worker.scheduler._process
    try:
        ended.kill()  # as the exception a restarting Redis raises in it
        ended.join()
        worker.heartbeat()
        assert worker.scheduler._process is not ended and worker.scheduler._process.is_alive()
    finally:
        # SIGKILL, not RQ's stop_scheduler(): a SIGTERM that reaches the new child before it has installed its own
        # handler runs a handler it inherited from this test process and is lost, and the join waited for ever
        worker.scheduler._process.kill()
        worker.scheduler._process.join(10)
