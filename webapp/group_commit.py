"""Group commit: one writer thread per process writes what the request threads hand it, a batch at a time.

Concurrent requests that each need a write share one commit: while a batch is written, the next requests queue,
and the writer takes them all at once. The webhook POSTs (webapp/webhooks/ingest.py) and the click redirect's
clicks (webapp/tracking/click_writer.py) each have a writer of this kind; what a batch is and how it is written is
theirs, the thread's life is here:

- started by the first item handed to it, ended after IDLE_EXIT seconds without work (the next item starts another);
- a batch is what was queued when the writer got to it, or, with a `linger`, a few milliseconds more: one wake-up
  of the writer for many items when each request's write is small (the redirect's clicks);
- one per process: a forked process (a gunicorn worker) makes its own, as a thread does not survive a fork;
- stopped on demand once what it was given is written (a test's teardown, before it empties the tables);
- on SQLite, the writers of an instance's processes take turns through a file lock: the kernel wakes the next one
  the moment the lock is free, where SQLite's own busy handler sleeps in steps of up to 100 ms (which made the
  p99 latency of webhooks with two gunicorn workers six times that with one).
"""
from __future__ import annotations

import fcntl
import os
import queue
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from flask import Flask

IDLE_EXIT = 5.0  # the writer thread ends after this long without work; the next item starts another
STOP = object()  # queued by BatchWriter.stop(): the thread ends after the batch it is in
TURNS = "sqlite-writers.lock"  # in the instance folder: one turn for every writer of the instance, whatever it writes

_create_lock = threading.Lock()
W = TypeVar("W", bound="BatchWriter")


def writer(app: Flask, name: str, make: Callable[[], W]) -> W:
    """This process's writer `name` for the app, made by `make` the first time (a forked process makes its own)."""
    found = app.extensions.get(name)
    if found is None or found.pid != os.getpid():
        with _create_lock:
            found = app.extensions.get(name)
            if found is None or found.pid != os.getpid():
                found = app.extensions[name] = make()
    return found


def stop(app: Flask, name: str) -> None:
    """End this process's writer `name` once what it was given is written (nothing if it has none)."""
    found = app.extensions.get(name)
    if found is not None and found.pid == os.getpid():
        found.stop()


def turns_file(app: Flask) -> Path | None:
    """Where the instance's writers take turns: SQLite has one writer; PostgreSQL needs no turns."""
    on_sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    return Path(app.instance_path) / TURNS if on_sqlite else None


class BatchWriter:
    """The thread, its queue and its turns. A subclass writes a batch (`write`), and may bound a batch's size."""

    thread_name = "batch-writer"
    max_batch = 200
    max_size = 0  # with size(): the most a batch may hold in all (0: no bound but max_batch)
    linger = 0.0  # seconds the writer waits, once handed an item, for more to come before it writes them

    def __init__(self, turns: Path | None) -> None:
        self.pid = os.getpid()
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.turns = turns
        self._turns_handle = None  # the turns' file, opened once: opening it cost as much as a click's INSERT

    def write(self, batch: list) -> None:
        """Write the batch, and let each of its requests know how it went, whatever happens."""
        raise NotImplementedError

    def size(self, item) -> int:
        return 0

    def submit(self, item) -> None:
        self.queue.put(item)
        with self.lock:  # after the put: a writer that just found the queue empty has cleared self.thread
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
                self.thread.start()

    def stop(self) -> None:
        """Write what is queued, then end the thread: for whoever takes the database away next (a test's teardown
        empties the tables once the batch being written has committed)."""
        with self.lock:
            thread = self.thread
        if thread is not None:
            self.queue.put(STOP)
            thread.join()

    @contextmanager
    def turn(self):
        """This process's turn to write, among the instance's processes (SQLite only)."""
        if self.turns is None:
            yield
            return
        if self._turns_handle is None:
            self._turns_handle = self.turns.open("a")
        fcntl.flock(self._turns_handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._turns_handle, fcntl.LOCK_UN)

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
            if self.linger and first is not STOP:
                time.sleep(self.linger)  # one wake-up for the items of the next few milliseconds, not one each
            batch = self._gathered(first)
            if batch[-1] is STOP:
                if batch[:-1]:
                    self.write(batch[:-1])
                with self.lock:
                    self.thread = None
                return
            self.write(batch)

    def _gathered(self, first) -> list:
        """The first item and what else is queued, up to a batch's size (or up to a STOP, last)."""
        batch, size = [first], 0 if first is STOP else self.size(first)
        while batch[-1] is not STOP and len(batch) < self.max_batch and not (self.max_size and size >= self.max_size):
            try:
                batch.append(self.queue.get_nowait())
            except queue.Empty:
                break
            size += 0 if batch[-1] is STOP else self.size(batch[-1])
        return batch
