"""Group commit for webhook POSTs: the concurrent requests of one process share one store commit and one
apply transaction, so ingest keeps up with Meta's bursts on SQLite's single writer (or few PostgreSQL
round trips). A request is still answered only once its event is committed, and normally applied.

One writer thread per process takes every waiting event, stores them raw in one commit (answering 503
to all, so that Meta retries, if that fails), then applies them together; apply_events falls back to
one at a time when the batch fails, so an error lands on the event that caused it. The thread's life (started
by a POST, ended when idle, one per process, turns between processes on SQLite) is webapp/group_commit.py's.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import Flask, current_app

from webapp import group_commit
from webapp.extensions import db
from webapp.webhooks.services import apply_events, record_events

WAIT = 25.0  # seconds a request waits for its event to be stored and applied; unstored by then, 503
MAX_BATCH = 200
MAX_BATCH_BYTES = 16 * 1024 * 1024
WRITER = "webhook_writer"  # its place in app.extensions


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
    group_commit.stop(app, WRITER)


def _writer(app: Flask) -> Writer:
    """This process's writer for the app (a forked gunicorn worker gets its own)."""
    return group_commit.writer(app, WRITER, lambda: Writer(app))


class Writer(group_commit.BatchWriter):
    thread_name = "webhook-writer"
    max_batch = MAX_BATCH
    max_size = MAX_BATCH_BYTES

    def __init__(self, app: Flask) -> None:
        super().__init__(group_commit.turns_file(app))
        self.app = app

    def size(self, ticket: Ticket) -> int:
        return len(ticket.body)

    def write(self, batch: list[Ticket]) -> None:
        with self.app.app_context(), self.turn():
            try:
                self._process(batch)
            except Exception:  # noqa: BLE001 - the stored events stay `received`: `replay --unfinished`
                self.app.logger.exception("Webhook writer: a batch of %s events was not applied", len(batch))
            finally:
                db.session.remove()  # hold no connection (nor transaction) while idle
                for ticket in batch:
                    ticket.done.set()

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
