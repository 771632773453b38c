"""Counting a three-condition segment over a million contacts, and launching a campaign to a million-contact segment.

For SQLite (a file in a temporary folder) and PostgreSQL (a throwaway server, tests/services.py), it seeds
--contacts contacts set-based (INSERT … SELECT over a generated series, no Python object per row): city, age and
joined in contacts.attributes (as given, for templates) and in contact_values (typed, as imports write them), 10 %
tagged vip, 20 % with a recipient row of an earlier campaign (half of those messaged in the last three days, and
half of the vips of Lyon among them). Then:

- the segment "city is Lyon, tag vip, not messaged in 7 days" counted through webapp.audience.segments.count
  (what the builder's live count, the list and the API run): p50/p95 of --repeats counts (goals: p95 < 300 ms on
  PostgreSQL, < 2 s on SQLite);
- the naive baseline in the same run: every contact's attributes, the vip tags and the recent recipients loaded
  into Python and filtered there;
- on PostgreSQL, the other storage the issue asks to measure: the same filter with the city read from
  contacts.attributes cast to jsonb, under a GIN index (jsonb_path_ops), with `@>`;
- on PostgreSQL, a campaign composed for a segment every contact matches ("joined is not empty"), launched
  through webapp.campaigns.launch.snapshot (the launch job's code): seconds to write its recipient rows (goal
  < 60 s for 1,000,000), the CPU a row of the job and of PostgreSQL (the job's own backends apart), the campaign
  page's p95 while it runs and each process's peak memory. --writers 1,2 launches twice in the same run, the
  one-writer baseline first, then two chunks at once (the launch's default on PostgreSQL).

    .venv/bin/python bench/segments.py                                  # 1,000,000 contacts, both databases
    .venv/bin/python bench/segments.py --contacts 100000 --databases sqlite --repeats 10   # a quick run
    .venv/bin/python bench/segments.py --databases postgresql --contacts 200000 --launch-only --writers 1,2
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from sqlalchemy import text  # noqa: E402 - after the path fix above

from bench.counters import p  # noqa: E402
from bench.databases import each_database  # noqa: E402

GOAL_P95_MS = {"postgresql": 300.0, "sqlite": 2000.0}
GOAL_LAUNCH_S = 60.0
GOAL_PAGE_P95_MS = 200.0  # the campaign's page while its launch runs (issue #20)
GOAL_RSS_MB = 300
LAUNCH_NAME = "bench-launch"  # the launch job's connections, as PostgreSQL lists them
PAGE_EVERY = 0.2  # seconds between two reads of the campaign's page during the launch
PAGE_USER, PAGE_PASSWORD = "reader@example.com", "long enough and unguessable 7"
MAX_CONTACTS = 2_000_000  # bounded: the database stays a few hundred MB
CITIES = ("Paris", "Lyon", "Marseille", "Lille", "Nantes", "Bordeaux", "Toulouse", "Nice")
SEGMENT = {"match": "all", "conditions": [
    {"field": "attribute", "name": "city", "op": "equals", "value": "Lyon"},
    {"field": "tag", "op": "has", "value": "vip"},
    {"field": "received", "op": "not_within_days", "value": 7}]}
EVERYONE = {"match": "all", "conditions": [{"field": "attribute", "name": "joined", "op": "is_not_empty"}]}


def _sql(dialect: str) -> dict[str, str]:
    """The seeding statements: a contact per n of the series; its values and tags from its id (n + 1)."""
    if dialect == "sqlite":
        series = "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < :count - 1)"
        source, phone = "seq", "'+336' || printf('%08d', n)"
        joined = "date('2020-01-01', '+' || (n % 2000) || ' days')"
        json_of = lambda body: body  # noqa: E731 - a JSON column is text in SQLite
        now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
        since = "strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || :days || ' days')"
    else:
        series, source, phone = "", "generate_series(0, :count - 1) AS n", "'+336' || lpad(n::text, 8, '0')"
        joined = "(date '2020-01-01' + (n % 2000))"
        json_of = lambda body: f"({body})::json"  # noqa: E731
        now, since = "now()", "now() - :days * interval '1 day'"
    city = "CASE n % 8 " + " ".join(f"WHEN {i} THEN '{name}'" for i, name in enumerate(CITIES)) + " END"
    attributes = json_of(f"""'{{"city": "' || {city} || '", "age": "' || (18 + n % 60) || '", "joined": "'
                             || {joined} || '"}}'""")
    by_id = "(SELECT id, id - 1 AS n FROM contacts) AS c"
    values = "INSERT INTO contact_values (contact_id, key, as_text, as_number, as_date, as_flag) "
    return {
        "contacts": f"""{series} INSERT INTO contacts (phone, country, name, attributes, opt_out_reason, created_at,
                         updated_at)
                         SELECT {phone}, 'FR', 'Customer ' || n, {attributes}, '', {now}, {now} FROM {source}""",
        "city": values + f"SELECT id, 'city', lower({city}), NULL, NULL, NULL FROM {by_id}",
        "age": values + f"SELECT id, 'age', CAST(18 + n % 60 AS TEXT), 18 + n % 60, NULL, NULL FROM {by_id}",
        "joined": values + f"SELECT id, 'joined', CAST({joined} AS TEXT), NULL, {joined}, NULL FROM {by_id}",
        "vip": f"INSERT INTO contact_tags (contact_id, tag_id, added_at) SELECT id, :tag_id, {now} FROM {by_id} "
               "WHERE n % 10 = 3",
        # 20 % messaged by an earlier campaign: half of them 3 days ago ((n / 40) even), the others 30 days ago.
        "recipients": f"""INSERT INTO recipients (campaign_id, contact_id, phone, name, country, status, reached,
                           skip_reason, attempts, error_title, error_detail, created_at, accepted_at, reply_text,
                           reply_button, pricing_category, pricing_model)
                          SELECT :campaign_id, c.id, contacts.phone, contacts.name, 'FR', 'delivered', 3, '', 1, '',
                                 '', {now}, CASE WHEN (n / 40) % 2 = 0 THEN {since.replace(':days', '3')}
                                                 ELSE {since.replace(':days', '30')} END, '', '', 'marketing', ''
                          FROM {by_id} JOIN contacts ON contacts.id = c.id WHERE n % 10 IN (0, 3)""",
    }


def seed(count: int) -> None:
    from webapp.campaigns.models import Campaign
    from webapp.contacts import fields
    from webapp.contacts.models import ContactValue, Tag
    from webapp.extensions import db
    from webapp.senders.models import Sender, Template

    statements = _sql(db.engine.dialect.name)
    # The values' indexes are built once the rows are in (faster than row by row; the same indexes in the end).
    indexes = [index for index in ContactValue.__table__.indexes]
    for index in indexes:
        index.drop(db.engine)
    for name in ("contacts", "city", "age", "joined"):
        db.session.execute(text(statements[name]), {"count": count})
        db.session.commit()
    for index in indexes:
        index.create(db.engine)
    fields.remember(db.session, {"city": "text", "age": "number", "joined": "date"})
    vip = Tag(key="vip", name="vip")
    sender = Sender(label="Bench", phone_number_id="100000000000001", waba_id="200000000000001",
                    access_token="sandbox-token", throughput=80)
    earlier = Campaign(name="Earlier", sender=sender, status="sent", template_name="bench")
    template = Template(waba_id=sender.waba_id, name="bench_offer", language="fr", status="APPROVED",
                        category="MARKETING", parameter_format="POSITIONAL",
                        components=[{"type": "BODY", "text": "Bonjour {{1}}, à bientôt à {{2}} !"}])
    db.session.add_all([vip, earlier, template])
    db.session.flush()
    db.session.execute(text(statements["vip"]), {"tag_id": vip.id})
    db.session.execute(text(statements["recipients"]), {"campaign_id": earlier.id})
    db.session.commit()
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # Statistics and (on PostgreSQL) the visibility map, as autovacuum leaves them after a bulk import.
        connection.execute(text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"))


def timed(work, repeats: int, warm: int = 2) -> tuple[list[float], object]:
    for _ in range(warm):
        work()
    took, answer = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        answer = work()
        took.append((time.perf_counter() - began) * 1000)
    return took, answer


def naive_count() -> int:
    """The baseline: load what the filter reads into Python and filter there."""
    from sqlalchemy import select

    from webapp.campaigns.models import Recipient
    from webapp.contacts.models import Contact, ContactTag, Tag
    from webapp.extensions import db
    from webapp.timestamps import utcnow

    vip = db.session.scalar(select(Tag.id).where(Tag.key == "vip"))
    tagged = set(db.session.scalars(select(ContactTag.contact_id).where(ContactTag.tag_id == vip)))
    recent = set(db.session.scalars(select(Recipient.contact_id)
                                    .where(Recipient.accepted_at >= utcnow() - timedelta(days=7))))
    found = 0
    for contact_id, attributes in db.session.execute(select(Contact.id, Contact.attributes)):
        attributes = json.loads(attributes) if isinstance(attributes, str) else attributes
        city = next((str(v) for k, v in (attributes or {}).items() if k.strip().casefold() == "city"), "")
        if city.strip().casefold() == "lyon" and contact_id in tagged and contact_id not in recent:
            found += 1
    return found


def jsonb_count() -> int:
    """The JSONB storage: the city read from contacts.attributes as jsonb under a GIN index (PostgreSQL)."""
    from webapp.extensions import db
    from webapp.timestamps import utcnow

    return db.session.scalar(text("""
        SELECT count(*) FROM contacts
        WHERE attributes::jsonb @> '{"city": "Lyon"}'
          AND id IN (SELECT contact_id FROM contact_tags JOIN tags ON tags.id = contact_tags.tag_id
                     WHERE tags.key = 'vip')
          AND NOT EXISTS (SELECT 1 FROM recipients WHERE recipients.contact_id = contacts.id
                          AND recipients.accepted_at >= :since)"""), {"since": utcnow() - timedelta(days=7)})


def _app(url: str, redis_url: str, folder: str, **config):
    from webapp import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "INSTANCE_PATH": folder,
                       "SANDBOX_ENABLED": False, "SECRET_KEY": "bench", **config})


def compose_launch(label: str) -> int:
    """Compose a campaign for a segment every contact matches and launch it (queued: its snapshot is the launch
    job's); its id. Its variables are the common case: the name with a fallback and an attribute."""
    from sqlalchemy import select

    from webapp.audience import segments
    from webapp.auth.models import User
    from webapp.auth.services import create_user
    from webapp.campaigns import services
    from webapp.extensions import db
    from webapp.senders.models import Sender, Template
    from webapp.workspace.models import WorkspaceSettings

    if db.session.scalar(select(User).where(User.email == PAGE_USER)) is None:
        create_user(PAGE_USER, PAGE_PASSWORD, role="staff", name="Bench")
    WorkspaceSettings.get()  # made here, not by both processes below at once
    everyone = segments.create(db.session, f"Everyone who joined ({label})", EVERYONE, None)
    sender, template = db.session.scalar(select(Sender)), db.session.scalar(select(Template))
    campaign = services.save_draft(services.Draft(
        f"Bench launch ({label})", sender.id, template.id, [], segment_id=everyone.id,
        variables={"body:1": {"source": "name", "fallback": "vous"},
                   "body:2": {"source": "attribute", "value": "city"}}))
    db.session.commit()
    services.launch(campaign)
    db.session.commit()
    return campaign.id


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: getrusage's maxrss would count the parent's, from before exec)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


