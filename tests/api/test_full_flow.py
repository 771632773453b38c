"""The whole flow, as a program using only the API and a key would run it: a draft, 1,200 recipients in three
batches, send, poll until complete, read the log. Real workers send through the real sandbox, whose webhooks
come back to the app over HTTP; every figure must match the sandbox's ledger."""
from __future__ import annotations

from collections import Counter

import time

import pytest
import requests
from sqlalchemy import select

from tests.api.conftest import check_answer, make_key
from tests.processes import ProcessSet, wait_until
from tests.sandbox.harness import final_rows
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.workspace.models import WorkspaceSettings

# PostgreSQL, the production path of a program driving the API (SQLite runs whole campaigns in the browser test
# and the reliability trials).
pytestmark = [pytest.mark.slow, pytest.mark.flow, pytest.mark.only_on("postgresql")]

SIZE = 1200
REPLY_DELAY = 6.5  # the sandbox's reply_delay and delay_jitter: the last event of a message
# A Brazilian mobile, whose WhatsApp id Meta (and the sandbox) reports without the ninth digit: 551187654390,
# which reads the message and answers STOP (90 in the sandbox's deterministic profile) from that id.
BRAZILIAN = "+5511987654390"


class Script:
    """An API client over HTTP with nothing but a key; each answer is checked against the OpenAPI document."""

    def __init__(self, app, base: str, key: str) -> None:
        self.app, self.base = app, base
        self.http = requests.Session()
        self.http.headers["X-API-Key"] = key

    def call(self, method: str, path: str, body=None, **query):
        response = self.http.request(method, f"{self.base}/api/v1{path}", json=body, params=query, timeout=60)
        check_answer(self.app, method, f"/api/v1{path}", response.status_code,
                     response.headers.get("Content-Type", "").split(";")[0], response.json())
        return response


@pytest.fixture
def webhooks_to_app(app, sandbox, sandbox_sender, live_server):
    """The sandbox signs its webhooks with its app secret and posts them to the app served over HTTP;
    number and sandbox at 250 msg/s, so 2,500 messages take seconds, not a minute."""
    settings = WorkspaceSettings.get()
    settings.meta_app_secret = "sandbox-app-secret"
    sandbox_sender.throughput = 250
    db.session.commit()
    sandbox.configure(webhook_url=f"{live_server}/webhooks/meta", webhook_batch=25, rate=250)
    yield live_server
    sandbox.configure(webhook_url="")


def _log(script: Script, broadcast_id: int) -> list[dict]:
    rows, after = [], None
    while True:
        page = script.call("GET", f"/broadcasts/{broadcast_id}/recipients", per_page=1000, after=after).json()
        rows += page["data"]
        after = page["meta"]["next_after"]
        if after is None:
            return rows


