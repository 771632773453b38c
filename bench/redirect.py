"""How many tracked-link redirects (/r/<code>) per second the app answers under gunicorn, with a baseline.

Starts the app under gunicorn as the Procfile does (2 workers × 32 threads, gunicorn.conf.py) on a fresh SQLite
(WAL) database, or a throwaway PostgreSQL, with a private Redis; seeds one campaign of `--rows` recipients with a
tracked link; then, in the same run and from the same concurrent keep-alive clients on loopback, requests:

  baseline  GET /healthz                        the cheapest answer the app gives (no database)
  previews  GET /r/<code> as WhatsApp's fetcher  one indexed lookup, a 302, nothing written
  clicks    GET /r/<code> as a phone's browser   the lookup, the click queued (first and repeat clicks), a 302

then counts the queued clicks as the worker's job does (jobs/clicks.py), in this process, and prints its CPU per
click too. The redirects are answered by the front door (webapp/tracking/front.py) before Flask.

Prints requests per second, p50/p99 latency and CPU per request (server and client apart: on a shared machine,
others' work lowers the rate, not the CPU each request needs), and checks that every click was counted once and
no preview was: the link's clicks equal the click requests, the "clicked" counter equals a recount.

    .venv/bin/python bench/redirect.py                         # 3 runs of 6,000 requests per kind, 64 clients
    .venv/bin/python bench/redirect.py --database postgresql   # the production path
    .venv/bin/python bench/redirect.py --requests 2000 --runs 1
    .venv/bin/python bench/redirect.py --own-urls     # the link opens each recipient's own address: one lookup more
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from bench.webhook_ingest import Run, cpu_seconds, start_gunicorn  # noqa: E402 - after the path fix above
from tests.services import ThrowawayPostgres  # noqa: E402
from webapp import private_redis  # noqa: E402

GOAL_RATE, GOAL_P99_MS = 2000, 50
PHONE = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36"
WHATSAPP = "WhatsApp/2.23.20.0 A"
DESTINATION = "https://shop.example.com/new-arrivals?utm_source=whatsapp"


def seed(app, rows: int, own_urls: bool = False) -> tuple[int, list[str]]:
    """A sent campaign of `rows` recipients and one tracked link; each recipient's code."""
    from sqlalchemy import insert, select

    from webapp.campaigns.lifecycle import add_counts
    from webapp.campaigns.links import code_for
    from webapp.campaigns.models import Campaign, Recipient, TrackedLink
    from webapp.extensions import db
    from webapp.senders.models import Sender

    with app.app_context():
        sender = Sender(label="Bench", phone_number_id="100000000000001", waba_id="200000000000001",
                        access_token="x")
        campaign = Campaign(name="Bench", sender=sender, status="sent", template_name="bench")
        db.session.add(campaign)
        db.session.flush()
        db.session.execute(insert(Recipient), [
            {"campaign_id": campaign.id, "phone": f"+1555{i:07d}", "status": "delivered", "reached": 3,
             "params": {"body": ["Ana", DESTINATION]}} for i in range(rows)])
        add_counts(db.session, campaign.id, {"total": rows, "delivered": rows, "sent": rows, "accepted": rows})
        link = TrackedLink(campaign_id=campaign.id, slot="body:2", path=["body", 1], url="" if own_urls else DESTINATION)
        db.session.add(link)
        db.session.commit()
        ids = db.session.scalars(select(Recipient.id).where(Recipient.campaign_id == campaign.id)).all()
        return campaign.id, [code_for(link.id, recipient_id) for recipient_id in ids]


async def get_all(urls: list[str], agent: str, concurrency: int, expected: int) -> Run:
    """GET every URL (redirects not followed) from `concurrency` keep-alive clients, as fast as answers come."""
    latencies: list[float] = []
    problems: list[str] = []
    queue = iter(urls)

    async def client(session: aiohttp.ClientSession) -> None:
        for url in queue:  # clients share one iterator: each URL is asked once
            began = time.perf_counter()
            async with session.get(url, allow_redirects=False, headers={"User-Agent": agent}) as response:
                await response.read()
                if response.status != expected:
                    problems.append(f"HTTP {response.status}")
            latencies.append(time.perf_counter() - began)

    connector = aiohttp.TCPConnector(limit=concurrency)
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return Run(len(urls), seconds, latencies, problems)


def count_queued(app) -> tuple[int, float]:
    """The queued clicks counted as the worker's job counts them: how many, and the CPU it took (this process's,
    the database's too on SQLite)."""
    from jobs.clicks import count

    with app.app_context():
        began = time.process_time()
        counted = count()
        return counted, time.process_time() - began


def check(app, campaign_id: int, clicks: int) -> list[str]:
    """Every click counted once, no preview counted, the clicked counter equal to a recount."""
    from sqlalchemy import func, select

    from webapp.campaigns.lifecycle import counts, recount
    from webapp.campaigns.models import LinkClick
    from webapp.extensions import db

    with app.app_context():
        counted = db.session.scalar(select(func.coalesce(func.sum(LinkClick.clicks), 0))) or 0
        problems = [] if counted == clicks else [f"{counted} clicks counted of {clicks}"]
        if counts(db.session, campaign_id)["clicked"] != recount(db.session, campaign_id)["clicked"]:
            problems.append("the clicked counter differs from a recount")
        return problems


