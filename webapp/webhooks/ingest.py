"""Group commit for webhook POSTs: the concurrent requests of one process share one store commit and one
apply transaction, so ingest keeps up with Meta's bursts on SQLite's single writer (or few PostgreSQL
round trips). A request is still answered only once its event is committed, and normally applied.

One writer thread per process takes every waiting event, stores them raw in one commit (answering 503
to all, so that Meta retries, if that fails), then applies them together; apply_events falls back to
one at a time when the batch fails, so an error lands on the event that caused it.

On SQLite the writers of an instance's processes take turns through a file lock: the kernel wakes the
next one the moment the lock is free, where SQLite's own busy handler would sleep in steps of up to
100 ms (which made the p99 latency with two gunicorn workers six times that with one).
"""
from __future__ import annotations

import fcntl
import os
import queue
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app

from webapp.extensions import db
from webapp.webhooks.services import apply_events, record_events

WAIT = 25.0  # seconds a request waits for its event to be stored and applied; unstored by then, 503
IDLE_EXIT = 5.0  # the writer thread ends after this long without work; the next POST starts another
MAX_BATCH = 200
MAX_BATCH_BYTES = 16 * 1024 * 1024

_create_lock = threading.Lock()
STOP = object()  # queued by Writer.stop(): the thread ends after the batch it is in


@dataclass
class Ticket:
    body: bytes
    payload: dict
    done: threading.Event = field(default_factory=threading.Event)  # applied, or given up on
    event_id: int | None = None  # set once the event is stored (committed)


def receive(body: bytes, payload: dict) -> bool:
    """Store and apply one verified POST with whatever else arrives meanwhile; False if it was not stored."""
    ticket = Ticket(body, payload)
    # A waiting request must hold no pooled connection: the writer needs one. remove(), not close(): a POST has
    # usually opened no session, and close() would build one to close it.
    db.session.remove()
    _writer(current_app._get_current_object()).submit(ticket)
    ticket.done.wait(WAIT)
    return ticket.event_id is not None  # stored: applied, or kept `received`/`failed` for a replay


def stop(app: Flask) -> None:
    """End this process's writer once what it was given is applied (nothing if it has none)."""
    writer = app.extensions.get("webhook_writer")
    if writer is not None and writer.pid == os.getpid():
        writer.stop()


def _writer(app: Flask) -> Writer:
    """This process's writer for the app (a forked gunicorn worker gets its own)."""
    writer = app.extensions.get("webhook_writer")
    if writer is None or writer.pid != os.getpid():
        with _create_lock:
            writer = app.extensions.get("webhook_writer")
            if writer is None or writer.pid != os.getpid():
                writer = app.extensions["webhook_writer"] = Writer(app)
    return writer


class Writer:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.pid = os.getpid()
        self.queue: queue.SimpleQueue[Ticket] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        on_sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
        self.turns = Path(app.instance_path) / "webhook-writer.lock" if on_sqlite else None

    def submit(self, ticket: Ticket) -> None:
        self.queue.put(ticket)
        with self.lock:  # after the put: a writer that just found the queue empty has cleared self.thread
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="webhook-writer", daemon=True)
                self.thread.start()

    def stop(self) -> None:
        """Apply what is queued, then end the thread: for whoever takes the database away next (a test's teardown
        empties the tables once the batch being applied has committed)."""
        with self.lock:
            thread = self.thread
        if thread is not None:
            self.queue.put(STOP)
            thread.join()

    def _run(self) -> None:
        while True:
            try:
                first = self.queue.get(timeout=IDLE_EXIT)
            except queue.Empty:
                with self.lock:
                    if self.queue.empty():
                        self.thread = None
                        return
                continue
            batch = self._gathered(first)
            if batch[-1] is STOP:
                if batch[:-1]:
                    self._apply(batch[:-1])
                with self.lock:
                    self.thread = None
                return
            self._apply(batch)

    def _gathered(self, first) -> list:
        """The first ticket and what else is queued, up to a batch's size (or up to a STOP, last)."""
        batch, size = [first], 0 if first is STOP else len(first.body)
        while batch[-1] is not STOP and len(batch) < MAX_BATCH and size < MAX_BATCH_BYTES:
            try:
                batch.append(self.queue.get_nowait())
            except queue.Empty:
                break
            size += 0 if batch[-1] is STOP else len(batch[-1].body)
        return batch

    def _apply(self, batch: list[Ticket]) -> None:
        with self.app.app_context(), self._turn():
            try:
                self._process(batch)
            except Exception:  # noqa: BLE001 - the stored events stay `received`: `replay --unfinished`
                self.app.logger.exception("Webhook writer: a batch of %s events was not applied", len(batch))
            finally:
                db.session.remove()  # hold no connection (nor transaction) while idle
                for ticket in batch:
                    ticket.done.set()

    @contextmanager
    def _turn(self):
        """This process's turn to write, among the instance's processes (SQLite only)."""
        if self.turns is None:
            yield
            return
        with self.turns.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _process(self, batch: list[Ticket]) -> None:
        try:
            ids = record_events(db.session, [ticket.body for ticket in batch])
        except Exception:  # noqa: BLE001 - not stored: every request of the batch answers 503, Meta retries
            db.session.rollback()
            self.app.logger.exception("Webhook writer: %s events could not be stored", len(batch))
            return
        for ticket, event_id in zip(batch, ids):
            ticket.event_id = event_id
        apply_events(db.session, [(ticket.event_id, ticket.payload) for ticket in batch])
