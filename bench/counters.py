"""Whether the campaign page's counters fragment stays fast as a campaign grows from 10,000 to 1,000,000 rows.

For SQLite (a file in a temporary folder) and PostgreSQL (a throwaway server, tests/services.py), it
bulk-inserts one campaign of 10,000 and one of 1,000,000 recipient rows in a realistic mix of states,
sets their maintained counters, logs a staff user in, and times the whole request for the counters
fragment (login check, campaign, counters, template) through the app's test client. Prints p50/p95 per
size and the 1M/10k ratio of the p95s, and, for the record, the timeline's figures and the log's first
page (bench/campaign_page.py times those at a million rows under every filter).

    .venv/bin/python bench/counters.py                        # both databases, 300 requests per size
    .venv/bin/python bench/counters.py --databases sqlite --requests 100
"""
from __future__ import annotations

import argparse
import html
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from sqlalchemy import text  # noqa: E402 - after the path fix above

from bench.databases import each_database  # noqa: E402

SIZES = (10_000, 1_000_000)
GOAL_P95_MS, GOAL_RATIO = 20.0, 2.0
PASSWORD = "counters under load 9"  # the password rule refuses one that repeats the email

# One row per n: 1 in 20 pending, 1 failed, then sent, delivered, read and replied in growing shares;
# timestamps as a sender at 80 messages/s and customers reading within the hour would leave them.
STATUS_OF_N = """CASE WHEN n % 20 = 0 THEN 'pending' WHEN n % 20 = 1 THEN 'failed' WHEN n % 20 < 5 THEN 'sent'
                      WHEN n % 20 < 10 THEN 'delivered' WHEN n % 20 < 18 THEN 'read' ELSE 'replied' END"""
REACHED_OF_N = """CASE WHEN n % 20 < 2 THEN 0 WHEN n % 20 < 5 THEN 2 WHEN n % 20 < 10 THEN 3
                       WHEN n % 20 < 18 THEN 4 ELSE 5 END"""
COLUMNS = ("campaign_id, phone, name, country, status, reached, skip_reason, attempts, error_code, error_title, "
           "error_detail, created_at, sent_at, delivered_at, read_at, replied_at, reply_text, reply_button, "
           "pricing_category, pricing_model")


def _rows_sql(dialect: str) -> str:
    """INSERT … SELECT over a generated series: a million rows without a million Python objects."""
    if dialect == "sqlite":
        series = "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < :count - 1)"
        phone = "'+1' || printf('%010d', :first + n)"
        at = lambda seconds: f"strftime('%Y-%m-%d %H:%M:%S', '2026-11-23 12:00:00', '+' || ({seconds}) || ' seconds') || '.000000'"  # noqa: E731,E501
        source = "seq"
    else:
        series = ""
        phone = "'+1' || lpad((:first + n)::text, 10, '0')"
        at = lambda seconds: f"timestamptz '2026-11-23 12:00:00+00' + ({seconds}) * interval '1 second'"  # noqa: E731
        source = "generate_series(0, :count - 1) AS n"
    stamp = lambda rank, seconds: f"CASE WHEN ({REACHED_OF_N}) >= {rank} THEN {at(seconds)} END"  # noqa: E731
    return f"""{series}
        INSERT INTO recipients ({COLUMNS})
        SELECT :campaign_id, {phone}, 'Customer ' || n, 'US', {STATUS_OF_N}, {REACHED_OF_N}, '', 1,
               CASE WHEN n % 20 = 1 THEN 131026 END, CASE WHEN n % 20 = 1 THEN 'Message undeliverable' ELSE '' END,
               '', {at('0')}, {stamp(2, 'n / 80')}, {stamp(3, 'n / 80 + 2')}, {stamp(4, 'n / 80 + 600')},
               {stamp(5, 'n / 80 + 1200')}, CASE WHEN n % 20 >= 18 THEN 'Yes please' ELSE '' END, '', 'marketing', 'PMP'
        FROM {source}"""


