"""The launch's two ways of making recipient rows — the database's INSERT … SELECT (campaigns/rows_in_sql.py) and
Python's `recipients.write` — give the same rows, whoever the contact: opted out, over the frequency cap, an
attribute padded, blank, spelled in another case or not text, a name with a tab, a value too long for Meta; and
chunks written at once on PostgreSQL, by a job that dies half-way and is run again, give them too."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import event, select, update

import pytest

from tests import factories
from tests.locks import lock_waits
from webapp.campaigns import launch, services
from webapp.campaigns.launch import snapshot
from webapp.campaigns.lifecycle import counts
from webapp.campaigns.models import Campaign, Recipient
from webapp.campaigns.rows_in_sql import Plan
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.timestamps import utcnow
from webapp.workspace.models import WorkspaceSettings

COMPONENTS = [{"type": "HEADER", "format": "TEXT", "text": "News for {{1}}"},
              {"type": "BODY", "text": "Hi {{1}}, see you in {{2}} with code {{3}}."},
              {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Order", "url": "https://shop.example/{{1}}"},
                                              {"type": "QUICK_REPLY", "text": "Stop promotions"}]}]
VARIABLES = {"header": {"source": "name", "fallback": "you"},
             "body:1": {"source": "first_name", "fallback": "friend"},
             "body:2": {"source": "attribute", "value": "city", "fallback": " your city "},
             "body:3": {"source": "constant", "value": "SPRING"},
             "button:0": {"source": "attribute", "value": "order"}}
PEOPLE = [
    ("+33600000001", "Ana Lopez", {"city": "Lyon", "order": "A1"}),          # the common case
    ("+33600000002", "  Ben  ", {"city": "  Paris\t", "order": "B2"}),      # padded: stripped alike
    ("+33600000003", "", {"city": "Nice", "order": "C3"}),                  # no name: the fallback
    ("+33600000004", "Cy\tDoe", {"city": "Lille", "order": "D4"}),          # a tab: str.split() decides
    ("+33600000005", "Dee", {"City": "Nantes", "order": "E5"}),             # another spelling
    ("+33600000006", "Eve", {"city": "", "order": "F6"}),                   # blank: the fallback
    ("+33600000007", "Fay", {"city": 75001, "order": "G7"}),                # not text
    ("+33600000008", "Gus", {"city": "Metz"}),                              # no order: skipped, missing
    ("+33600000009", "Hal", {"city": "x" * 1000, "order": "H9"}),           # too long for Meta
    ("+33600000010", "Ida Ray", {"city": "Brest", "order": "I10"}),         # opted out
    ("+33600000011", "Jo", {"city": "Pau", "order": "J11"}),                # over the frequency cap
    ("+33600000012", "Kim Li", {"city": "Vichy", "order": "Ü12"}),
]


def _launch(sender, template, customers, by_database: bool) -> tuple[list[tuple], dict]:
    campaign = services.save_draft(services.Draft("Spring", sender.id, template.id, [customers.id],
                                                  variables=VARIABLES, button_payloads={"1": "STOP"}))
    db.session.commit()
    services.launch(campaign)
    db.session.commit()
    assert Plan.of(db.session, db.session.get(Campaign, campaign.id)) is not None  # the database's way applies
    assert snapshot(campaign.id, by_database=by_database) == "sending"
    return _rows(campaign.id)


def _rows(campaign_id: int) -> tuple[list[tuple], dict]:
    """The campaign's rows by phone, and its counters."""
    rows = db.session.execute(select(Recipient.contact_id, Recipient.phone, Recipient.name, Recipient.country,
                                     Recipient.status, Recipient.params, Recipient.skip_reason, Recipient.zone)
                              .where(Recipient.campaign_id == campaign_id).order_by(Recipient.phone)).all()
    totals = counts(db.session, campaign_id)
    return [tuple(row) for row in rows], {name: totals[name] for name in ("total", "pending", "skipped")}


