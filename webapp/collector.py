"""Python's garbage collector and our long-running processes.

A full collection walks every object the process holds and stops all its threads meanwhile: with the app
loaded (Flask, SQLAlchemy, Jinja, some 100,000 objects) that is tens of milliseconds, now and then. In a
web worker it was the slowest 1 % of webhook answers; in a sender, a send admitted by the limiter reached
Meta that much later, more than the limiter's margin (a 130429 in each 10,000-message benchmark run).
"""
from __future__ import annotations

import gc


def spare_loaded_objects() -> None:
    """Leave what the process holds now out of every later collection (call it once the app is loaded, and
    before forking: children inherit it, and their collections then walk only what they made themselves)."""
    gc.collect()
    gc.freeze()
