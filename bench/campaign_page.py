"""The campaign page at a million recipients: its counters, its timeline and the log's first page under each filter.

On a throwaway PostgreSQL (tests/services.py; or SQLite with --databases), it bulk-inserts one campaign of a million
rows in a realistic mix of states (bench/counters.py's seed: sent at 80 messages/s, delivered 2 s later, read within
the hour, 5 % failed), fills its kept counters and timeline figures from the rows, logs a staff user in, and times
through the app's test client:

  - the counters fragment (reads the kept counters);
  - the timeline fragment, and its figures alone: from the kept figures, and, as the baseline in the same run, from a
    scan of the rows (what the page did before issue #20);
  - the log's results (its first page) under each filter the page offers: a status, Meta's error code, replied or
    not, clicked or not, and search by phone or by name — each with a common and a rare answer; then, as the
    baseline in the same run, the same without the filters' indexes (dropped).

Prints p50/p95 per request, the p50 of its time in the database's statements and of this process's CPU (the app's
own work, which the machine's load stretches less than wall time), and the web process's peak memory (VmHWM).

    .venv/bin/python bench/campaign_page.py                              # PostgreSQL, 1,000,000 rows, 50 requests
    .venv/bin/python bench/campaign_page.py --rows 100000 --requests 20
    .venv/bin/python bench/campaign_page.py --databases sqlite,postgresql
    .venv/bin/python bench/campaign_page.py --rows 10000 --launch-cost 200000  # what the indexes cost a launch
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from bench.counters import PASSWORD, p, seed  # noqa: E402 - after the path fix above
from bench.databases import each_database  # noqa: E402

GOAL_MS = 50.0
LOG_INDEXES = ("ix_recipients_campaign_error_code_id", "ix_recipients_campaign_replied_id",
               "ix_recipients_campaign_clicked_id")
LOG = {"HX-Request": "true", "HX-Target": "recipient-log-results"}
# The log's filters (query strings), each with an answer found at once and one found far away or not at all. The
# seed's phones are +1 and ten digits of the row's number; names "Customer <n>"; 1 row in 20 failed (131026).
FILTERS = {
    "status=failed": "status=failed",
    "status=pending": "status=pending",
    "status=read": "status=read",
    "status=cancelled (none)": "status=cancelled",
    "error=131026": "error=131026",
    "error=131049 (none)": "error=131049",
    "replied=yes": "replied=yes",
    "replied=no": "replied=no",
    "clicked=yes (none)": "clicked=yes",
    "clicked=no": "clicked=no",
    "phone 555 (common)": "q=555",
    "phone, one number": "q=%2B1{last:010d}",
    "phone (none)": "q=999999999999",
    "name Customer 12 (common)": "q=Customer+12",
    "name, one customer": "q=Customer+{last_n}",
    "name (none)": "q=Zorro",
}


def LOG_INDEXES_HERE() -> tuple[str, ...]:  # noqa: N802 - a constant of the database at hand
    from webapp.extensions import db

    return LOG_INDEXES if db.engine.dialect.name == "postgresql" else LOG_INDEXES[:3]  # no trigrams on SQLite


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Clock:
    """Milliseconds spent in the database's statements (execute and fetch) since the last `lap`."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.spent, self.started = 0.0, 0.0
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)

    def before(self, *args) -> None:
        self.started = time.perf_counter()

    def after(self, *args) -> None:
        self.spent += time.perf_counter() - self.started

    def lap(self) -> float:
        spent, self.spent = self.spent, 0.0
        return spent * 1000


def timed(call, requests: int, clock: Clock, warm: int = 3) -> tuple[list[float], list[float], list[float]]:
    """Each call's milliseconds, those of its database statements, and this process's CPU milliseconds (the app and
    its test client: what a web worker spends, which the machine's load does not stretch as it does wall time)."""
    for _ in range(min(warm, requests)):  # warm up caches, compiled statements, the connection pool
        call()
    took, in_database, cpu = [], [], []
    for _ in range(requests):
        clock.lap()
        began, began_cpu = time.perf_counter(), time.process_time()
        call()
        took.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
        in_database.append(clock.lap())
    return took, in_database, cpu


def fetch(client, url: str, headers: dict | None = None):
    def call():
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
    return call


def log_figures(results: dict, client, clock: Clock, base: str, fields: dict, requests: int, label: str,
                warm: int = 3) -> None:
    results[f"log page (its form lists the error codes){label}"] = timed(fetch(client, f"{base}/log"), requests, clock,
                                                                         warm)
    for name, query in FILTERS.items():
        results[f"log: {name}{label}"] = timed(fetch(client, f"{base}/log?{query.format(**fields)}", LOG), requests,
                                               clock, warm)


