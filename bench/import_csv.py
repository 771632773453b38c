"""CSV import throughput and memory: the streamed, staged import against one ORM insert and commit per row.

    .venv/bin/python bench/import_csv.py                      # 100,000 and 1,000,000 rows on SQLite
    .venv/bin/python bench/import_csv.py --postgres           # the same on a throwaway PostgreSQL
    .venv/bin/python bench/import_csv.py --rows 100000 --database-url postgresql+psycopg://…

It writes its own customer files (phone, name, city, tier; about 0.5% bad numbers and 0.5%
repeated ones) into a temporary folder, imports each into a fresh migrated database through
webapp.contacts.imports.import_file (the code the worker's job and `flask contacts import` run),
each in a child process, and prints rows per second and the child's peak memory growth
(ru_maxrss after the import minus before it), and the longest write transaction the import held (from
its first write to its commit: on SQLite, how long every other writer, a campaign's dispatcher included,
may have had to wait), and the CPU per row: the importing process's user + system time, and on PostgreSQL the
server's (postmaster and backends, from /proc). --profile FILE writes a CPU-time cProfile of the first import.
The naive baseline imports the first --naive-rows
rows of the first file with one ORM insert and one commit per row, and is extrapolated.
Nothing leaves the machine (Redis on a unix socket, databases on loopback); everything it made
is deleted at the end.
"""
from __future__ import annotations

import argparse
import cProfile
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhook_ingest import cpu_seconds  # noqa: E402 - after the path fix above

AREA_CODES = (212, 213, 206, 303, 305, 312, 404, 415, 503, 512, 602, 614, 617, 646, 702, 704, 713, 718, 808, 917)
CITIES = ("Boston", "Austin", "Denver", "Miami", "Chicago", "Seattle", "Phoenix", "Portland")
TIERS = ("bronze", "silver", "gold")
MAX_ROWS = 5_000_000  # bounded: the files and the database stay a few hundred MB at most


def write_file(path: Path, rows: int, seed: int = 7) -> None:
    """`rows` customers, numbers written three ways, with a few bad and a few repeated numbers."""
    rng = random.Random(seed)
    formats = ("+1 {a} {e} {l:04d}", "({a}) {e}-{l:04d}", "{a}.{e}.{l:04d}")
    seen: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["phone", "name", "city", "tier"])
        for i in range(rows):
            roll = rng.random()
            if roll < 0.005:
                phone = rng.choice(("123", "555-CALL-NOW", "9.19988E+11", ""))
            elif roll < 0.010 and seen:
                phone = rng.choice(seen)
            else:
                # Area code, exchange and line from the row number: unique, and valid for phonenumbers.
                area, rest = AREA_CODES[i % len(AREA_CODES)], i // len(AREA_CODES)
                phone = formats[i % 3].format(a=area, e=201 + rest // 10_000, l=rest % 10_000)
                if len(seen) < 1000:
                    seen.append(phone)
            writer.writerow([phone, f"Customer {i}", CITIES[i % len(CITIES)], TIERS[i % len(TIERS)]])


def _app(database_url: str, folder: Path, redis_url: str):
    os.environ["INSTANCE_PATH"] = str(folder)
    from webapp import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(folder),
                       "SANDBOX_ENABLED": False, "SECRET_KEY": "bench"})


