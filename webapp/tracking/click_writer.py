"""The click redirect's clicks queued a batch at a time: one INSERT for the clicks a process received in the last few
milliseconds, where each click was one statement (on PostgreSQL a round trip, on SQLite a turn at its one writer).

The front door (webapp/tracking/front.py) hands each person's click to this process's writer thread
(webapp/group_commit.py), which gathers clicks for LINGER seconds and writes them together, and **waits for its
commit before answering the 302**, as it did when it wrote the click itself: a click whose redirect was answered is
in `queued_clicks`, whatever happens to the process afterwards (DESIGN.md: the database is the source of truth).
Not waiting would save the request its wake-up (~0.04 ms of CPU a click measured under gunicorn) and a few
milliseconds, and lose the clicks of the last few milliseconds whenever a process dies or a batch fails:
docs/benchmarks.md, "The click redirect with clicks written a batch at a time", has the figures of both.

A batch is one multi-row INSERT, one statement and so one transaction on both databases: all its clicks are written
or none. When it fails, each of its requests is told so and goes on to Flask's view, which records the click with
the app's own pool (and its pre-ping) as before: no click lost, none written twice. A request whose click has not
been taken by the writer within WAIT seconds (a writer stuck behind a long lock) withdraws it and goes to Flask's
view likewise; a click already taken is waited for, as its statement is running.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from webapp import group_commit

log = logging.getLogger(__name__)
WRITER = "click_writer"  # its place in app.extensions
WAIT = 5.0  # seconds a click waits to be taken by the writer before its request goes to Flask's view instead
LINGER = 0.003  # seconds the writer gathers clicks before their INSERT (batches of ~9 at 1,000 clicks/s a process)
MAX_BATCH = 500  # 1,500 parameters: far below SQLite's 32,766 and PostgreSQL's 65,535
QUEUED, TAKEN, WITHDRAWN, STORED, FAILED = "queued", "taken", "withdrawn", "stored", "failed"


class Click:
    __slots__ = ("row", "done", "state")

    def __init__(self, row: tuple) -> None:
        self.row = row  # link_id, recipient_id, clicked_at
        self.done = threading.Lock()  # held until the writer knows the click's fate: the cheapest wake-up there is
        self.done.acquire()
        self.state = QUEUED


def stop(app: Flask) -> None:
    """End this process's click writer once what it was given is written (nothing if it has none)."""
    group_commit.stop(app, WRITER)


class ClickWriter(group_commit.BatchWriter):
    """Writes the clicks handed to it with `execute(statement, parameters)`, one statement a batch."""

    thread_name = "click-writer"
    max_batch = MAX_BATCH
    linger = LINGER

    def __init__(self, execute: Callable[[str, tuple], None], mark: str, turns: Path | None) -> None:
        super().__init__(turns)
        self.execute = execute
        self.values = f"({mark}, {mark}, {mark})"
        self.statements: dict[int, str] = {}

    def record(self, row: tuple) -> bool:
        """Queue a click and wait for it to be committed with its batch; False when it was not written."""
        click = Click(row)
        self.submit(click)
        if not click.done.acquire(timeout=WAIT):
            with self.lock:
                if click.state is QUEUED:
                    click.state = WITHDRAWN  # the writer will pass it by
                    return False
            click.done.acquire()  # taken: its statement is running
        return click.state is STORED

    def write(self, batch: list[Click]) -> None:
        with self.lock:  # taken here, or withdrawn by its request: never both
            batch = [click for click in batch if click.state is QUEUED]
            for click in batch:
                click.state = TAKEN
        if not batch:
            return
        try:
            with self.turn():
                self.execute(self._statement(len(batch)), tuple(value for click in batch for value in click.row))
            state = STORED
        except Exception:  # noqa: BLE001 - nothing written: each request goes to Flask's view, which writes its click
            log.warning("The click writer could not queue %s clicks; Flask's view records them", len(batch),
                        exc_info=True)
            state = FAILED
        for click in batch:
            click.state = state
            click.done.release()

    def _statement(self, rows: int) -> str:
        found = self.statements.get(rows)
        if found is None:
            found = self.statements[rows] = ("INSERT INTO queued_clicks (link_id, recipient_id, clicked_at) VALUES "
                                             + ", ".join([self.values] * rows))
        return found