def seed(app, size: int, first: int) -> int:
    """A sending campaign of `size` rows, its counters set from a recount, as launch and webhooks keep them."""
    from webapp.campaigns.lifecycle import COUNTER_NAMES, add_counts, recount, recount_failures
    from webapp.campaigns.models import Campaign
    from webapp.campaigns.timeline_counts import rebuild
    from webapp.extensions import db
    from webapp.senders.models import Sender

    sender = db.session.query(Sender).first() or Sender(label="Bench", phone_number_id="100000000000001",
                                                        waba_id="200000000000001", access_token="x")
    campaign = Campaign(name=f"Bench {size:,}", sender=sender, status="sending", template_name="bench")
    db.session.add(campaign)
    db.session.flush()
    db.session.execute(text(_rows_sql(db.engine.dialect.name)),
                       {"campaign_id": campaign.id, "count": size, "first": first})
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE recipients"))
    figures = recount(db.session, campaign.id)
    add_counts(db.session, campaign.id, {name: figures[name] for name in COUNTER_NAMES})
    add_counts(db.session, campaign.id, recount_failures(db.session, campaign.id))  # the failed rows by error code
    rebuild(db.session, [campaign.id])  # the timeline's figures, as webhooks keep them
    db.session.commit()
    return campaign.id


def timed(client, url: str, requests: int, headers: dict | None = None) -> list[float]:
    for _ in range(min(20, requests)):  # warm up caches, compiled statements, the connection pool
        assert client.get(url, headers=headers).status_code == 200
    took = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(url, headers=headers)
        took.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200
    return took


def p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bench_database(name: str, url: str, folder: Path, redis_url: str, requests: int) -> dict:
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.auth.services import create_user
    from webapp.extensions import db
    from webapp.tracking.timeline import timeline

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(folder),
                      "SANDBOX_ENABLED": False, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    results = {}
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        create_user("bench@example.com", PASSWORD, role="staff", name="Bench")
        db.session.commit()
        campaigns = {}
        for size in SIZES:
            began = time.perf_counter()
            campaigns[size] = seed(app, size, first=sum(campaigns) * 10 + size)
            print(f"  {name}: {size:,} rows inserted and counted in {time.perf_counter() - began:.1f} s", flush=True)
        client = app.test_client()
        assert client.post("/login", data={"email": "bench@example.com", "password": PASSWORD}).status_code == 302
        for size, campaign_id in campaigns.items():
            counters = timed(client, f"/campaigns/{campaign_id}/live/counters", requests)
            # the campaign page's poll as a page that is up to date sends it: its poller's own URL (what it saw)
            first = client.get(f"/campaigns/{campaign_id}/live").get_data(as_text=True)
            poll_url = html.unescape(re.search(r'hx-get="([^"]*/live\?[^"]*)"', first).group(1))
            poll = timed(client, poll_url, requests)
            began = time.perf_counter()
            timeline(db.session, campaign_id)  # from the figures kept as rows move (issue #20)
            drawn_ms = [(time.perf_counter() - began) * 1000]
            # the log's results as its polling asks for them: one status, first page
            log = timed(client, f"/campaigns/{campaign_id}/log?status=failed", max(5, requests // 10),
                        headers={"HX-Request": "true", "HX-Target": "recipient-log-results"})
            results[size] = {"counters": counters, "poll": poll, "timeline": drawn_ms, "log": log}
        db.session.remove()
        db.engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=300, help="timed counters requests per campaign size")
    args = parser.parse_args()

    failed = False
    for name, url, folder, redis_url in each_database(args.databases, "counters"):
        results = bench_database(name, url, folder, redis_url, args.requests)
        small, large = (results[size]["counters"] for size in SIZES)
        ratio = p(large, 0.95) / p(small, 0.95)
        print(f"{name}: counters fragment")
        for size in SIZES:
            took = results[size]["counters"]
            print(f"  {size:>9,} rows: p50 {statistics.median(took):.1f} ms, p95 {p(took, 0.95):.1f} ms "
                  f"({len(took)} requests)")
        print(f"  1M/10k p95 ratio {ratio:.2f} (goal < {GOAL_RATIO}); 1M p95 {p(large, 0.95):.1f} ms "
              f"(goal < {GOAL_P95_MS:.0f} ms)")
        print("  the page's poll when nothing changed (polled each 2 s while sending): " + ", ".join(
            f"{size:,} rows p50 {statistics.median(results[size]['poll']):.1f} ms, "
            f"p95 {p(results[size]['poll'], 0.95):.1f} ms" for size in SIZES))
        print("  for the record, the timeline's figures (kept as rows move; bench/campaign_page.py has more): " + ", ".join(
            f"{size:,} rows {results[size]['timeline'][0]:.0f} ms" for size in SIZES))
        print("  and the log's first page of failed rows (asked again when the campaign changed): " + ", ".join(
            f"{size:,} rows p50 {statistics.median(results[size]['log']):.1f} ms" for size in SIZES))
        failed |= ratio >= GOAL_RATIO or p(large, 0.95) >= GOAL_P95_MS
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