def _fresh_database(database_url: str, folder: Path, redis_url: str) -> None:
    """Drop whatever an earlier run left, then build the schema by the migrations."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from webapp.extensions import db

    app = _app(database_url, folder, redis_url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


def child(args) -> None:
    """Run one import in this process and print its figures as JSON (the parent measures nothing itself)."""
    app = _app(args.database_url, Path(args.folder), args.redis_url)
    with app.app_context():
        from webapp.contacts import imports
        from webapp.extensions import db

        path = Path(args.file)
        writes = _time_write_transactions(db.engine)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        profile = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not waits
        started, cpu_started = time.perf_counter(), time.process_time()
        if profile is not None:
            profile.enable()
        if args.naive:
            rows = naive_import(path, args.naive)
            report = {"rows": rows}
        else:
            record = imports.import_file(db.session, path, list_name=f"Bench {path.stem}", country="US",
                                         phone_column=None, update_existing=True)
            report = imports.report(db.session, record)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.profile)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "growth_kb": peak - before, "peak_kb": peak,
                      "longest_ms": {phase: max(seconds, default=0) * 1000 for phase, seconds in writes.items()},
                      "median_ms": {phase: sorted(seconds)[len(seconds) // 2] * 1000 if seconds else 0
                                    for phase, seconds in writes.items()},
                      "writes": {phase: len(seconds) for phase, seconds in writes.items()},
                      "slowest_merges": sorted(((round(s * 1000), i) for i, s in enumerate(writes["merge"])),
                                               reverse=True)[:5], "report": report}))


def _time_write_transactions(engine) -> dict[str, list[float]]:
    """Seconds from each transaction's first write (or BEGIN IMMEDIATE) to its commit, as they happen: those
    that wrote list members (the merge) apart from the others (staging the file's chunks, progress)."""
    from sqlalchemy import event

    durations: dict[str, list[float]] = {"merge": [], "staging": []}
    started: dict[int, list] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def first_write(connection, cursor, statement, parameters, context, executemany):
        key = id(connection.connection.dbapi_connection)
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE", "BEGIN ", "COPY "):
            started.setdefault(key, [time.perf_counter(), "staging"])
        if key in started and "list_members" in statement:
            started[key][1] = "merge"

    @event.listens_for(engine, "commit")
    def committed(connection):
        begun = started.pop(id(connection.connection.dbapi_connection), None)
        if begun is not None:
            durations[begun[1]].append(time.perf_counter() - begun[0])

    return durations


def naive_import(path: Path, limit: int) -> int:
    """The same parsing and numbers, but one ORM insert and one commit per row: the baseline."""
    from itertools import islice

    from sqlalchemy import select

    from webapp.contacts.models import Contact, ContactList, ListMember
    from webapp.contacts.phones import InvalidPhone, normalise
    from webapp.contacts.tabular import open_table
    from webapp.extensions import db

    target = ContactList(name="Naive")
    db.session.add(target)
    db.session.commit()
    with open_table(path) as table:
        rows = list(islice(table.rows(), limit))
    for row in rows:
        try:
            phone = normalise(row.values[0], "US")
        except InvalidPhone:
            continue
        contact = db.session.scalar(select(Contact).where(Contact.phone == phone.e164))
        if contact is None:
            contact = Contact(phone=phone.e164, country=phone.region, name=row.values[1],
                              attributes={"city": row.values[2], "tier": row.values[3]})
            db.session.add(contact)
            db.session.commit()
        if db.session.get(ListMember, (target.id, contact.id)) is None:
            db.session.add(ListMember(list_id=target.id, contact_id=contact.id))
            db.session.commit()
    return len(rows)


def server_cpu_seconds(root_pid: int | None) -> float:
    """User + system CPU of the database server so far: its postmaster with the backends that ended and those still
    running. 0 without a server process (SQLite runs in the importer)."""
    return 0.0 if root_pid is None else cpu_seconds(root_pid, reaped=True)


def run_child(args, file: Path, naive: int = 0, profile: str | None = None) -> dict:
    _fresh_database(args.database_url, args.folder, args.redis_url)
    command = [sys.executable, __file__, "--child", "--file", str(file), "--folder", str(args.folder),
               "--database-url", args.database_url, "--redis-url", args.redis_url, "--naive", str(naive)]
    if profile:
        command += ["--profile", profile]
    server_before = server_cpu_seconds(args.server_pid)
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["server_cpu_seconds"] = server_cpu_seconds(args.server_pid) - server_before
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated file sizes")
    parser.add_argument("--naive-rows", type=int, default=5000, help="rows for the naive baseline")
    parser.add_argument("--database-url", help="default: a SQLite file in the temporary folder")
    parser.add_argument("--postgres", action="store_true", help="run a throwaway PostgreSQL on loopback and use it")
    parser.add_argument("--profile", help="write the (first) import's cProfile statistics to this file "
                                          "(read them with python -m pstats)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--redis-url", help=argparse.SUPPRESS)
    parser.add_argument("--naive", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    sizes = [int(size) for size in args.rows.split(",") if size]
    if not sizes or max(sizes) > MAX_ROWS or args.naive_rows > min(sizes):
        parser.error(f"sizes must be between --naive-rows and {MAX_ROWS:,}")
    from webapp import private_redis

    args.folder = Path(tempfile.mkdtemp(prefix="broadcaster-bench-import-"))
    postgres, args.server_pid = None, None
    if args.postgres:
        from tests.services import ThrowawayPostgres

        postgres = ThrowawayPostgres()
        args.database_url = postgres.start()
        args.server_pid = int((postgres.folder / "data" / "postmaster.pid").read_text().split()[0])
    args.database_url = args.database_url or f"sqlite:///{args.folder / 'bench.db'}"
    args.redis_url, redis_process = private_redis.start(args.folder / "redis")
    try:
        database = args.database_url.split(":")[0].split("+")[0]
        print(f"database: {database}; machine: {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
        results = []
        for size in sizes:
            file = args.folder / f"customers-{size}.csv"
            write_file(file, size)
            figures = run_child(args, file, profile=args.profile if size == sizes[0] else None)
            report = figures["report"]
            assert report["status"] == "done", report
            rate = size / figures["seconds"]
            results.append((size, figures["seconds"]))
            print(f"{size:>9,} rows ({file.stat().st_size / 1e6:.0f} MB): {figures['seconds']:6.1f} s "
                  f"({figures['cpu_seconds']:.1f} s CPU in the importing process), "
                  f"{rate:9,.0f} rows/s, peak memory growth {figures['growth_kb'] / 1024:5.1f} MB "
                  f"(peak RSS {figures['peak_kb'] / 1024:.0f} MB); added {report['added']:,}, "
                  f"invalid {report['invalid']:,}, duplicates {report['duplicates']:,}")
            server = (f", database server {figures['server_cpu_seconds'] / size * 1e6:.1f} µs"
                      if args.server_pid else " (SQLite runs inside it)")
            print(f"           CPU per row: importing process {figures['cpu_seconds'] / size * 1e6:.1f} µs{server}")
            print("           longest write transaction: " + ", ".join(
                f"{phase} {figures['longest_ms'][phase]:,.0f} ms (median {figures['median_ms'][phase]:,.0f} ms "
                f"of {figures['writes'][phase]:,})"
                for phase in figures["longest_ms"]) + f"; slowest merge pieces (ms, index): "
                  f"{figures['slowest_merges']}")
            file.unlink()
        first = args.folder / "naive.csv"
        write_file(first, args.naive_rows)
        naive = run_child(args, first, naive=args.naive_rows)
        naive_rate = args.naive_rows / naive["seconds"]
        print(f"naive, one ORM insert and commit per row: {args.naive_rows:,} rows in {naive['seconds']:.1f} s, "
              f"{naive_rate:,.0f} rows/s")
        for size, seconds in results:
            print(f"  {size:>9,} rows naively: about {size / naive_rate:,.0f} s, "
                  f"{size / naive_rate / seconds:.0f}× the streamed import")
    finally:
        if redis_process is not None:
            private_redis.stop(redis_process)
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(args.folder, ignore_errors=True)


if __name__ == "__main__":
    main()
