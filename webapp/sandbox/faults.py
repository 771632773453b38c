"""Faults a test switches on over HTTP (`POST /_sandbox/faults`): error answers, requests that hang
past the client's timeout, dropped connections; for the next N requests or for a span of seconds."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

# Which Graph requests a fault hits: sends, the template list, media uploads and reads (GET, DELETE), the
# download of a media URL, or any.
ENDPOINTS = ("messages", "templates", "media", "media_download", "any")


@dataclass
class Fault:
    kind: str                      # "error", "timeout" or "disconnect"
    endpoint: str = "messages"     # which Graph requests it hits (ENDPOINTS)
    status: int = 500              # HTTP status of an error answer
    code: int = 131000             # Meta code in that answer's envelope
    seconds: float = 0.0           # how long a timeout hangs before answering
    accept: bool = False           # process the message anyway, so only the answer is lost
    remaining: int | None = None   # requests left to hit; None: until `until`
    until: float | None = None     # monotonic deadline; None: until `remaining` runs out
    served: int = 0

    def as_json(self) -> dict:
        data = asdict(self)
        data["seconds_left"] = None if self.until is None else max(0.0, round(self.until - time.monotonic(), 3))
        del data["until"]
        return data


def parse_fault(spec: Any) -> Fault:
    """A fault from its JSON spec, e.g. {"status": 500, "count": 3} or {"timeout": true, "seconds": 5}."""
    if not isinstance(spec, dict):
        raise ValueError("a fault is a JSON object")
    unknown = set(spec) - {"status", "code", "timeout", "disconnect", "seconds", "count", "for_seconds",
                           "endpoint", "accept"}
    if unknown:
        raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    if spec.get("timeout") and spec.get("disconnect"):
        raise ValueError("a fault is a timeout or a disconnect, not both")
    kind = "timeout" if spec.get("timeout") else "disconnect" if spec.get("disconnect") else "error"
    fault = Fault(kind, endpoint=spec.get("endpoint", "messages"), accept=bool(spec.get("accept", False)))
    if fault.endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint must be one of {', '.join(ENDPOINTS)}")
    if kind == "error":
        fault.status = int(spec.get("status", 500))
        if not 400 <= fault.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        fault.code = int(spec.get("code", 131000))
    if kind == "timeout":
        fault.seconds = float(spec.get("seconds", 30))
    if "count" in spec:
        fault.remaining = int(spec["count"])
        if fault.remaining < 1:
            raise ValueError("count must be at least 1")
    if "for_seconds" in spec:
        fault.until = time.monotonic() + float(spec["for_seconds"])
    if fault.remaining is None and fault.until is None:
        fault.remaining = 1
    return fault


class FaultInjector:
    """Active faults, first added first served; a request takes at most one."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear(self) -> None:
        self.faults.clear()

    def take(self, endpoint: str) -> Fault | None:
        now = time.monotonic()
        self.faults = [f for f in self.faults if f.until is None or f.until > now]
        for fault in self.faults:
            if fault.endpoint in (endpoint, "any"):
                fault.served += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                return fault
        return None
