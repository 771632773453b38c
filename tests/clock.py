"""A clock a test can move: every module of the app reads the time through webapp.timestamps.utcnow, and this
sets that one function, wherever it was imported, to answer the test's time."""
from __future__ import annotations

import sys
from datetime import datetime

from webapp import timestamps


class Clock:
    def __init__(self, monkeypatch, moment: datetime) -> None:
        self.moment = moment
        real = timestamps.utcnow
        for name, module in list(sys.modules.items()):
            if name.split(".")[0] in ("webapp", "jobs") and getattr(module, "utcnow", None) is real:
                monkeypatch.setattr(module, "utcnow", self.now)

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment
