"""How many messages per second the sandbox accepts at Meta-like latency, so send benchmarks can show
the sandbox is not their bottleneck.

Starts the sandbox (200 ms latency, throughput and pair limits out of the way, no webhooks), sends
template messages to distinct recipients from many concurrent connections on loopback, and prints
accepted messages per second (median of the runs), the most requests in flight, and the answer time.

    .venv/bin/python bench/sandbox_capacity.py [--messages 4000] [--concurrency 500] [--runs 3]
    .venv/bin/python bench/sandbox_capacity.py --offered-rate 80 --messages 800   # answer times at 80/s
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from webapp.cloudapi import template_message  # noqa: E402 - after the path fix above
from webapp.sandbox.process import SandboxChild  # noqa: E402

PHONE_NUMBER_ID = "100000000000001"
TOKEN = "sandbox-token"


@dataclass
class RunResult:
    accepted: int
    refused: int
    seconds: float
    max_in_flight: int
    answer_times: list[float]

    @property
    def per_second(self) -> float:
        return self.accepted / self.seconds


async def one_run(base_url: str, messages: int, concurrency: int, first_number: int,
                  offered_rate: float = 0.0) -> RunResult:
    """Send `messages` from `concurrency` connections: as fast as answers come, or paced at `offered_rate`."""
    url = f"{base_url}/v23.0/{PHONE_NUMBER_ID}/messages"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    next_index = iter(range(messages))
    accepted = refused = in_flight = max_in_flight = 0
    answer_times: list[float] = []
    started = time.perf_counter()

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal accepted, refused, in_flight, max_in_flight
        for index in next_index:  # workers share one iterator: each message is sent once
            if offered_rate:
                await asyncio.sleep(max(0.0, started + index / offered_rate - time.perf_counter()))
            body = template_message(f"+5699{first_number + index:07d}", "order_shipped", "en_US",
                                    {"body": ["Camila", f"#{index}", "Friday"]})
            in_flight += 1
            max_in_flight = max(max_in_flight, in_flight)
            sent_at = time.perf_counter()
            async with session.post(url, json=body, headers=headers) as response:
                await response.read()
            answer_times.append(time.perf_counter() - sent_at)
            in_flight -= 1
            accepted += response.status == 200
            refused += response.status != 200

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return RunResult(accepted, refused, seconds, max_in_flight, answer_times)


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used, from /proc; None where there is no /proc.

    Wall-clock rates depend on what else the machine runs; CPU per message does much less.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def reset(base_url: str) -> dict:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base_url}/_sandbox/stats") as response:
            stats = await response.json()
        async with session.post(f"{base_url}/_sandbox/reset") as response:
            await response.read()
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=4000, help="messages per run")
    parser.add_argument("--concurrency", type=int, default=500, help="requests in flight at once")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--offered-rate", type=float, default=0.0,
                        help="send at this many messages/s instead of as fast as answers come")
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds allowed per run")
    options = parser.parse_args()

    sandbox = SandboxChild("--latency-ms", str(options.latency_ms), "--jitter-ms", "20", "--rate", "1000000",
                           "--pair-interval", "0", "--webhook-url", "")
    try:
        pace = f"paced at {options.offered_rate:.0f}/s" if options.offered_rate else "as fast as answered"
        print(f"sandbox at {sandbox.base_url}; latency {options.latency_ms:.0f} ms; "
              f"{options.messages} messages per run, {options.concurrency} concurrent, {pace}", flush=True)
        results, cpu_per_message = [], []
        for run in range(options.runs):
            cpu_before = cpu_seconds(sandbox.process.pid)
            result = asyncio.run(asyncio.wait_for(
                one_run(sandbox.base_url, options.messages, options.concurrency, run * options.messages,
                        options.offered_rate),
                options.time_limit))
            cpu_after = cpu_seconds(sandbox.process.pid)
            stats = asyncio.run(reset(sandbox.base_url))
            times = sorted(result.answer_times)
            cpu = ""
            if cpu_before is not None and cpu_after is not None and result.accepted:
                cpu_per_message.append((cpu_after - cpu_before) / result.accepted)
                cpu = f"; sandbox CPU {cpu_per_message[-1] * 1e6:.0f} us/message"
            print(f"run {run + 1}: {result.per_second:7.0f} accepted/s  ({result.accepted} accepted, "
                  f"{result.refused} refused, {result.seconds:.2f} s); in flight max {result.max_in_flight} "
                  f"(sandbox saw {stats['max_in_flight']}); answer p50 {times[len(times) // 2] * 1000:.0f} ms, "
                  f"p95 {times[int(len(times) * 0.95)] * 1000:.0f} ms{cpu}", flush=True)
            results.append(result)
        print(f"median: {statistics.median(r.per_second for r in results):.0f} accepted messages/s; "
              f"max in flight {max(r.max_in_flight for r in results)}")
        if cpu_per_message and not options.offered_rate:  # paced runs also count the idle loop
            per_message = statistics.median(cpu_per_message)
            print(f"sandbox CPU: {per_message * 1e6:.0f} us per accepted message, so one core's ceiling is "
                  f"about {1 / per_message:.0f} messages/s")
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
