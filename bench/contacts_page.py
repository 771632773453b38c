"""Whether the Contacts page stays usable on 1,000,000 contacts: its first page, a page deep in the keyset, a
sort by date, a number search and a tag filter, each a whole request (count included) through the test client.

For SQLite (a file in a temporary folder) and PostgreSQL (a throwaway server, tests/services.py) it inserts the
contacts in one INSERT … SELECT (names repeat, so the keyset's id tie-break is exercised), tags one in ten "vip",
logs a staff user in and prints p50/p95 per request kind.

    .venv/bin/python bench/contacts_page.py                                   # both databases, 1,000,000 contacts
    .venv/bin/python bench/contacts_page.py --databases sqlite --contacts 100000 --requests 10
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from sqlalchemy import text  # noqa: E402 - after the path fix above

from bench.counters import p, timed  # noqa: E402
from bench.databases import each_database  # noqa: E402

PASSWORD = "contacts under load 9"


def _contacts_sql(dialect: str) -> str:
    """One contact per n: a valid New York number (+1 212 200-0000 on), one of 5,000 names, added a second apart."""
    if dialect == "sqlite":
        return """WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < :count - 1)
            INSERT INTO contacts (phone, country, name, attributes, opt_out_reason, created_at, updated_at)
            SELECT '+1212' || (2000000 + n), 'US', 'Customer ' || (n % 5000), '{}', '',
                   strftime('%Y-%m-%d %H:%M:%S', '2026-01-01 00:00:00', '+' || n || ' seconds') || '.000000',
                   strftime('%Y-%m-%d %H:%M:%S', '2026-01-01 00:00:00', '+' || n || ' seconds') || '.000000'
            FROM seq"""
    return """INSERT INTO contacts (phone, country, name, attributes, opt_out_reason, created_at, updated_at)
        SELECT '+1212' || (2000000 + n), 'US', 'Customer ' || (n % 5000), '{}', '',
               timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second',
               timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second'
        FROM generate_series(0, :count - 1) AS n"""


def seed(count: int) -> dict:
    from webapp.contacts import tags
    from webapp.extensions import db

    db.session.execute(text(_contacts_sql(db.engine.dialect.name)), {"count": count})
    vip = tags.ensure(db.session, ["vip"])[0]
    db.session.execute(text("INSERT INTO contact_tags (contact_id, tag_id, added_at) "
                            "SELECT id, :tag, created_at FROM contacts WHERE id % 10 = 0"), {"tag": vip.id})
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    middle = db.session.scalar(text("SELECT id FROM contacts WHERE phone = :phone"),
                               {"phone": f"+1212{2000000 + count // 2}"})
    digits = str(2000000 + count // 3)
    return {"middle": middle, "phone": f"(212) {digits[:3]}-{digits[3:]}"}


def bench_database(name: str, url: str, folder: Path, redis_url: str, count: int, requests: int) -> dict:
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.auth.services import create_user
    from webapp.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(folder),
                      "SANDBOX_ENABLED": False, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        create_user("bench@example.com", PASSWORD, role="staff", name="Bench")
        db.session.commit()
        began = time.perf_counter()
        found = seed(count)
        print(f"  {name}: {count:,} contacts inserted in {time.perf_counter() - began:.1f} s", flush=True)
        client = app.test_client()
        assert client.post("/login", data={"email": "bench@example.com", "password": PASSWORD}).status_code == 302
        fragment = {"HX-Request": "true", "HX-Target": "contacts"}
        urls = {"first page, by name": "/contacts/?sort=name",
                "a page from the middle, by name": f"/contacts/?sort=name&after={found['middle']}",
                "newest added first": "/contacts/?sort=added&order=desc",
                "a number typed nationally": f"/contacts/?q={found['phone']}",
                "tag vip, by name": "/contacts/?tag=vip&sort=name"}
        results = {label: timed(client, url, requests, headers=fragment) for label, url in urls.items()}
        db.session.remove()
        db.engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per kind")
    args = parser.parse_args()

    for name, url, folder, redis_url in each_database(args.databases, "contacts"):
        results = bench_database(name, url, folder, redis_url, args.contacts, args.requests)
        print(f"{name}: the Contacts page's results (count included), {args.contacts:,} contacts")
        for label, took in results.items():
            print(f"  {label}: p50 {statistics.median(took):.0f} ms, p95 {p(took, 0.95):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