def http_parser() -> str:
    """Which HTTP parser gunicorn uses: gunicorn_h1c's (C, `pip install gunicorn[fast]`) when importable."""
    return "C" if importlib.util.find_spec("gunicorn_h1c") else "Python"


def measure(base_url: str, server_pid: int, urls: list[str], agent: str, concurrency: int, expected: int) -> Run:
    server_before, client_before = cpu_seconds(server_pid), time.process_time()
    run = asyncio.run(get_all(urls, agent, concurrency, expected))
    run.server_cpu = cpu_seconds(server_pid) - server_before
    run.client_cpu = time.process_time() - client_before
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10000, help="recipients of the campaign (codes to click)")
    parser.add_argument("--requests", type=int, default=6000, help="requests of each kind per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent keep-alive clients")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--own-urls", action="store_true", help="the link opens each recipient's own address")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="broadcaster-redirect-bench-"))
    redis_url, redis_process = private_redis.start(folder / "redis")
    postgres = ThrowawayPostgres() if args.database == "postgresql" else None
    database_url = postgres.start() if postgres else f"sqlite:///{folder / 'bench.db'}"
    os.environ["INSTANCE_PATH"] = str(folder)
    from flask_migrate import upgrade

    from webapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(folder),
                      "SANDBOX_ENABLED": False, "SECRET_KEY": "bench"})  # gunicorn's SECRET_KEY: the codes hold
    kinds = {"baseline": [], "previews": [], "clicks": []}
    clicks, server, counting = 0, None, []
    try:  # whatever fails, the servers this started stop
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
        campaign_id, codes = seed(app, args.rows, args.own_urls)
        server, base_url = start_gunicorn(folder, database_url, redis_url, args.workers, args.threads)
        for number in range(1, args.runs + 1):
            chosen = random.Random(number).choices(codes, k=args.requests)  # first clicks and repeat clicks
            runs = {"baseline": measure(base_url, server.pid, [f"{base_url}/healthz"] * args.requests, PHONE,
                                        args.concurrency, 200),
                    "previews": measure(base_url, server.pid, [f"{base_url}/r/{code}" for code in chosen], WHATSAPP,
                                        args.concurrency, 302),
                    "clicks": measure(base_url, server.pid, [f"{base_url}/r/{code}" for code in chosen], PHONE,
                                      args.concurrency, 302)}
            clicks += args.requests
            counted, counting_cpu = count_queued(app)
            counting.append(counting_cpu / max(counted, 1))
            if counted != args.requests:
                runs["clicks"].problems.append(f"{counted} queued clicks counted of {args.requests}")
            runs["clicks"].problems += check(app, campaign_id, clicks)
            for kind, run in runs.items():
                kinds[kind].append(run)
                print(f"run {number} {kind:8}: {run.rate:,.0f} req/s, p50 {run.percentile(0.5):.1f} ms, "
                      f"p99 {run.percentile(0.99):.1f} ms, CPU per request: server "
                      f"{run.server_cpu / run.events * 1000:.2f} ms, client {run.client_cpu / run.events * 1000:.2f} ms"
                      f"{'; ' + '; '.join(run.problems[:3]) if run.problems else ''}")
            print(f"run {number} counting the queued clicks (jobs/clicks.py): {counting[-1] * 1000:.2f} ms CPU a click")
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        if redis_process is not None:
            private_redis.stop(redis_process)
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\nmedian of {args.runs} runs ({args.requests:,} requests of each kind, {args.concurrency} clients, "
          f"gunicorn {args.workers}×{args.threads} ({http_parser()} HTTP parser), {os.cpu_count()} CPUs, "
          f"{'PostgreSQL' if postgres else 'SQLite WAL'}{', own URLs' if args.own_urls else ''}, "
          f"load average now {os.getloadavg()[0]:.1f}):")
    for kind, runs in kinds.items():
        rate = statistics.median(r.rate for r in runs)
        p99 = statistics.median(r.percentile(0.99) for r in runs)
        server_ms = statistics.median(r.server_cpu / r.events * 1000 for r in runs)
        client_ms = statistics.median(r.client_cpu / r.events * 1000 for r in runs)
        print(f"  {kind:8} {rate:,.0f} req/s ({rate / GOAL_RATE:.2f}× the {GOAL_RATE:,}/s goal), "
              f"p50 {statistics.median(r.percentile(0.5) for r in runs):.1f} ms, p99 {p99:.1f} ms "
              f"({p99 / GOAL_P99_MS:.2f}× the {GOAL_P99_MS} ms limit); CPU per request: server {server_ms:.2f} ms "
              f"+ client {client_ms:.2f} ms → {os.cpu_count() * 1000 / (server_ms + client_ms):,.0f} req/s on "
              f"{os.cpu_count()} idle CPUs")
    if counting:
        print(f"  counting the queued clicks afterwards (the worker's job): {statistics.median(counting) * 1000:.2f} ms "
              "CPU a click, off the request's path")
    return 0 if not any(r.problems for runs in kinds.values() for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