def insert_cost(app, rows: int) -> dict:
    """What the log's indexes cost a launch: `rows` rows inserted in one statement (as launch writes them) into a
    campaign of their own, with the indexes and then without, the indexes built again after."""
    from bench.counters import _rows_sql
    from webapp.campaigns.models import Campaign
    from webapp.extensions import db
    from webapp.senders.models import Sender

    took = {}
    for label in ("with the log's indexes", "without them"):
        if label == "without them":
            statements = [str(db.session.execute(db.text("SELECT pg_get_indexdef(CAST(:name AS regclass))" if
                                                         db.engine.dialect.name == "postgresql" else
                                                         "SELECT sql FROM sqlite_master WHERE name = :name"),
                                                 {"name": index}).scalar()) for index in LOG_INDEXES_HERE()]
            for index in LOG_INDEXES_HERE():
                db.session.execute(db.text(f"DROP INDEX {index}"))
            db.session.commit()
        sender = db.session.query(Sender).first() or Sender(label="Bench", phone_number_id="100000000000001",
                                                            waba_id="200000000000001", access_token="x")
        campaign = Campaign(name=f"Launch cost {label}", sender=sender, status="sending", template_name="bench")
        db.session.add(campaign)
        db.session.commit()
        began = time.perf_counter()
        db.session.execute(db.text(_rows_sql(db.engine.dialect.name)),
                           {"campaign_id": campaign.id, "count": rows, "first": 50_000_000 + len(took) * rows})
        db.session.commit()
        took[f"launch-like insert of {rows:,} rows, {label}"] = ([(time.perf_counter() - began) * 1000], [0.0], [0.0])
    for statement in statements:
        db.session.execute(db.text(statement))
    db.session.commit()
    return took


def bench_database(name: str, url: str, folder: Path, redis_url: str, rows: int, requests: int,
                   launch_cost: int = 0) -> dict:
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.auth.services import create_user
    from webapp.campaigns.timeline_counts import SCANNED
    from webapp.extensions import db
    from webapp.tracking.timeline import timeline

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(folder),
                      "SANDBOX_ENABLED": False, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    results: dict[str, tuple[list[float], list[float], list[float]]] = {}
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        create_user("bench@example.com", PASSWORD, role="staff", name="Bench")
        db.session.commit()
        if launch_cost:
            results.update(insert_cost(app, launch_cost))
        began = time.perf_counter()
        campaign_id = seed(app, rows, first=0)  # with its counters and timeline figures
        if db.engine.dialect.name == "postgresql":
            db.session.execute(db.text("ANALYZE timeline_counts"))
            db.session.commit()
        print(f"  {name}: {rows:,} rows inserted and counted in {time.perf_counter() - began:.1f} s", flush=True)
        client, clock = app.test_client(), Clock(db.engine)
        assert client.post("/login", data={"email": "bench@example.com", "password": PASSWORD}).status_code == 302
        base = f"/campaigns/{campaign_id}"
        results["counters fragment"] = timed(fetch(client, f"{base}/live/counters"), requests, clock)
        results["timeline fragment"] = timed(fetch(client, f"{base}/live/timeline"), requests, clock)
        kept = timeline(db.session, campaign_id)
        results["timeline figures (kept)"] = timed(lambda: timeline(db.session, campaign_id), requests, clock)
        results["timeline figures (scan of the rows: before)"] = timed(
            lambda: timeline(db.session, campaign_id, SCANNED), 2, clock, warm=0)
        assert timeline(db.session, campaign_id, SCANNED) == kept, "kept figures differ from a scan"
        fields = {"last": rows - 1, "last_n": rows - 1}
        log_figures(results, client, clock, base, fields, requests, "")
        # the baseline, in the same run: the same requests without the filters' indexes (issue #20's migration)
        for index in LOG_INDEXES_HERE():
            db.session.execute(db.text(f"DROP INDEX {index}"))
        db.session.commit()
        log_figures(results, client, clock, base, fields, 2, " (before: no filter indexes)", warm=0)
        db.session.remove()
        db.engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="postgresql")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per figure")
    parser.add_argument("--launch-cost", type=int, default=0, metavar="ROWS",
                        help="first time inserting this many rows with the log's indexes and without them")
    args = parser.parse_args()

    print("uptime before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
    slow = False
    for name, url, folder, redis_url in each_database(args.databases, "campaign_page"):
        results = bench_database(name, url, folder, redis_url, args.rows, args.requests, args.launch_cost)
        print(f"{name}, {args.rows:,} rows (goal: timeline and each log filter p95 < {GOAL_MS:.0f} ms)")
        for label, (took, in_database, cpu) in results.items():
            over = p(took, 0.95) >= GOAL_MS and "before" not in label and not label.startswith("launch")
            slow |= over and (label.startswith("log") or label.startswith("timeline"))
            print(f"  {label:<72} p50 {statistics.median(took):7.1f} ms  p95 {p(took, 0.95):7.1f} ms   "
                  f"in the database p50 {statistics.median(in_database):7.1f} ms  "
                  f"CPU p50 {statistics.median(cpu):6.1f} ms{'  OVER' if over else ''}")
        before, after = (statistics.median(results[f"timeline figures ({source})"][0])
                         for source in ("scan of the rows: before", "kept"))
        print(f"  timeline figures: {before / after:.0f}× faster than the scan of the rows")
        print(f"  peak memory of this process (the web app, its test client and the seed): {peak_mb():.0f} MB")
    print("uptime after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