def test_a_script_runs_a_whole_broadcast_through_the_api(app, sandbox, sandbox_sender, webhooks_to_app):
    script = Script(app, webhooks_to_app, make_key(["broadcasts:send"]))
    draft = script.call("POST", "/broadcasts", {"name": "API flow", "template_name": "cart_reminder",
                                                 "language": "en"})
    assert draft.status_code == 201
    broadcast_id = draft.json()["data"]["id"]

    people = [{"phone_number": f"+1415555{i:04d}", "name": f"Customer {i}",
               "template_parameters": [f"Customer {i}", "the linen shirt", f"c{i}"]} for i in range(SIZE)]
    people[-1] = {**people[-1], "phone_number": BRAZILIAN}
    for batch in (people[:1000], people[1000:1100], people[1100:]):  # the most a call takes, then two more
        added = script.call("POST", f"/broadcasts/{broadcast_id}/recipients", {"recipients": batch}).json()["data"]
        assert (added["added"], added["duplicates"], added["errors"]) == (len(batch), 0, [])
    assert added["total_recipients"] == SIZE

    sent = script.call("POST", f"/broadcasts/{broadcast_id}/send")
    assert (sent.status_code, sent.json()["accepted"], sent.json()["rejected"]) == (202, SIZE, 0)

    group = ProcessSet(app)
    try:
        group.worker()
        group.cron()
        broadcast = wait_until(
            lambda: (b := script.call("GET", f"/broadcasts/{broadcast_id}").json()["data"])["completed_at"] and b,
            240, interval=1, message=f"completion\n{group.output()}")
    finally:
        group.stop()
    assert broadcast["status"] in ("sent", "partially_sent")

    ledger = sandbox.messages(limit=10 * SIZE)
    assert len(ledger) == SIZE and max(Counter(m["to"] for m in ledger).values()) == 1  # each number once
    # The sandbox plays each message's statuses and reply out over the seconds after it accepted it.
    quiet_from = max(m["accepted_ts"] for m in ledger) + REPLY_DELAY + 1
    differences: list = []

    def settled():
        nonlocal ledger, expected
        if time.time() < quiet_from or sandbox.stats()["webhooks"]["pending"]:
            return None
        ledger = sandbox.messages(limit=10 * SIZE)
        expected = final_rows(ledger)
        rows = _log(script, broadcast_id)
        found = {r["phone_number"]: (r["status"], r["error_code"]) for r in rows}
        differences[:] = [(phone, found.get(phone), wanted) for phone, wanted in expected.items()
                          if found.get(phone) != wanted]
        return rows if not differences and len(found) == len(expected) else None

    expected: dict = {}
    try:
        rows = wait_until(settled, 90, interval=2, message="the log to match the ledger")
    except AssertionError:
        pytest.fail(f"{len(differences)} rows differ from the ledger, e.g. {differences[:5]}")
    by_phone = {r["phone_number"]: r for r in rows}
    assert len(rows) == len(by_phone) == SIZE
    wamids = {"+" + m["to"].lstrip("+"): m["wamid"] for m in ledger}
    assert all(by_phone[phone]["message_id"] == wamid for phone, wamid in wamids.items())
    assert by_phone["+14155550000"]["country_code"] == "1" and by_phone["+14155550000"]["name"] == "Customer 0"
    seventh = next(m for m in ledger if m["to"].endswith("4155550007"))
    assert seventh["template"]["name"] == "cart_reminder"
    assert seventh["parameters"]["body"] == ["Customer 7", "the linen shirt"]
    assert seventh["parameters"]["buttons"][0]["text"] == "c7"  # each recipient's own values reached Meta
    replied = [r for r in rows if r["status"] == "replied"]
    assert replied and all(r["replied_at"] and (r["reply_text"] or r["reply_button"]) for r in replied)
    assert all(r["error_title"] and r["failed_at"] for r in rows if r["status"] == "failed")

    final = script.call("GET", f"/broadcasts/{broadcast_id}").json()["data"]
    statuses = Counter(status for status, _ in expected.values())
    delivered = sum(1 for m in ledger if m["status"] in ("delivered", "read"))
    read = sum(1 for m in ledger if m["status"] == "read")
    assert {name: final["counts"][name] for name in ("total", "pending", "accepted", "sent", "delivered", "read",
                                                      "replied", "failed", "skipped")} == \
        {"total": SIZE, "pending": 0, "accepted": SIZE, "sent": SIZE - statuses["failed"], "delivered": delivered,
         "read": read, "replied": statuses["replied"], "failed": statuses["failed"], "skipped": 0}
    assert final["rates"]["response_rate"] == round(100 * statuses["replied"] / SIZE, 1)
    failed_log = script.call("GET", f"/broadcasts/{broadcast_id}/recipients", status="failed", per_page=1000).json()
    assert len(failed_log["data"]) == statuses["failed"]
    assert len(sandbox.messages(limit=10 * SIZE)) == SIZE

    # The Brazilian customer's STOP came from the WhatsApp id: the number we send to is opted out, no contact of
    # the other form appears, and a later broadcast skips the number, never messaging it again.
    assert (by_phone[BRAZILIAN]["status"], by_phone[BRAZILIAN]["reply_text"]) == ("replied", "STOP")
    opted_out = set(db.session.scalars(select(Contact.phone).where(Contact.opted_out_at.is_not(None))))
    assert BRAZILIAN in opted_out
    assert db.session.scalar(select(Contact.id).where(Contact.phone == "+551187654390")) is None
    later = script.call("POST", "/broadcasts", {"name": "Later", "template_name": "cart_reminder",
                                                 "language": "en"}).json()["data"]["id"]
    added = script.call("POST", f"/broadcasts/{later}/recipients", {"recipients": [people[-1]]}).json()["data"]
    assert (added["added"], [item["reason"] for item in added["skipped"]]) == (0, ["opted out: never sent"])
    assert [m["wa_id"] for m in sandbox.messages(to=BRAZILIAN)] == ["551187654390"]
