"""How many signed single-status webhook POSTs per second the app stores and applies under gunicorn.

Starts the app under gunicorn as the Procfile does (2 workers × 16 threads, gunicorn.conf.py) on a fresh
SQLite (WAL) database in a temporary folder, with a private Redis; seeds one campaign whose rows were accepted by
the API (each has its wamid); then posts sent, delivered and read for every row, one status per signed
POST, from concurrent keep-alive clients on loopback. Prints the sustained events per second, p50/p99
latency (median over the runs), and checks that every event was stored and applied: every row `read`,
the maintained counters equal a recount, and no event left unapplied.

    .venv/bin/python bench/webhook_ingest.py                  # 3 runs of 5,000 rows (15,000 events), 64 clients
    .venv/bin/python bench/webhook_ingest.py --rate 1000      # offered at the goal's rate: latency below saturation
    .venv/bin/python bench/webhook_ingest.py --rows 1000 --runs 1 --concurrency 16
    .venv/bin/python bench/webhook_ingest.py --threads 8 --concurrency 32  # smaller batches per process
    .venv/bin/python bench/webhook_ingest.py --events         # an endpoint wants message.status: one delivery each
    .venv/bin/python bench/webhook_ingest.py --per-post 20    # Meta's batched form: 20 statuses in each POST
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from tests.services import ThrowawayPostgres, free_port  # noqa: E402 - after the path fix above
from webapp import private_redis  # noqa: E402

SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "100000000000001"
T0 = 1_795_000_000  # Meta's epoch-seconds timestamps
GOAL_RATE, GOAL_P99_MS = 1000, 100


@dataclass
class Run:
    events: int
    seconds: float
    latencies: list[float]
    problems: list[str]
    server_cpu: float = 0.0  # seconds of CPU the gunicorn processes used
    client_cpu: float = 0.0  # and this process, posting

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def seed(app, rows: int) -> tuple[int, list[tuple[int, str, str]]]:
    """A sending campaign of `rows` rows, each accepted by the API: claimed, with its wamid."""
    from sqlalchemy import insert, select

    from webapp.campaigns.lifecycle import add_counts
    from webapp.campaigns.models import Campaign, Recipient
    from webapp.extensions import db
    from webapp.senders.models import Sender
    from webapp.workspace.models import WorkspaceSettings

    with app.app_context():
        WorkspaceSettings.get().meta_app_secret = SECRET
        sender = db.session.scalar(select(Sender)) or Sender(
            label="Bench", phone_number_id=PHONE_NUMBER_ID, waba_id="200000000000001", access_token="x")
        campaign = Campaign(name="Bench", sender=sender, status="sending", template_name="bench")
        db.session.add(campaign)
        db.session.flush()
        first = db.session.scalar(select(db.func.coalesce(db.func.max(Recipient.id), 0)))
        db.session.execute(insert(Recipient), [
            {"campaign_id": campaign.id, "phone": f"+1555{first + i:07d}", "status": "sending",
             "claim_token": "bench", "wamid": f"wamid.BENCH{first + i:010d}"} for i in range(rows)])
        add_counts(db.session, campaign.id, {"total": rows, "sending": rows})
        db.session.commit()
        found = db.session.execute(select(Recipient.id, Recipient.wamid, Recipient.phone)
                                   .where(Recipient.campaign_id == campaign.id).order_by(Recipient.id)).all()
        return campaign.id, [(row.id, row.wamid, row.phone.lstrip("+")) for row in found]


def subscribe() -> None:
    """An endpoint that wants every status: each applied status writes a delivery and enqueues its job (no worker
    runs here, so none is sent)."""
    from webapp.events.endpoints import register
    from webapp.extensions import db

    register(db.session, "http://127.0.0.1:9/bench", ["message.status"], "bench", allow_private=True, user_id=None)
    db.session.commit()


def signed_bodies(rows: list[tuple[int, str, str]], per_post: int = 1) -> list[tuple[bytes, str]]:
    """sent, delivered, read for each row, `per_post` statuses per POST (Meta batches them), signed ahead of timing.
    Rows are interleaved so that a message's statuses arrive close together, as they do in life."""
    items = []
    for stage_index, stage in enumerate(("sent", "delivered", "read")):
        for row_id, wamid, wa_id in rows:
            item = {"id": wamid, "status": stage, "timestamp": str(T0 + stage_index), "recipient_id": wa_id,
                    "biz_opaque_callback_data": f"r:{row_id}"}
            if stage != "read":
                item["pricing"] = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
            items.append(item)
    # Each row's three statuses within a window of a few hundred POSTs, in any order (Meta promises none).
    window = max(1, len(rows) // 20)
    chunks = [items[i::len(rows)] for i in range(len(rows))]
    random.Random(7).shuffle(chunks)
    mixed = []
    for start in range(0, len(chunks), window):
        group = [item for chunk in chunks[start:start + window] for item in chunk]
        random.Random(start).shuffle(group)
        mixed.extend(group)
    bodies = []
    for start in range(0, len(mixed), per_post):
        payload = {"object": "whatsapp_business_account", "entry": [{"id": "200000000000001", "changes": [{
            "field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {
                "display_phone_number": "15550001234", "phone_number_id": PHONE_NUMBER_ID},
                "statuses": mixed[start:start + per_post]}}]}]}
        body = json.dumps(payload).encode()
        bodies.append((body, "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()))
    return bodies


async def post_all(url: str, bodies: list[tuple[bytes, str]], concurrency: int, rate: float = 0.0) -> Run:
    """POST every body from `concurrency` clients: as fast as answers come, or paced at `rate` per second."""
    latencies: list[float] = []
    problems: list[str] = []
    queue = iter(enumerate(bodies))

    async def client(session: aiohttp.ClientSession) -> None:
        for index, (body, signature) in queue:  # clients share one iterator: each event is posted once
            if rate:
                await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
            began = time.perf_counter()
            async with session.post(url, data=body, headers={"Content-Type": "application/json",
                                                             "X-Hub-Signature-256": signature}) as response:
                await response.read()
                if response.status != 200:
                    problems.append(f"HTTP {response.status}")
            latencies.append(time.perf_counter() - began)

    connector = aiohttp.TCPConnector(limit=concurrency)
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return Run(len(bodies), seconds, latencies, problems)  # events: the caller counts statuses


def cpu_seconds(root_pid: int, reaped: bool = False) -> float:
    """User + system CPU of a process and its children so far (Linux /proc), to tell cost from contention:
    other work on the machine slows the events per second, not the CPU each event needs. `reaped`: also the
    children the process has already waited for (a database server's backends that ended)."""
    ticks, own = os.sysconf("SC_CLK_TCK"), slice(11, 15 if reaped else 13)
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(entry.name) == root_pid:
            total += sum(int(field) for field in fields[own]) / ticks
        elif int(fields[1]) == root_pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def check(app, campaign_id: int, events: int, events_before: int) -> list[str]:
    """Every event stored and applied, every row read, the counters equal to a recount."""
    from sqlalchemy import func, select

    from webapp.campaigns.lifecycle import counts, recount
    from webapp.campaigns.models import Recipient
    from webapp.extensions import db
    from webapp.webhooks.models import WebhookEvent

    with app.app_context():
        problems = []
        stored = db.session.scalar(select(func.count()).select_from(WebhookEvent)) - events_before
        applied = db.session.scalar(select(func.count()).select_from(WebhookEvent)
                                    .where(WebhookEvent.status == "applied")) - events_before
        if stored != events or applied != events:
            problems.append(f"{stored} events stored and {applied} applied of {events}")
        statuses = dict(db.session.execute(select(Recipient.status, func.count())
                                           .where(Recipient.campaign_id == campaign_id)
                                           .group_by(Recipient.status)).all())
        if set(statuses) != {"read"}:
            problems.append(f"rows not all read: {statuses}")
        if counts(db.session, campaign_id) != recount(db.session, campaign_id):
            problems.append(f"counters {counts(db.session, campaign_id)} != recount {recount(db.session, campaign_id)}")
        return problems


def start_gunicorn(folder: Path, database_url: str, redis_url: str, workers: int, threads: int,
                   options: tuple[str, ...] = ()):
    """gunicorn serving the app from this checkout (its gunicorn.conf.py); `options`: more command-line settings."""
    port = free_port()
    environment = {**os.environ, "INSTANCE_PATH": str(folder), "DATABASE_URL": database_url,
                   "REDIS_URL": redis_url, "SECRET_KEY": "bench", "SANDBOX_ENABLED": "0",
                   "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--keep-alive", "5", "--log-level", "warning", *options, "app:app"],
        cwd=ROOT, env=environment)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                return process, f"http://127.0.0.1:{port}"
        except requests.RequestException:
            time.sleep(0.2)  # the workers are still starting
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000, help="recipient rows per run (3 events each)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent keep-alive clients")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16, help="per worker, as in the Procfile")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="postgresql: a throwaway server started for the run (the production path)")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="offer this many events/s (open loop) instead of as many as answers allow")
    parser.add_argument("--per-post", type=int, default=1,
                        help="statuses per POST (Meta batches a number's statuses into one webhook)")
    parser.add_argument("--events", action="store_true",
                        help="an outbound-event endpoint subscribed to message.status (its deliveries queue up)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="broadcaster-ingest-bench-"))
    redis_url, redis_process = private_redis.start(folder / "redis")
    postgres = ThrowawayPostgres() if args.database == "postgresql" else None
    database_url = postgres.start() if postgres else f"sqlite:///{folder / 'bench.db'}"
    os.environ["INSTANCE_PATH"] = str(folder)
    from flask_migrate import upgrade

    from webapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(folder),
                      "SANDBOX_ENABLED": False, "SECRET_KEY": "bench", "META_APP_SECRET": ""})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        if args.events:
            subscribe()
    runs: list[Run] = []
    server = None
    try:  # whatever fails (gunicorn not starting too), the servers this started stop
        server, base_url = start_gunicorn(folder, database_url, redis_url, args.workers, args.threads)
        for number in range(1, args.runs + 1):
            campaign_id, rows = seed(app, args.rows)
            bodies = signed_bodies(rows, args.per_post)
            events_before = (number - 1) * len(bodies)
            server_before, client_before = cpu_seconds(server.pid), time.process_time()
            run = asyncio.run(post_all(f"{base_url}/webhooks/meta", bodies, args.concurrency, args.rate))
            run.events = len(rows) * 3  # statuses, however many a POST carries
            run.server_cpu = cpu_seconds(server.pid) - server_before
            run.client_cpu = time.process_time() - client_before
            run.problems += check(app, campaign_id, len(bodies), events_before)
            runs.append(run)
            print(f"run {number}: {run.events} events ({len(bodies)} POSTs) in {run.seconds:.2f} s = {run.rate:,.0f} events/s, "
                  f"p50 {run.percentile(0.5):.1f} ms, p99 {run.percentile(0.99):.1f} ms, "
                  f"CPU per event: server {run.server_cpu / run.events * 1000:.2f} ms, "
                  f"client {run.client_cpu / run.events * 1000:.2f} ms; "
                  f"{'all applied, counters == recount' if not run.problems else '; '.join(run.problems[:3])}")
        if args.events:
            with app.app_context():
                from sqlalchemy import func, select

                from webapp.events.models import EventDelivery
                from webapp.extensions import db
                print(f"{db.session.scalar(select(func.count()).select_from(EventDelivery)):,} event deliveries "
                      f"written (one per status that moved a row)")
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        if redis_process is not None:
            private_redis.stop(redis_process)
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
    rate = statistics.median(r.rate for r in runs)
    p50 = statistics.median(r.percentile(0.5) for r in runs)
    p99 = statistics.median(r.percentile(0.99) for r in runs)
    lost = sum(len(r.problems) for r in runs)
    server_ms = statistics.median(r.server_cpu / r.events * 1000 for r in runs)
    client_ms = statistics.median(r.client_cpu / r.events * 1000 for r in runs)
    load = os.getloadavg()[0]
    offered = f"offered at {args.rate:,.0f}/s" if args.rate else f"{args.concurrency} clients"
    print(f"\nmedian of {len(runs)} runs ({args.rows:,} rows × 3 statuses, {args.per_post} a POST, {offered}, "
          f"{'an event endpoint subscribed to message.status, ' if args.events else ''}"
          f"gunicorn {args.workers}×{args.threads}, {os.cpu_count()} CPUs, "
          f"{'PostgreSQL' if postgres else 'SQLite WAL'}):")
    print(f"  sustained {rate:,.0f} events/s ({rate / GOAL_RATE:.2f}× the {GOAL_RATE:,}/s goal), "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms ({p99 / GOAL_P99_MS:.2f}× the {GOAL_P99_MS} ms limit), "
          f"{'none lost' if not lost else f'{lost} problems'}")
    print(f"  CPU per event: server {server_ms:.2f} ms + client {client_ms:.2f} ms; on {os.cpu_count()} idle CPUs that "
          f"bounds ingest near {os.cpu_count() * 1000 / (server_ms + client_ms):,.0f} events/s "
          f"(load average now {load:.1f})")
    return 0 if not lost else 1


if __name__ == "__main__":
    sys.exit(main())