def _postgres_cpu(session) -> tuple[float, float] | None:
    """CPU seconds used by PostgreSQL's processes, and by the launch job's own backends (the connections named
    LAUNCH_NAME: the job writes chunks on several at once); the server runs here: its processes are in /proc."""
    from sqlalchemy import text as sql

    try:
        data = Path(session.scalar(sql("SHOW data_directory")))
        postmaster = (data / "postmaster.pid").read_text().split()[0]
        backends = {str(pid) for pid in session.scalars(sql("SELECT pid FROM pg_stat_activity WHERE "
                                                            "application_name = :name"), {"name": LAUNCH_NAME})}
    except Exception:  # noqa: BLE001 - not a local PostgreSQL: no figure
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = own = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == postmaster or stat.parent.name == postmaster:  # ppid, or the postmaster itself
            total += int(fields[11]) + int(fields[12])
            own += (int(fields[11]) + int(fields[12])) if stat.parent.name in backends else 0
    return total / ticks, own / ticks


def _backend_cpu(session) -> float | None:
    """CPU seconds used so far by the session's PostgreSQL backend (None on SQLite or a remote server)."""
    from sqlalchemy import text as sql

    if session.get_bind().dialect.name != "postgresql":
        return None
    try:
        stat = Path(f"/proc/{session.scalar(sql('SELECT pg_backend_pid()'))}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def launch_job(url: str, redis_url: str, folder: str, campaign_id: int, writers: int, answers) -> None:
    """The launch job in a process of its own (as an RQ worker runs it), writing `writers` chunks at once, timed,
    with its CPU, PostgreSQL's CPU and its peak memory."""
    from sqlalchemy import func, select

    from webapp.campaigns import launch as launch_module
    from webapp.campaigns.launch import snapshot
    from webapp.campaigns.models import Recipient
    from webapp.extensions import db

    # Its connections named, to find their backends (those it opens during the launch start from nothing).
    named = {"pool_pre_ping": True, "connect_args": {"application_name": LAUNCH_NAME}}
    launch_module.WRITERS = writers
    with _app(url, redis_url, folder, SQLALCHEMY_ENGINE_OPTIONS=named).app_context():
        server = _postgres_cpu(db.session)
        began, cpu = time.perf_counter(), time.process_time()
        assert snapshot(campaign_id) == "sending"
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        if server is not None:
            server = tuple(after - before for after, before in zip(_postgres_cpu(db.session), server))
        rows = db.session.scalar(select(func.count()).where(Recipient.campaign_id == campaign_id))
        answers.put({"writers": writers, "launch_s": seconds, "launched_rows": rows, "cpu_s": cpu,
                     "server_cpu_s": server, "rss_mb": _peak_mb()})


def page_reader(url: str, redis_url: str, folder: str, path: str, ready, stop, answers) -> None:
    """Staff with the campaign's page open: a GET every PAGE_EVERY seconds, timed, until `stop`."""
    app = _app(url, redis_url, folder, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    assert client.post("/login", data={"email": PAGE_USER, "password": PAGE_PASSWORD}).status_code == 302
    for _ in range(3):
        client.get(path)
    ready.set()
    took = []
    while not stop.is_set():
        began = time.perf_counter()
        response = client.get(path)
        assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[-2000:])
        took.append((time.perf_counter() - began) * 1000)
        stop.wait(PAGE_EVERY)
    answers.put({"page_ms": took, "page_rss_mb": _peak_mb()})


def launch(url: str, redis_url: str, folder: Path, writers: int) -> dict:
    """Launch a composed campaign in a process of its own while another reads its page; their figures."""
    from webapp.extensions import db

    campaign_id = compose_launch(f"{writers} at once")
    db.session.remove()
    spawn = multiprocessing.get_context("spawn")
    ready, stop, answers = spawn.Event(), spawn.Event(), spawn.Queue()
    reader = spawn.Process(target=page_reader, args=(url, redis_url, str(folder), f"/campaigns/{campaign_id}",
                                                    ready, stop, answers))
    reader.start()
    job = spawn.Process(target=launch_job, args=(url, redis_url, str(folder), campaign_id, writers, answers))
    try:
        if not ready.wait(120):
            raise RuntimeError("the page reader did not start")
        job.start()
        figures = _answer(answers, job, reader)
        stop.set()
        figures.update(_answer(answers, reader))
    finally:
        for process in (job, reader):
            if process.is_alive():
                process.terminate()
            if process.pid is not None:
                process.join()
    return figures


def _answer(answers, *processes) -> dict:
    """The next answer of these processes; an error as soon as one of them died without one."""
    import queue

    while True:
        try:
            return answers.get(timeout=1)
        except queue.Empty:
            if any(process.exitcode not in (None, 0) for process in processes):
                raise RuntimeError("a benchmark process failed (its error is above)") from None


def bench_database(name: str, url: str, folder: Path, redis_url: str, args) -> dict:
    from flask_migrate import upgrade

    from webapp.audience import segments
    from webapp.extensions import db

    app = _app(url, redis_url, str(folder))
    figures: dict = {}
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        began = time.perf_counter()
        seed(args.contacts)
        print(f"  {name}: {args.contacts:,} contacts (3 values each, 10 % vip, 20 % messaged) seeded in "
              f"{time.perf_counter() - began:.1f} s", flush=True)
        if args.launch_only:
            figures["launches"] = [launch(url, redis_url, folder, writers) for writers in args.writers]
            db.session.remove()
            db.engine.dispose()
            return figures
        count = lambda: segments.count(db.session, SEGMENT).total  # noqa: E731
        backend = _backend_cpu(db.session)
        figures["count"], counted = timed(count, args.repeats)
        if backend is not None:  # the CPU a count costs PostgreSQL (warm-ups included): what the load cannot skew
            figures["count_cpu_ms"] = (_backend_cpu(db.session) - backend) / (args.repeats + 2) * 1000
        figures["naive"], naive = timed(naive_count, args.naive_repeats, warm=0)
        assert naive == counted, (naive, counted)
        figures["matched"] = counted
        if name == "postgresql":
            began = time.perf_counter()
            db.session.execute(text("CREATE INDEX ix_bench_contacts_jsonb ON contacts "
                                    "USING gin ((attributes::jsonb) jsonb_path_ops)"))
            db.session.execute(text("ANALYZE contacts"))
            db.session.commit()
            figures["gin_build_s"] = time.perf_counter() - began
            figures["jsonb"], by_jsonb = timed(jsonb_count, args.repeats)
            assert by_jsonb == counted, (by_jsonb, counted)
            figures["sizes_mb"] = {relation: db.session.scalar(text(f"SELECT pg_total_relation_size('{relation}')"))
                                   / 1e6 for relation in ("contact_values", "ix_bench_contacts_jsonb", "contacts")}
            figures["plan"] = "\n".join(row[0] for row in db.session.execute(text(
                "EXPLAIN " + str(segments_sql(db)))))
        if (name == "postgresql" or args.launch_on_sqlite) and not args.no_launch:
            figures["launches"] = [launch(url, redis_url, folder, writers) for writers in args.writers]
        db.session.remove()
        db.engine.dispose()
    return figures


def segments_sql(db):
    """The segment's count as SQL with its values inlined, for EXPLAIN."""
    from sqlalchemy import func, select

    from webapp.audience.conditions import compile_filter
    from webapp.contacts.models import Contact

    query = select(func.count()).select_from(Contact).where(compile_filter(db.session, SEGMENT).where)
    return query.compile(db.engine, compile_kwargs={"literal_binds": True})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--repeats", type=int, default=30, help="timed counts per storage")
    parser.add_argument("--naive-repeats", type=int, default=3, help="timed runs of the naive baseline")
    parser.add_argument("--launch-on-sqlite", action="store_true", help="also time the launch on SQLite")
    parser.add_argument("--explain", action="store_true", help="print PostgreSQL's plan of the count")
    parser.add_argument("--launch-only", action="store_true", help="time the launch only, not the counts")
    parser.add_argument("--no-launch", action="store_true", help="the counts only, no launch")
    parser.add_argument("--writers", default="2", type=lambda text: [int(n) for n in text.split(",")],
                        help="chunks the launch writes at once on PostgreSQL, comma-separated for one launch each "
                             "(1,2: the one-writer baseline, then two, in the same run)")
    args = parser.parse_args()
    if not 1000 <= args.contacts <= MAX_CONTACTS:
        parser.error(f"--contacts is between 1,000 and {MAX_CONTACTS:,}")

    failed = False
    for name, url, folder, redis_url in each_database(args.databases, "segments"):
        figures = bench_database(name, url, folder, redis_url, args)
        if "count" in figures:
            failed |= counts_said(name, figures, args)
        for launched in figures.get("launches", []):
            failed |= launch_said(name, launched, figures["launches"][0])
    return 1 if failed else 0


def counts_said(name: str, figures: dict, args) -> bool:
    """Print the counts' figures; whether a goal was missed."""
    count, naive = figures["count"], figures["naive"]
    print(f"{name}: “city is Lyon, tag vip, not messaged in 7 days” over {args.contacts:,} contacts "
          f"({figures['matched']:,} match)")
    print(f"  segments.count (typed values, contact_values): p50 {statistics.median(count):.1f} ms, "
          f"p95 {p(count, 0.95):.1f} ms over {len(count)} counts (goal p95 < {GOAL_P95_MS[name]:,.0f} ms)")
    if "count_cpu_ms" in figures:
        print(f"  CPU a count, PostgreSQL's backend: {figures['count_cpu_ms']:.0f} ms (the wall-clock above is that "
              "and waiting for a core)")
    print(f"  naive (load into Python, filter there): p50 {statistics.median(naive):,.0f} ms over "
          f"{len(naive)} runs; {statistics.median(naive) / statistics.median(count):,.0f}× the count")
    if "jsonb" in figures:
        jsonb = figures["jsonb"]
        print(f"  JSONB alternative (attributes::jsonb @> city, GIN jsonb_path_ops): p50 "
              f"{statistics.median(jsonb):.1f} ms, p95 {p(jsonb, 0.95):.1f} ms; "
              f"{statistics.median(jsonb) / statistics.median(count):.2f}× the typed count; "
              f"GIN built in {figures['gin_build_s']:.1f} s")
        print("  sizes: " + ", ".join(f"{k} {v:,.0f} MB" for k, v in figures["sizes_mb"].items()))
        if args.explain:
            print(figures["plan"])
    return p(count, 0.95) >= GOAL_P95_MS[name]


def launch_said(name: str, figures: dict, first: dict) -> bool:
    """Print a launch's figures (and its time against the run's first launch); whether a goal was missed."""
    rows = figures["launched_rows"]
    rate = rows / figures["launch_s"]
    page = figures["page_ms"]
    server = (f", PostgreSQL {figures['server_cpu_s'][0] / rows * 1e6:.0f} µs (the launch's backends "
              f"{figures['server_cpu_s'][1] / rows * 1e6:.0f} µs; the rest: the page's queries, PostgreSQL's own)"
              if figures["server_cpu_s"] is not None else "")
    against = (f", {figures['launch_s'] / first['launch_s']:.2f}× the time of {first['writers']} at once"
               if figures is not first else "")
    print(f"{name}: launch to a segment of {rows:,} contacts, {figures['writers']} chunk(s) at once: rows written in "
          f"{figures['launch_s']:.1f} s{against} "
          f"({rate:,.0f} rows/s, {figures['launch_s'] / rows * 1e6:.0f} µs a row; goal < {GOAL_LAUNCH_S:.0f} s "
          "for 1,000,000)")
    print(f"  CPU a row: launch job {figures['cpu_s'] / rows * 1e6:.0f} µs{server}")
    print(f"  campaign page during the launch: p50 {statistics.median(page):.0f} ms, p95 {p(page, 0.95):.0f} ms "
          f"over {len(page)} reads (goal p95 < {GOAL_PAGE_P95_MS:.0f} ms)")
    print(f"  peak memory: launch job {figures['rss_mb']:.0f} MB, page reader {figures['page_rss_mb']:.0f} MB "
          f"(goal < {GOAL_RSS_MB} MB a process)")
    return ((name == "postgresql" and 1_000_000 / rate >= GOAL_LAUNCH_S) or p(page, 0.95) >= GOAL_PAGE_P95_MS
            or max(figures["rss_mb"], figures["page_rss_mb"]) >= GOAL_RSS_MB)


if __name__ == "__main__":
    sys.exit(main())
