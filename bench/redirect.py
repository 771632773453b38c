"""How many tracked-link redirects (/r/<code>) per second the app answers under gunicorn, with a baseline.

Starts the app under gunicorn as the Procfile does (2 workers × 16 threads, gunicorn.conf.py) on a fresh SQLite
(WAL) database, or a throwaway PostgreSQL, with a private Redis; seeds one campaign of `--rows` recipients with a
tracked link; then, in the same run and from the same concurrent keep-alive clients on loopback, requests:

  baseline  GET /healthz                        the cheapest answer the app gives (no database)
  previews  GET /r/<code> as WhatsApp's fetcher  one indexed lookup, a 302, nothing written
  clicks    GET /r/<code> as a phone's browser   the lookup, the click queued (first and repeat clicks), a 302

then counts the queued clicks as the worker's job does (jobs/clicks.py), in this process, and prints its CPU per
click too. The redirects are answered by the front door (webapp/tracking/front.py) before Flask.

Two ways to load it (bench/http_load.py, a client cheap enough to share the machine's cores):

- closed loop (the default): `--concurrency` connections, each asking again as soon as it is answered: the
  server's capacity at saturation, and the latency of a full queue (64 in flight at 2,000/s wait 32 ms on
  average by Little's law alone);
- open loop (`--rate 2000 --seconds 10`): requests due at a fixed rate whatever the server does, each latency
  counted from when the request was due (a stall shows as late answers, not as fewer requests): issue #18's
  "answers at 2,000 requests/s with p99 < 50 ms".

Prints requests per second, p50/p99 latency and CPU per request (server and client apart: on a shared machine,
others' work lowers the rate, not the CPU each request needs), and checks that every click was counted once and
no preview was: the link's clicks equal the click requests, the "clicked" counter equals a recount.

    .venv/bin/python bench/redirect.py                         # 3 runs of 6,000 requests per kind, 64 clients
    .venv/bin/python bench/redirect.py --rate 2000 --seconds 10   # offered at 2,000/s: 20,000 of each kind a run
    .venv/bin/python bench/redirect.py --database postgresql   # the production path
    .venv/bin/python bench/redirect.py --requests 2000 --runs 1
    .venv/bin/python bench/redirect.py --own-urls     # the link opens each recipient's own address: one lookup more
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from bench.http_load import Load, load, request_bytes  # noqa: E402 - after the path fix above
from bench.webhook_ingest import cpu_seconds, start_gunicorn  # noqa: E402
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


def measure(base_url: str, server_pid: int, paths: list[str], agent: str, expected: int, args) -> Load:
    host = base_url.removeprefix("http://")
    requests = [request_bytes(host, path, agent) for path in paths]  # made before the clock starts
    server_before, client_before = cpu_seconds(server_pid), time.process_time()
    run = load(base_url, requests, expected, args.concurrency, args.rate)
    run.server_cpu = cpu_seconds(server_pid) - server_before
    run.client_cpu = time.process_time() - client_before
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10000, help="recipients of the campaign (codes to click)")
    parser.add_argument("--requests", type=int, default=6000, help="requests of each kind per run (closed loop)")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="open loop: offer this many requests a second (0: closed loop, as fast as answered)")
    parser.add_argument("--seconds", type=float, default=10.0, help="open loop: how long each kind is offered")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64,
                        help="keep-alive connections (open loop: a due request waits for a free one)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16, help="per worker, as in the Procfile")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--access-log", action="store_true",
                        help="gunicorn writes its access log (to a file), as the Procfile has it write to stdout")
    parser.add_argument("--own-urls", action="store_true", help="the link opens each recipient's own address")
    args = parser.parse_args()
    if args.rate < 0 or args.seconds <= 0 or args.concurrency < 1:
        parser.error("--rate must be 0 or more, --seconds and --concurrency more than 0")
    if args.rate:
        args.requests = round(args.rate * args.seconds)

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
        options = ("--access-logfile", str(folder / "access.log")) if args.access_log else ()
        server, base_url = start_gunicorn(folder, database_url, redis_url, args.workers, args.threads, options)
        for number in range(1, args.runs + 1):
            chosen = random.Random(number).choices(codes, k=args.requests)  # first clicks and repeat clicks
            runs = {"baseline": measure(base_url, server.pid, ["/healthz"] * args.requests, PHONE, 200, args),
                    "previews": measure(base_url, server.pid, [f"/r/{code}" for code in chosen], WHATSAPP, 302, args),
                    "clicks": measure(base_url, server.pid, [f"/r/{code}" for code in chosen], PHONE, 302, args)}
            clicks += args.requests
            counted, counting_cpu = count_queued(app)
            counting.append(counting_cpu / max(counted, 1))
            if counted != args.requests:
                runs["clicks"].problems[f"{counted} queued clicks counted of {args.requests}"] += 1
            runs["clicks"].problems.update(check(app, campaign_id, clicks))
            for kind, run in runs.items():
                kinds[kind].append(run)
                problems = "; ".join(f"{count} × {problem}" for problem, count in run.problems.most_common(3))
                waited = (f", {run.waited:,} waited for a connection, sent up to {run.late_sends * 1000:.1f} ms late"
                          if args.rate else "")
                print(f"run {number} {kind:8}: {run.rate:,.0f} req/s, p50 {run.percentile(0.5):.1f} ms, "
                      f"p99 {run.percentile(0.99):.1f} ms, max {run.percentile(1):.1f} ms, CPU per request: server "
                      f"{run.server_cpu / run.requests * 1000:.2f} ms, client "
                      f"{run.client_cpu / run.requests * 1000:.2f} ms{waited}{'; ' + problems if problems else ''}")
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
    loop = (f"open loop: {args.rate:,.0f} req/s offered for {args.seconds:g} s over {args.concurrency} connections"
            if args.rate else f"closed loop: {args.concurrency} clients")
    print(f"\nmedian of {args.runs} runs ({args.requests:,} requests of each kind, {loop}, "
          f"gunicorn {args.workers}×{args.threads} ({http_parser()} HTTP parser), {os.cpu_count()} CPUs, "
          f"{'PostgreSQL' if postgres else 'SQLite WAL'}{', own URLs' if args.own_urls else ''}"
          f"{', access log' if args.access_log else ''}, "
          f"load average now {os.getloadavg()[0]:.1f}):")
    for kind, runs in kinds.items():
        rate = statistics.median(r.rate for r in runs)
        p99 = statistics.median(r.percentile(0.99) for r in runs)
        server_ms = statistics.median(r.server_cpu / r.requests * 1000 for r in runs)
        client_ms = statistics.median(r.client_cpu / r.requests * 1000 for r in runs)
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
