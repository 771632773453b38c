"""How many messages per second the sandbox accepts at Meta-like latency, so send benchmarks can show
the sandbox is not their bottleneck.

Starts the sandbox (200 ms latency, throughput and pair limits out of the way, no webhooks), sends
template messages to distinct recipients from many concurrent connections on loopback, and prints
accepted messages per second (median of the runs), the most requests in flight, and the answer time.

    .venv/bin/python bench/sandbox_capacity.py [--messages 4000] [--concurrency 500] [--runs 3]
    .venv/bin/python bench/sandbox_capacity.py --offered-rate 80 --messages 800   # answer times at 80/s
    .venv/bin/python bench/sandbox_capacity.py --webhooks   # the cost of the webhooks that follow each send
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
from aiohttp import web

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


# Short enough that every status and reply of a run is sent before the run is measured.
FAST_EVENTS = {"sent_delay": 0.05, "delivered_delay": 0.1, "read_delay": 0.15, "reply_delay": 0.2,
               "delay_jitter": 0}


async def start_receiver() -> tuple[web.AppRunner, str]:
    """A webhook endpoint on loopback that answers 200 at once, standing in for the app."""
    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.Response()

    app = web.Application()
    app.router.add_post("/webhooks/meta", accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/meta"


async def measured_run(sandbox: SandboxChild, options: argparse.Namespace, run: int) -> tuple[RunResult, dict, float]:
    """One run: its result, the sandbox's stats, and the sandbox's CPU seconds (NaN without /proc)."""
    control_url = f"{sandbox.base_url}/_sandbox"
    receiver = None
    async with aiohttp.ClientSession() as control:
        if options.webhooks:
            receiver, url = await start_receiver()
            async with control.patch(f"{control_url}/config", json={"webhook_url": url, **FAST_EVENTS}) as answer:
                answer.raise_for_status()
        cpu_before = cpu_seconds(sandbox.process.pid)
        result = await asyncio.wait_for(
            one_run(sandbox.base_url, options.messages, options.concurrency, run * options.messages,
                    options.offered_rate),
            options.time_limit)
        if receiver is not None:
            await asyncio.sleep(FAST_EVENTS["reply_delay"] + 0.1)  # the last replies are due by now
            while (stats := await (await control.get(f"{control_url}/stats")).json())["webhooks"]["pending"]:
                await asyncio.sleep(0.1)
        cpu_after = cpu_seconds(sandbox.process.pid)
        stats = await (await control.get(f"{control_url}/stats")).json()
        async with control.post(f"{control_url}/reset", json={}) as answer:
            answer.raise_for_status()
    if receiver is not None:
        await receiver.cleanup()
    cpu = float("nan") if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return result, stats, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=4000, help="messages per run")
    parser.add_argument("--concurrency", type=int, default=500, help="requests in flight at once")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--offered-rate", type=float, default=0.0,
                        help="send at this many messages/s instead of as fast as answers come")
    parser.add_argument("--webhooks", action="store_true",
                        help="also deliver every status and reply to a loopback receiver, and count that work")
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds allowed per run")
    options = parser.parse_args()

    sandbox = SandboxChild("--latency-ms", str(options.latency_ms), "--jitter-ms", "20", "--rate", "1000000",
                           "--pair-interval", "0", "--webhook-url", "")
    try:
        pace = f"paced at {options.offered_rate:.0f}/s" if options.offered_rate else "as fast as answered"
        print(f"sandbox at {sandbox.base_url}; latency {options.latency_ms:.0f} ms; "
              f"{options.messages} messages per run, {options.concurrency} concurrent, {pace}; "
              f"webhooks {'on' if options.webhooks else 'off'}", flush=True)
        results, cpu_per_message = [], []
        for run in range(options.runs):
            result, stats, cpu = asyncio.run(measured_run(sandbox, options, run))
            times = sorted(result.answer_times)
            cpu_per_message.append(cpu / max(result.accepted, 1))
            webhooks = stats["webhooks"]
            print(f"run {run + 1}: {result.per_second:7.0f} accepted/s  ({result.accepted} accepted, "
                  f"{result.refused} refused, {result.seconds:.2f} s); in flight max {result.max_in_flight} "
                  f"(sandbox saw {stats['max_in_flight']}); answer p50 {times[len(times) // 2] * 1000:.0f} ms, "
                  f"p95 {times[int(len(times) * 0.95)] * 1000:.0f} ms; sandbox CPU "
                  f"{cpu_per_message[-1] * 1e6:.0f} us/message"
                  + (f"; {webhooks['delivered']} webhook POSTs" if options.webhooks else ""), flush=True)
            results.append(result)
        print(f"median: {statistics.median(r.per_second for r in results):.0f} accepted messages/s; "
              f"max in flight {max(r.max_in_flight for r in results)}")
        if not options.offered_rate:  # paced runs also count the idle event loop
            per_message = statistics.median(cpu_per_message)
            print(f"sandbox CPU: {per_message * 1e6:.0f} us per accepted message"
                  f"{' and its webhooks' if options.webhooks else ''}, so one core's ceiling is about "
                  f"{1 / per_message:.0f} messages/s")
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
