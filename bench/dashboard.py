"""Whether the Reports page across 100 campaigns and 10,000,000 recipient rows renders in under 500 ms, because it
reads the daily figures kept as statuses arrive (webapp/campaigns/daily.py) rather than scanning the rows.

For SQLite (a file) and PostgreSQL (a throwaway server), one after the other (bench/databases.py):

1. Real rows: `--real-rows` (100,000) recipient rows of 10 campaigns, claimed over three days in a few time zones,
   are driven through the real status path (campaigns/statuses.apply_statuses, in batches of 500 as the webhook
   ingest applies them): sent, delivered, read, duplicates, statuses out of order, failures before and after
   delivery; then 1,000 replies (100 of them STOP) through webhooks/inbound.apply_messages. Checks that the daily
   figures equal a scan of the rows, and times that scan: the naive way to draw the page.
2. The naive baseline at a larger size: the same scan over `--scan-rows` (1,000,000) rows inserted in bulk.
3. Scale: the daily figures are emptied and seeded directly, as 100 campaigns of 100,000 recipients each (10 million
   rows) spread over the last 90 days would have left them; then a staff user's requests for the Reports page
   (90 days by day, by week, two years by month) and the API's report are timed through the app: p50/p95.

    .venv/bin/python bench/dashboard.py                       # both databases
    .venv/bin/python bench/dashboard.py --databases sqlite --real-rows 20000 --scan-rows 200000 --requests 30
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from sqlalchemy import insert, select, text  # noqa: E402 - after the path fix above

from bench.counters import _rows_sql, p, timed  # noqa: E402
from bench.databases import each_database  # noqa: E402

GOAL_P95_MS = 500.0
PASSWORD = "reports under load 9"
CAMPAIGNS, RECIPIENTS_EACH = 100, 100_000  # 10 million rows' worth
ZONES = (None, "America/Sao_Paulo", "Asia/Kolkata", "Europe/Madrid")
UNDELIVERABLE = (131026, "Message undeliverable", "Unable to deliver message.")
EXPERIMENT = (130472, "User's number is part of an experiment", "Meta's marketing message experiment.")


def real_rows(count: int, sender) -> list[int]:
    """`count` claimed rows in 10 campaigns, sent over three days at every hour, in a few zones; their ids."""
    from webapp.campaigns.models import Campaign, Recipient
    from webapp.extensions import db

    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
    campaigns = [Campaign(name=f"Real {i}", sender=sender, status="sending", template_name=f"real_{i % 3}",
                          template_language="en") for i in range(10)]
    db.session.add_all(campaigns)
    db.session.flush()
    rows = [{"campaign_id": campaigns[n % 10].id, "phone": f"+1555{n:07d}", "status": "sending", "reached": 0,
             "attempts": 1, "claim_token": "bench", "wamid": f"wamid.BENCH{n:09d}", "zone": ZONES[n % 4],
             "sending_at": start + timedelta(seconds=n * 3 * 86400 // count)} for n in range(count)]
    for chunk in range(0, count, 5000):
        db.session.execute(insert(Recipient), rows[chunk:chunk + 5000])
    db.session.commit()
    return list(db.session.scalars(select(Recipient.id).where(Recipient.claim_token == "bench")
                                   .order_by(Recipient.id)))


def statuses_for(ids: list[int]) -> list:
    """What Meta would say of these rows, with its duplicates and disorder; in the order it arrives."""
    from webapp.campaigns.statuses import StatusUpdate
    from webapp.meta_errors import MetaError

    now = datetime.now(timezone.utc)
    updates = []
    for n, row_id in enumerate(ids):
        wamid, fate = f"wamid.BENCH{n:09d}", n % 50
        names = ["failed"] if fate == 0 else ["sent", "delivered", "read"][:1 + (n % 3 != 0) + (n % 5 < 3)]
        if fate == 1:
            names = ["sent", "delivered", "failed"]  # failed after it was delivered
        if fate == 2:
            names = ["read", "sent", "sent"]  # out of order, and a duplicate
        for name in names:
            failure = MetaError(*(EXPERIMENT if fate == 0 else UNDELIVERABLE)) if name == "failed" else None
            updates.append(StatusUpdate(wamid, name, now, row_id if n % 7 else None, failure, None, {}))
    return updates


def drive(updates: list, batch: int = 500) -> float:
    """Apply the statuses as the webhook ingest does, a batch per transaction; seconds taken."""
    from webapp.campaigns.statuses import apply_statuses
    from webapp.extensions import db
    from webapp.transactions import begin_write

    began = time.perf_counter()
    for start in range(0, len(updates), batch):
        begin_write(db.session)
        assert not apply_statuses(db.session, updates[start:start + batch])
        db.session.commit()
    return time.perf_counter() - began


def replies(ids: list[int], count: int = 1000) -> None:
    from webapp.campaigns.models import Recipient
    from webapp.extensions import db
    from webapp.transactions import begin_write
    from webapp.webhooks.inbound import apply_messages
    from webapp.webhooks.payloads import Inbound

    chosen = db.session.execute(select(Recipient.phone, Recipient.wamid).where(
        Recipient.id.in_(ids[::max(1, len(ids) // count)][:count]), Recipient.reached >= 2)).all()
    now = datetime.now(timezone.utc)
    for i in range(0, len(chosen), 100):
        begin_write(db.session)
        apply_messages(db.session, [(None, Inbound(f"wamid.IN{i + j}", phone, "Bench", "text",
                                                    "STOP" if (i + j) % 10 == 0 else "Thanks", "", "", wamid, now))
                                    for j, (phone, wamid) in enumerate(chosen[i:i + 100])])
        db.session.commit()


def stored_days() -> dict:
    """The daily figures as the tables hold them, shards added up (what the page reads)."""
    from sqlalchemy import func

    from webapp.campaigns.daily import DAY_FIGURES, CampaignDay
    from webapp.extensions import db

    return {(day, campaign_id): tuple(int(v) for v in values) for day, campaign_id, *values in db.session.execute(
        select(CampaignDay.day, CampaignDay.campaign_id, *(func.sum(getattr(CampaignDay, name)) for name in DAY_FIGURES))
        .group_by(CampaignDay.day, CampaignDay.campaign_id))}


def scanned_days(tally) -> dict:
    from webapp.campaigns.daily import DAY_FIGURES

    return {key: tuple(figures.get(name, 0) for name in DAY_FIGURES) for key, figures in tally.days.items()}


def timed_scan() -> tuple[float, object]:
    from webapp.campaigns.daily import scan
    from webapp.extensions import db
    from webapp.webhooks.inbound import opt_out_answers

    began = time.perf_counter()
    tally = scan(db.session, opt_out_answers())
    return (time.perf_counter() - began) * 1000, tally


def seed_scale(sender, today: date) -> None:
    """The daily figures of 100 campaigns × 100,000 recipients over the last 90 days, written directly: each campaign
    sends over two days, in four shards, at every hour; a few error codes fail 2 % of its messages."""
    from webapp.campaigns.daily import CampaignDay, FailureDay, SendHour
    from webapp.campaigns.models import Campaign
    from webapp.extensions import db

    for model in (CampaignDay, SendHour, FailureDay):
        db.session.execute(model.__table__.delete())
    campaigns = [Campaign(name=f"Scale {i}", sender=sender, status="sent", template_name=f"promo_{i % 12}",
                          template_language="en") for i in range(CAMPAIGNS)]
    db.session.add_all(campaigns)
    db.session.flush()
    days, hours, failures = [], {}, {}
    per_row = RECIPIENTS_EACH // 8  # two days × four shards
    for i, campaign in enumerate(campaigns):
        first = today - timedelta(days=89 - (i * 88 // CAMPAIGNS))
        for day in (first, first + timedelta(days=1)):
            for shard in range(4):
                sent = per_row - per_row // 50
                days.append({"day": day, "campaign_id": campaign.id, "shard": shard, "sent": sent,
                             "delivered": sent * 95 // 100, "read": sent * 70 // 100, "replied": sent * 8 // 100,
                             "clicked": sent * 5 // 100, "failed": per_row // 50, "opted_out": sent // 200,
                             "cost": Decimal(sent) * Decimal("0.0250")})
                for hour in range(24):
                    into = hours.setdefault((day, hour, shard), {"sent": 0, "read": 0, "replied": 0})
                    into["sent"] += sent // 24
                    into["read"] += sent * (50 + hour) // 100 // 24
                    into["replied"] += sent * (2 + hour % 7) // 100 // 24
                for code, title in ((131026, "Message undeliverable"), (131049, "Marketing limit"),
                                    (130472, "Experiment")):
                    key = (day, code, shard)
                    failures[key] = failures.get(key, 0) + per_row // 150
    db.session.execute(insert(CampaignDay), days)
    db.session.execute(insert(SendHour), [{"day": d, "hour": h, "shard": s, **v} for (d, h, s), v in hours.items()])
    db.session.execute(insert(FailureDay), [{"day": d, "error_code": c, "shard": s, "failed": v, "title": f"Error {c}"}
                                            for (d, c, s), v in failures.items()])
    db.session.commit()
    print(f"    seeded {len(days):,} campaign-day, {len(hours):,} hour and {len(failures):,} failure rows "
          f"({CAMPAIGNS * RECIPIENTS_EACH:,} recipients' worth)", flush=True)


def bench_database(name: str, url: str, folder: Path, redis_url: str, args) -> bool:
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.auth.services import create_user
    from webapp.campaigns.models import Campaign
    from webapp.extensions import db
    from webapp.senders.models import Sender
    from webapp.workspace.models import WorkspaceSettings
    from webapp.workspace.zone import workspace_zone

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(folder),
                      "SANDBOX_ENABLED": False, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    ok = True
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        create_user("bench@example.com", PASSWORD, role="staff", name="Bench")
        WorkspaceSettings.get().timezone = "America/New_York"
        sender = Sender(label="Bench", phone_number_id="100000000000001", waba_id="200000000000001", access_token="x")
        db.session.add(sender)
        db.session.commit()

        print(f"{name}:")
        ids = real_rows(args.real_rows, sender)
        updates = statuses_for(ids)
        took = drive(updates)
        print(f"  real rows: {len(ids):,} rows, {len(updates):,} statuses applied through the status path in "
              f"{took:.1f} s ({len(updates) / took:,.0f}/s)", flush=True)
        replies(ids)
        scan_ms, tally = timed_scan()
        equal = stored_days() == scanned_days(tally)
        ok &= equal
        print(f"    daily figures == a scan of the rows: {equal}; the scan over {len(ids):,} rows took {scan_ms:,.0f} ms")

        bulk = Campaign(name="Bulk", sender=sender, status="sent", template_name="bulk")
        db.session.add(bulk)
        db.session.flush()
        db.session.execute(text(_rows_sql(db.engine.dialect.name)),
                           {"campaign_id": bulk.id, "count": args.scan_rows, "first": 10_000_000})
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE recipients"))
            db.session.commit()
        scans = [timed_scan()[0] for _ in range(3)]
        total = args.real_rows + args.scan_rows
        print(f"  naive baseline: a scan of {total:,} rows takes {statistics.median(scans):,.0f} ms "
              f"(median of 3): about {statistics.median(scans) * 10_000_000 / total / 1000:,.0f} s for 10 million")

        today = datetime.now(workspace_zone()).date()
        seed_scale(sender, today)
        client = app.test_client()
        assert client.post("/login", data={"email": "bench@example.com", "password": PASSWORD}).status_code == 302
        two_years = f"from={today - timedelta(days=729)}&to={today}&group=month"
        for label, page in (("page, 90 days by day", "/reports?days=90"),
                            ("page, 90 days by week", "/reports?days=90&group=week"),
                            ("page, two years by month", f"/reports?days=custom&{two_years}"),
                            ("CSV of 90 days by day", "/reports/messages.csv?days=90")):
            took = timed(client, page, args.requests)
            ok &= p(took, 0.95) < GOAL_P95_MS
            print(f"  {label}: p50 {statistics.median(took):.1f} ms, p95 {p(took, 0.95):.1f} ms "
                  f"({len(took)} requests; goal p95 < {GOAL_P95_MS:.0f} ms)", flush=True)
        from webapp.api import keys
        key = keys.create(db.session, "Bench", ["broadcasts:read"], 100_000).secret
        db.session.commit()
        took = timed(client, "/api/v1/dashboard/report?days=90", args.requests, headers={"X-API-Key": key})
        print(f"  API report, 90 days by day: p50 {statistics.median(took):.1f} ms, p95 {p(took, 0.95):.1f} ms")
        db.session.remove()
        db.engine.dispose()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--real-rows", type=int, default=100_000)
    parser.add_argument("--scan-rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    args = parser.parse_args()
    random.seed(18)
    ok = True
    for name, url, folder, redis_url in each_database(args.databases, "dashboard"):
        ok &= bench_database(name, url, folder, redis_url, args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