@pytest.fixture
def people():
    """The sender, the template and the list of PEOPLE: Ida opted out, Jo messaged yesterday and capped at 1."""
    sender = factories.sender()
    template = factories.template(name="promo", category="MARKETING", components=COMPONENTS)
    customers = factories.contact_list("Customers", PEOPLE)
    db.session.execute(update(Contact).where(Contact.phone == "+33600000010").values(opted_out_at=utcnow()))
    settings = WorkspaceSettings.get()
    settings.cap_messages, settings.cap_days = 1, 7
    earlier = factories.campaign(status="sent", phones=["+33600000011"], sender=sender)
    jo = db.session.scalar(select(Contact.id).where(Contact.phone == "+33600000011"))
    db.session.execute(update(Recipient).where(Recipient.campaign_id == earlier.id)
                       .values(contact_id=jo, accepted_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    return sender, template, customers


def test_the_database_python_and_a_launch_resumed_in_chunks_make_the_same_rows(app, people, monkeypatch):
    sender, template, customers = people
    in_python, python_counts = _launch(sender, template, customers, by_database=False)
    in_sql, sql_counts = _launch(sender, template, customers, by_database=True)

    assert in_sql == in_python
    assert sql_counts == python_counts == {"total": 12, "pending": 8, "skipped": 4}
    by_phone = {row[1]: row for row in in_sql}
    assert by_phone["+33600000001"][5] == {
        "header": {"type": "text", "text": "Ana Lopez"}, "body": ["Ana", "Lyon", "SPRING"],
        "buttons": [{"index": 0, "sub_type": "url", "text": "A1"},
                    {"index": 1, "sub_type": "quick_reply", "payload": "STOP"}]}
    assert by_phone["+33600000003"][5]["body"][0] == "friend" and by_phone["+33600000003"][5]["header"]["text"] == "you"
    assert by_phone["+33600000005"][5]["body"][1] == "Nantes"
    assert [by_phone[phone][6] for phone in ("+33600000008", "+33600000010", "+33600000011")] == [
        "Missing Button 1 link ending and no fallback", "Opted out",
        "Frequency cap: 1 marketing message in the last 7 days (at most 1)"]
    assert by_phone["+33600000009"][6].startswith("Too long:")


    # Chunks of 5 people: on PostgreSQL two are written at once, each by its own connection. The job dies while the
    # second is written, after the first was committed, so before the cursor moved past either: run again, it writes
    # the first again, which adds no row and counts none.
    monkeypatch.setattr(launch, "SQL_CHUNK", 5)
    fifth = sorted(row[0] for row in in_sql)[4]
    write = Plan.write

    def dies_on_the_second_chunk(self, session, campaign, after, upto, cap):
        if after == fifth:
            raise RuntimeError("the worker was stopped")
        write(self, session, campaign, after, upto, cap)

    monkeypatch.setattr(Plan, "write", dies_on_the_second_chunk)
    with pytest.raises(RuntimeError, match="stopped"):
        _launch(*people, by_database=True)
    db.session.rollback()
    campaign = db.session.scalars(select(Campaign).where(Campaign.status == "queued")).one()
    assert campaign.snapshot_cursor in (0, fifth)  # PostgreSQL: 0, the first chunk committed; SQLite: past it
    assert db.session.scalar(select(db.func.count()).where(Recipient.campaign_id == campaign.id)) == 5
    monkeypatch.setattr(Plan, "write", write)

    assert snapshot(campaign.id) == "sending"
    assert _rows(campaign.id) == (in_python, python_counts)


def test_a_chunk_adds_its_counts_in_one_statement_whichever_way_its_rows_were_made(app, people, monkeypatch):
    """Chunks are written at once by several connections: a chunk that added the database's counts and then
    Python's, in two statements, could take the counter rows crosswise with another chunk and deadlock."""
    monkeypatch.setattr(launch, "SQL_CHUNK", 6)  # two chunks, each with rows of both ways (Gus, Hal are Python's)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO CAMPAIGN_COUNTERS"):
            statements.append(statement)
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        _, counted = _launch(*people, by_database=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert counted == {"total": 12, "pending": 8, "skipped": 4}
    assert len(statements) == 2  # one a chunk


@pytest.mark.only_on("postgresql")
def test_a_cancel_while_chunks_are_written_leaves_no_pending_row(app, people, monkeypatch):
    """Staff cancel while two chunks are being written by their own connections: the cancel waits for the round to
    commit, then cancels its rows too — none is left pending in a cancelled campaign."""
    monkeypatch.setattr(launch, "SQL_CHUNK", 5)
    sender, template, customers = people
    campaign = services.save_draft(services.Draft("Spring", sender.id, template.id, [customers.id],
                                                  variables=VARIABLES, button_payloads={"1": "STOP"}))
    db.session.commit()
    services.launch(campaign)
    db.session.commit()
    campaign_id, write, cancelling = campaign.id, Plan.write, []

    def cancel() -> None:
        with app.app_context():
            services.cancel(db.session.get(Campaign, campaign_id))
            db.session.commit()

    def cancel_on_the_first_chunk(self, session, campaign, after, upto, cap):
        if after == 0:
            cancelling.append(threading.Thread(target=cancel))
            cancelling[0].start()
            deadline = time.monotonic() + 10
            while cancelling[0].is_alive() and not lock_waits(session) and time.monotonic() < deadline:
                time.sleep(0.02)  # until the cancel has ended, or waits for the round
        write(self, session, campaign, after, upto, cap)

    monkeypatch.setattr(Plan, "write", cancel_on_the_first_chunk)
    assert snapshot(campaign_id) == "skipped"
    cancelling[0].join(10)
    db.session.rollback()
    statuses = dict(db.session.execute(select(Recipient.status, db.func.count()).where(
        Recipient.campaign_id == campaign_id).group_by(Recipient.status)).all())
    assert db.session.get(Campaign, campaign_id).status == "cancelled"
    assert "pending" not in statuses and statuses["cancelled"] > 0
    assert counts(db.session, campaign_id)["pending"] == 0
