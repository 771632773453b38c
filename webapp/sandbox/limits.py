"""Meta's sending limits as the sandbox enforces them: a number's throughput in any one-second window
(130429) and the pair rate, one message per recipient per interval (131056). Times are arrival times."""
from __future__ import annotations

import time
from collections import defaultdict, deque
from datetime import datetime, timezone

WINDOW = 1.0  # seconds


class ThroughputLimiter:
    """At most `rate` admitted messages per phone number id in any one-second window (sliding, not
    per calendar second), and a record of the busiest window each number saw."""

    def __init__(self) -> None:
        self._admitted: dict[str, deque[float]] = defaultdict(deque)
        # Every request is counted here, refused or not, so a sender bug shows in the busiest window.
        self._arrived: dict[str, deque[float]] = defaultdict(deque)
        self.busiest: dict[str, dict] = {}

    def admit(self, phone_number_id: str, rate: int, now: float) -> bool:
        arrived = _slide(self._arrived[phone_number_id], now)
        arrived.append(now)
        best = self.busiest.get(phone_number_id)
        if best is None or len(arrived) > best["requests"]:
            self.busiest[phone_number_id] = {"requests": len(arrived), "ended_at": _wall_clock(now)}
        admitted = _slide(self._admitted[phone_number_id], now)
        if len(admitted) >= rate:
            return False
        admitted.append(now)
        return True


class PairLimiter:
    """One message per (sender, recipient) pair per `interval` seconds, counted from the last accepted one."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], float] = {}
        self._order: deque[tuple[float, tuple[str, str]]] = deque()  # to forget pairs in O(1)

    def allows(self, phone_number_id: str, wa_id: str, interval: float, now: float) -> bool:
        self._forget_older_than(now - max(interval, 0.0))
        last = self._last.get((phone_number_id, wa_id))
        return last is None or now - last >= interval

    def record(self, phone_number_id: str, wa_id: str, now: float) -> None:
        self._last[(phone_number_id, wa_id)] = now
        self._order.append((now, (phone_number_id, wa_id)))

    def _forget_older_than(self, horizon: float) -> None:
        while self._order and self._order[0][0] < horizon:
            at, pair = self._order.popleft()
            if self._last.get(pair) == at:
                del self._last[pair]


def _slide(times: deque[float], now: float) -> deque[float]:
    while times and times[0] <= now - WINDOW:
        times.popleft()
    return times


def _wall_clock(monotonic_time: float) -> str:
    wall = time.time() - (time.monotonic() - monotonic_time)
    return datetime.fromtimestamp(wall, timezone.utc).isoformat(timespec="milliseconds")
