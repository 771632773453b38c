"""A load client for GET requests over HTTP/1.1 keep-alive, cheap enough to share two cores with the server it measures.

Two ways to load a server:

- **closed loop** (`rate=0`): each connection sends its next request when the last one is answered, so the server is
  kept saturated and the figure is its capacity; a request's latency is counted from its send.
- **open loop** (`rate` > 0): requests are due on a fixed schedule, `rate` a second, whatever the server does. A due
  request goes out on the first free connection (or waits for one), and its latency is counted from the moment it
  was *due*: a server that stalls makes every request scheduled meanwhile late, rather than silently lowering the
  offered load (no coordinated omission).

aiohttp cost 0.25–0.3 ms of CPU a request here, a sixth of what 2,000 requests a second on two cores leave each
request; this asyncio protocol writes prepared bytes and reads only the status line and Content-Length.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from dataclasses import dataclass, field


@dataclass
class Load:
    """What a load run measured."""
    requests: int
    seconds: float                     # from the first due (or sent) request to the last answer
    latencies: list[float]             # seconds, one per answered request
    problems: Counter = field(default_factory=Counter)
    waited: int = 0                    # open loop: requests that found no free connection when due
    late_sends: float = 0.0            # open loop: the most a request left after it was due, seconds
    server_cpu: float = 0.0            # seconds, filled in by the caller, who knows the server's processes
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """Milliseconds."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else float("nan")


def request_bytes(host: str, path: str, agent: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {agent}\r\nAccept: */*\r\n\r\n".encode()


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request at a time (no pipelining: browsers and WhatsApp's fetcher don't)."""

    def __init__(self, run: _Run):
        self.run = run
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.due = 0.0                  # when the request in flight was due; 0: none in flight
        self.status = 0
        self.end = -1                   # where the answer in the buffer ends; -1: its head is not complete

    def connection_made(self, transport) -> None:
        self.transport = transport

    def send(self, request: bytes, due: float) -> None:
        self.due = due
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.end < 0:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self.buffer[:head_end]).lower()
            self.status = int(head[9:12])
            at = head.find(b"\r\ncontent-length:")
            if at < 0:
                self.run.problems["an answer without Content-Length"] += 1
                self.transport.close()
                return
            line_end = head.find(b"\r\n", at + 2)
            self.end = head_end + 4 + int(head[at + 17:line_end if line_end > 0 else None])
        if len(self.buffer) >= self.end:
            del self.buffer[:self.end]
            self.end, due, self.due = -1, self.due, 0.0
            self.run.answered(self, self.status, due)

    def connection_lost(self, exc) -> None:
        self.run.lost(self)


class _Run:
    def __init__(self, host: str, port: int, requests: list[bytes], expected: int, rate: float):
        self.host, self.port, self.expected, self.rate = host, port, expected, rate
        self.requests = requests
        self.next = 0                                       # the next request to send
        self.free: deque[_Connection] = deque()             # FIFO: every connection stays warm (keep-alive timeout)
        self.waiting: deque[tuple[bytes, float]] = deque()  # open loop: due, no free connection yet
        self.latencies: list[float] = []
        self.problems: Counter = Counter()
        self.done = asyncio.get_running_loop().create_future()
        self.last_answer = 0.0
        self.waited = 0
        self.late = 0.0

    async def connect(self) -> None:
        _, connection = await asyncio.get_running_loop().create_connection(
            lambda: _Connection(self), self.host, self.port)
        self.free.append(connection)

    def answered(self, connection: _Connection, status: int, due: float) -> None:
        now = time.perf_counter()
        self.latencies.append(now - due)
        self.last_answer = now
        if status != self.expected:
            self.problems[f"HTTP {status}"] += 1
        self._settled()
        self._give_work(connection, now)

    def lost(self, connection: _Connection) -> None:
        """The server closed a connection: a request in flight on it failed; another connection takes its place."""
        if connection in self.free:
            self.free.remove(connection)
        if connection.due:
            self.problems["a connection closed with a request in flight"] += 1
            self.latencies.append(time.perf_counter() - connection.due)
            self._settled()
        if not self.done.done():
            asyncio.get_running_loop().create_task(self._replace())

    async def _replace(self) -> None:
        await self.connect()
        self._give_work(self.free.pop(), time.perf_counter())

    def _settled(self) -> None:
        if len(self.latencies) == len(self.requests) and not self.done.done():
            self.done.set_result(None)

    def _give_work(self, connection: _Connection, now: float) -> None:
        if self.waiting:
            request, due = self.waiting.popleft()
            self._send(connection, request, due, now)
        elif not self.rate and self.next < len(self.requests):
            self.next += 1
            connection.send(self.requests[self.next - 1], now)
        else:
            self.free.append(connection)

    def _send(self, connection: _Connection, request: bytes, due: float, now: float) -> None:
        self.late = max(self.late, now - due)
        connection.send(request, due)

    def release_due(self, started: float) -> float:
        """Open loop: send (or queue) every request due by now; the time the next one is due."""
        now = time.perf_counter()
        while self.next < len(self.requests):
            due = started + self.next / self.rate
            if due > now:
                return due
            request = self.requests[self.next]
            self.next += 1
            if self.free:
                self._send(self.free.popleft(), request, due, now)
            else:
                self.waited += 1
                self.waiting.append((request, due))
        return 0.0


async def _load(host: str, port: int, requests: list[bytes], expected: int, connections: int, rate: float,
                timeout: float) -> Load:
    run = _Run(host, port, requests, expected, rate)
    await asyncio.gather(*(run.connect() for _ in range(connections)))  # connected before the clock starts
    started = time.perf_counter()
    if rate:
        while (next_due := run.release_due(started)):
            await asyncio.sleep(next_due - time.perf_counter())
    else:
        while run.free and run.next < len(requests):
            run.next += 1
            run.free.popleft().send(requests[run.next - 1], time.perf_counter())
    try:
        await asyncio.wait_for(asyncio.shield(run.done), timeout)
    except TimeoutError:
        missing = len(requests) - len(run.latencies)
        run.problems[f"{missing} requests unanswered after {timeout:.0f} s"] += 1
    for connection in [*run.free]:
        connection.transport.close()
    seconds = (run.last_answer or time.perf_counter()) - started
    return Load(len(requests), seconds, run.latencies, run.problems, run.waited, run.late)


def load(base_url: str, requests: list[bytes], expected: int, connections: int, rate: float = 0.0,
         timeout: float = 120.0) -> Load:
    """Send every prepared request (see `request_bytes`) to base_url ("http://host:port"); each answer should have
    status `expected`. rate 0: closed loop over `connections`; rate > 0: open loop at that many a second."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    return asyncio.run(_load(host, int(port), requests, expected, connections, rate, timeout))
