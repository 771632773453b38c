"""Five sender numbers at once, each at 80 msg/s, while a 200,000-row CSV import runs: is any number slowed?

    .venv/bin/python bench/five_numbers.py                          # 5 × 4,000 at 80/s + 200,000 rows, SQLite
    .venv/bin/python bench/five_numbers.py --database postgresql    # the production path (a throwaway server)
    .venv/bin/python bench/five_numbers.py --quick                  # 5 × 1,000 + 50,000 rows, shorter baselines

The whole product on loopback (bench/stack.py): the sandbox with five numbers, each limited by it to 80 msg/s
and answering in 200 ms ± 50 ms, the Procfile's processes (a worker for launches and ticks, --workers sending
workers on `control,dispatch`, the importer on `imports`, cron) with the product's default settings. Phases,
one after the other, in the same run:

1. the import alone (through the importer's queue, as an upload is);
2. each number alone: one campaign of --alone-size recipients on it, the other numbers idle;
3. the five campaigns launched together, no import;
4. the five launched together and the import started at the same moment.

Per number it prints, from the sandbox's ledger: the rate between its first and its last accepted message as
a share of its 80/s, how long after the launch its first message was accepted, the most requests it got in
any sliding one-second window (refused ones included), and the share's ratio to the number alone; the
sandbox's count of 130429 answers per phase; the import's seconds (its run, from the importer taking it to
its end) alone and beside the sends; and how busy the machine's cores were.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rq import Worker
from sqlalchemy import select

from import_csv import write_file
from send_pacing import VARIABLES, cpu_busy, make_list
from stack import Stack

from tests.services import ThrowawayPostgres
from webapp.campaigns import services
from webapp.campaigns.lifecycle import counts
from webapp.campaigns.models import Campaign
from webapp.contacts import imports
from webapp.contacts.import_jobs import enqueue_import
from webapp.contacts.models import Import
from webapp.extensions import db
from webapp.queues import redis_client
from webapp.senders.models import Sender, Template
from webapp.senders.services import sync_templates

RATE = 80
NUMBERS = [(f"10000000000000{n}", f"1555000123{n}") for n in range(1, 6)]
FINISHED = ("sent", "partially_sent", "failed")


@dataclass
class NumberFigures:
    accepted: int
    share: float
    first_after: float  # seconds from the launch to the number's first accepted message
    busiest: int


class Bench:
    def __init__(self, stack: Stack, workers: int, slots: int | None) -> None:
        self.stack = stack
        self.senders = []
        for phone_number_id, display in NUMBERS:
            sender = Sender(label=f"Number {display}", phone_number_id=phone_number_id, waba_id="200000000000001",
                            display_phone_number=display, access_token="sandbox-token", throughput=RATE,
                            is_sandbox=True)  # sends go to SANDBOX_URL
            db.session.add(sender)
            self.senders.append(sender)
        db.session.commit()
        sync_templates(self.senders[0])  # one WABA: the five share its templates
        db.session.commit()
        self.template = db.session.scalar(select(Template).where(Template.name == "order_shipped"))
        self.prefix = 600
        settings = {"RATE_MARGIN_MS": 20, "SEND_CONCURRENCY": 128, "DISPATCH_SLICE_SECONDS": 30,
                    "GRAPH_TIMEOUT_SECONDS": 20, "RETRY_BASE_SECONDS": 2, "UNKNOWN_DELIVERY_GRACE_SECONDS": 60}
        if slots is not None:
            settings["DISPATCHERS_PER_CAMPAIGN"] = slots
        # The product's default settings (the test harness shortens timeouts and widens the margin).
        self.group = stack.processes(**settings)
        self.group.worker("control,default")  # the Procfile's layout: launches and ticks here
        for _ in range(workers):
            self.group.worker("control,dispatch")
        self.group.worker("imports")
        self.group.cron()
        self.workers = workers + 2

    def wait_for_workers(self, timeout: float = 300) -> None:
        """Until every worker listens (a loaded machine takes a while to start eight Python processes)."""
        deadline = time.monotonic() + timeout
        while len(Worker.all(connection=redis_client())) < self.workers:
            if time.monotonic() > deadline or self.group.died():
                raise SystemExit(f"the workers did not start:\n{self.group.output()}")
            time.sleep(0.5)

    # --- one phase ---

    def campaign(self, sender: Sender, size: int) -> Campaign:
        self.prefix += 1
        audience = make_list(f"five-{self.prefix}", size, self.prefix)
        campaign = services.save_draft(services.Draft(f"Five {self.prefix}", sender.id, self.template.id,
                                                      [audience.id], variables=VARIABLES))
        db.session.commit()
        return campaign

    def start_import(self, csv_file: Path) -> int:
        upload = Path(self.stack.app.config["UPLOAD_FOLDER"]) / f"five-{time.monotonic_ns()}.upload"
        upload.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(csv_file, upload)
        self.prefix += 1
        record, preview = imports.begin_import(db.session, upload, csv_file.name, list_id=None,
                                               new_list=f"Import {self.prefix}", country="US",
                                               update_existing=True, user_id=None)
        imports.start_import(db.session, record, preview.default_columns(), preview.headers)
        db.session.commit()
        enqueue_import(record.id)
        return record.id

    def phase(self, campaigns: list[Campaign], csv_file: Path | None, timeout: float) -> dict:
        self.stack.sandbox.reset()
        self.stack.sandbox.configure(rate=RATE)
        cpu_before, started = cpu_busy(), time.monotonic()
        launched_at = time.time()
        for campaign in campaigns:
            services.launch(campaign)
        db.session.commit()  # the launches are enqueued here
        import_id = self.start_import(csv_file) if csv_file else None
        while True:
            time.sleep(0.5)
            if self.group.died():
                raise SystemExit(f"a process died:\n{self.group.output()}")
            done = all(db.session.get(Campaign, c.id, populate_existing=True).status in FINISHED for c in campaigns)
            record = db.session.get(Import, import_id, populate_existing=True) if import_id else None
            db.session.commit()
            if record is not None and record.status == "failed":
                raise SystemExit(f"the import failed: {record.error}")
            if done and (record is None or record.status == "done"):
                break
            if time.monotonic() - started > timeout:
                states = [(c.id, db.session.get(Campaign, c.id).status, db.session.get(Campaign, c.id).notice)
                          for c in campaigns]
                raise SystemExit(f"the phase did not finish in time: {states}, import "
                                 f"{record.status if record else None}\n{self.group.output()}")
        cpu_after = cpu_busy()
        stats = self.stack.sandbox.stats()
        numbers = {}
        for campaign in campaigns:
            phone_number_id = db.session.get(Sender, campaign.sender_id).phone_number_id
            times = sorted(m["accepted_ts"] for m in self.stack.sandbox.messages(phone_number_id=phone_number_id,
                                                                                 limit=10**7))
            if len(times) < 2:
                raise SystemExit(f"{phone_number_id}: {len(times)} accepted; campaign "
                                 f"{db.session.get(Campaign, campaign.id).status} {counts(db.session, campaign.id)}"
                                 f" {db.session.get(Campaign, campaign.id).notice}")
            numbers[phone_number_id] = NumberFigures(
                len(times), (len(times) - 1) / (times[-1] - times[0]) / RATE, times[0] - launched_at,
                stats["busiest_window"][phone_number_id]["requests"])
        db.session.commit()
        return {"numbers": numbers, "rejected_130429": stats["rate_limited"],
                "import_seconds": (record.finished_at - record.started_at).total_seconds() if record else None,
                "wall": time.monotonic() - started,
                "cpu_busy": (cpu_after[0] - cpu_before[0]) / (cpu_after[1] - cpu_before[1])}

    def import_alone(self, csv_file: Path, timeout: float) -> dict:
        return self.phase([], csv_file, timeout)

    def alone(self, size: int, timeout: float) -> dict[str, NumberFigures]:
        figures = {}
        for sender in self.senders:
            result = self.phase([self.campaign(sender, size)], None, timeout)
            figures.update(result["numbers"])
            print(f"  {sender.phone_number_id} alone: {_line(result['numbers'][sender.phone_number_id])}, "
                  f"{result['rejected_130429']} × 130429", flush=True)
        return figures

    def together(self, size: int, csv_file: Path | None, timeout: float) -> dict:
        return self.phase([self.campaign(sender, size) for sender in self.senders], csv_file, timeout)


def _line(figures: NumberFigures) -> str:
    return (f"{figures.accepted:,} accepted, {figures.share:6.1%} of {RATE}/s, first after "
            f"{figures.first_after:4.1f} s, busiest 1-s window {figures.busiest}")


def report(title: str, result: dict, alone: dict[str, NumberFigures] | None, import_alone: float | None) -> None:
    print(f"{title}: wall {result['wall']:.0f} s, {result['rejected_130429']} × 130429, CPU busy "
          f"{result['cpu_busy']:.0%} of {os.cpu_count()} cores"
          + (f"; import {result['import_seconds']:.1f} s" + (f" ({result['import_seconds'] / import_alone:.2f}× "
                                                             f"alone)" if import_alone else "")
             if result["import_seconds"] is not None else ""))
    for phone_number_id, figures in result["numbers"].items():
        ratio = f", {figures.share / alone[phone_number_id].share:.3f}× alone" if alone else ""
        print(f"  {phone_number_id}: {_line(figures)}{ratio}")
    shares = [figures.share for figures in result["numbers"].values()]
    if shares:
        print(f"  lowest share {min(shares):.1%}, highest {max(shares):.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--size", type=int, default=4000, help="recipients per campaign when the five send")
    parser.add_argument("--alone-size", type=int, default=1000, help="recipients of each number's run alone (0: none)")
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the CSV import (0: no import)")
    parser.add_argument("--workers", type=int, default=5, help="sending workers (`control,dispatch`)")
    parser.add_argument("--slots", type=int, help="DISPATCHERS_PER_CAMPAIGN (default: the product's)")
    parser.add_argument("--skip-without-import", action="store_true", help="no phase of the five without the import")
    parser.add_argument("--skip-import-alone", action="store_true", help="no phase of the import alone")
    parser.add_argument("--quick", action="store_true", help="5 × 1,000, a 50,000-row import, alone runs of 400")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))  # stop every process it started
    if args.quick:
        args.size, args.rows, args.alone_size = 1000, 50_000, 400
    if min(args.size, args.workers) < 1 or min(args.rows, args.alone_size) < 0 or args.rows > 1_000_000:
        parser.error("--size and --workers must be at least 1, --rows and --alone-size 0 or more (rows ≤ 1,000,000)")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; database {args.database}; "
          f"{args.workers} sending workers; {len(NUMBERS)} × {args.size:,} recipients at {RATE}/s; "
          f"import of {args.rows:,} rows", flush=True)
    postgres = ThrowawayPostgres() if args.database == "postgresql" else None
    database_url = postgres.start() if postgres else None
    extra = ",".join(f"{pid}:{display}" for pid, display in NUMBERS[1:])
    stack = Stack(["--latency-ms", "200", "--jitter-ms", "50", "--pair-interval", "0", "--rate", str(RATE),
                   "--phone-number-id", NUMBERS[0][0], "--display-number", NUMBERS[0][1], "--extra-numbers", extra],
                  database_url)
    try:
        bench = Bench(stack, args.workers, args.slots)
        bench.wait_for_workers()
        csv_file = None
        if args.rows:
            csv_file = stack.folder / "customers.csv"
            write_file(csv_file, args.rows)
        timeout = args.size / RATE * 4 + 300
        import_alone = None
        if csv_file and not args.skip_import_alone:
            result = bench.import_alone(csv_file, timeout)
            import_alone = result["import_seconds"]
            print(f"import alone: {import_alone:.1f} s for {args.rows:,} rows "
                  f"({import_alone / args.rows * 1e6:.0f} µs a row), CPU busy {result['cpu_busy']:.0%}", flush=True)
        alone = None
        if args.alone_size:
            print(f"each number alone ({args.alone_size:,} recipients):", flush=True)
            alone = bench.alone(args.alone_size, timeout)
        if not args.skip_without_import or not csv_file:
            report("the five together, no import", bench.together(args.size, None, timeout), alone, None)
        if csv_file:
            report(f"the five together with the {args.rows:,}-row import",
                   bench.together(args.size, csv_file, timeout), alone, import_alone)
    finally:
        stack.close()
        shutil.rmtree(stack.folder, ignore_errors=True)
        if postgres:
            postgres.stop()
        print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
