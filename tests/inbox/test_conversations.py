"""The Inbox list and a conversation's page: what staff see as customers write."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from tests.conftest import post
from tests.webhooks import meta
from tests.webhooks.scenarios import accepted_campaign, wa_id, wamid
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.inbox.models import Conversation
from webapp.senders.models import Sender
from webapp.timestamps import utcnow


def _write(client, number: str, text: str, minutes_ago: float = 1, name: str = "Ana", context: str | None = None,
           wamid_: str | None = None):
    at = utcnow() - timedelta(minutes=minutes_ago)
    response = meta.post(client, meta.message(wamid_ or f"wamid.IN.{number}.{text}", number, at, text,
                                              context=context, name=name))
    assert response.status_code == 200


def _sender() -> Sender:
    return db.session.scalar(select(Sender))


def _conversation(phone: str) -> Conversation:
    db.session.expire_all()
    return db.session.scalar(select(Conversation).join(Contact).where(Contact.phone == phone))


def test_conversations_are_listed_newest_first_with_unread_counts_and_a_badge(admin_client, webhook):
    _write(admin_client, "15550000001", "Is it in stock?", minutes_ago=10, name="Ana")
    _write(admin_client, "15550000001", "The blue one", minutes_ago=9, name="Ana")
    _write(admin_client, "15550000002", "Can I book Friday?", minutes_ago=5, name="Ben")
    page = admin_client.get("/inbox/").get_data(as_text=True)
    assert page.index("Ben") < page.index("Ana")  # newest first
    assert "2 unread" in page and "1 unread" in page and "Can I book Friday?" in page
    assert re.search(r'class="nav-badge"[^>]*>3<', page)  # the navigation's badge: three unread messages


def test_the_lists_poll_swaps_nothing_until_a_customer_writes_then_brings_the_list_and_the_badge(admin_client,
                                                                                                     webhook):
    _write(admin_client, "15550000001", "Is it in stock?", name="Ana")
    poll = {"HX-Request": "true", "HX-Target": "conversation-list"}
    page = admin_client.get("/inbox/?show=all").get_data(as_text=True)
    polled = re.search(r'id="conversation-list" hx-get="([^"]+)"\s+hx-trigger="every (\d+)s"', page)
    url, every = polled.group(1).replace("&amp;", "&"), int(polled.group(2))
    assert "seen=" in url and "show=all" in url and every <= 5

    assert admin_client.get(url, headers=poll).status_code == 204  # nothing new: htmx swaps nothing
    _write(admin_client, "15550000002", "Open on Sunday?", name="Ben")
    fresh = admin_client.get(url, headers=poll)
    shown = fresh.get_data(as_text=True)
    assert fresh.status_code == 200 and shown.index("Ben") < shown.index("Ana") and "Open on Sunday?" in shown
    assert re.search(r'<span id="inbox-badge" class="nav-badge" aria-label="2 unread" hx-swap-oob="true">2<', shown)
    again = re.search(r'id="conversation-list" hx-get="([^"]+)"', shown).group(1).replace("&amp;", "&")
    assert admin_client.get(again, headers=poll).status_code == 204

    admin_client.get(f"/inbox/{_conversation('+15550000002').id}")  # Ben's, read in another tab
    read = admin_client.get(again, headers=poll).get_data(as_text=True)
    assert re.search(r'id="inbox-badge" class="nav-badge" aria-label="1 unread" hx-swap-oob="true">1<', read)


def test_an_older_page_of_the_list_does_not_poll(admin_client, webhook):
    _write(admin_client, "15550000001", "Hi", name="Ana")
    older = admin_client.get("/inbox/?before=9999999999999999-1").get_data(as_text=True)
    assert "Ana" in older and 'hx-trigger="every' not in older


def test_beyond_99_unread_messages_the_badge_says_99_plus(admin_client):
    now = utcnow()
    contacts = [Contact(phone=f"+1555000{n:04d}", name=f"C{n}") for n in range(60)]
    db.session.add_all(contacts)
    db.session.flush()
    db.session.add_all(Conversation(contact_id=c.id, last_message_at=now, unread=2, created_at=now) for c in contacts)
    db.session.commit()
    page = admin_client.get("/").get_data(as_text=True)  # 120 unread: every page's badge reads 100 at most
    assert re.search(r'class="nav-badge" aria-label="99\+ unread">99\+<', page)


def test_opening_a_conversation_reads_it_and_the_badge_goes_down(admin_client, webhook):
    _write(admin_client, "15550000001", "Hello?", name="Ana")
    _write(admin_client, "15550000002", "Hi", name="Ben")
    page = admin_client.get(f"/inbox/{_conversation('+15550000001').id}").get_data(as_text=True)
    assert "Hello?" in page
    assert _conversation("+15550000001").unread == 0
    assert re.search(r'class="nav-badge"[^>]*>1<', admin_client.get("/inbox/").get_data(as_text=True))


def test_the_list_filters_unread_needs_answer_assigned_to_me_and_searches_names_and_numbers(admin_client, admin,
                                                                                             webhook):
    _write(admin_client, "15550000001", "First", name="Ana Lima")
    _write(admin_client, "15550000002", "Second", name="Ben Cruz")
    ana, ben = _conversation("+15550000001"), _conversation("+15550000002")
    admin_client.get(f"/inbox/{ana.id}")  # read
    post(admin_client, f"/inbox/{ben.id}/assign", {"assigned_to": str(admin.id)})
    fragment = {"HX-Request": "true", "HX-Target": "conversation-list"}
    unread = admin_client.get("/inbox/?show=unread", headers=fragment).get_data(as_text=True)
    assert "Ben Cruz" in unread and "Ana Lima" not in unread and "<html" not in unread
    mine = admin_client.get("/inbox/?show=mine", headers=fragment).get_data(as_text=True)
    assert "Ben Cruz" in mine and "Ana Lima" not in mine
    assert "Ana Lima" in admin_client.get("/inbox/?q=lima").get_data(as_text=True)
    by_number = admin_client.get("/inbox/?q=0000002", headers=fragment).get_data(as_text=True)
    assert "Ben Cruz" in by_number and "Ana Lima" not in by_number
    both = admin_client.get("/inbox/?show=needs_answer", headers=fragment).get_data(as_text=True)
    assert "Ben Cruz" in both and "Ana Lima" in both


def test_the_campaign_filter_shows_who_answered_that_campaign(admin_client, webhook):
    campaign, [row] = accepted_campaign(1, name="Spring sale", sender=_sender())
    _write(admin_client, wa_id(row), "Yes please", context=wamid(row), name="Ana")
    _write(admin_client, "447700900123", "Who is this?", name="Zoe")
    page = admin_client.get(f"/inbox/?campaign={campaign.id}").get_data(as_text=True)
    assert "Yes please" in page and "Who is this?" not in page


def test_older_conversations_are_a_page_away(admin_client, webhook, monkeypatch):
    from webapp.inbox import conversations

    monkeypatch.setattr(conversations, "PAGE_SIZE", 2)
    for i in range(3):
        _write(admin_client, f"1555000000{i}", f"Message {i}", minutes_ago=10 - i, name=f"Person {i}")
    first = admin_client.get("/inbox/").get_data(as_text=True)
    assert "Person 0" not in first and "Older conversations" in first
    before = re.search(r"before=([0-9-]+)", first).group(1)
    older = admin_client.get(f"/inbox/?before={before}").get_data(as_text=True)
    assert "Person 0" in older and "Person 2" not in older


def test_a_conversation_shows_the_campaign_message_as_received_then_the_customers_messages_in_order(
        admin_client, webhook):
    campaign, [row] = accepted_campaign(1, name="Spring sale", sender=_sender(), template_components=[
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way."}])
    row.accepted_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    _write(admin_client, wa_id(row), "Where is it?", minutes_ago=30, context=wamid(row))
    _write(admin_client, wa_id(row), "<b>Hello</b> *soon* please", minutes_ago=20)
    meta.post(admin_client, meta.message("wamid.TAP", wa_id(row), utcnow() - timedelta(minutes=10),
                                         button=("Track it", "TRACK")))
    page = admin_client.get(f"/inbox/{_conversation(row.phone).id}").get_data(as_text=True)
    assert page.index("Hi Ana, your order 0 is on its way.") < page.index("Where is it?") < page.index("Hello")
    assert page.index("Hello") < page.index("Track it")
    assert "&lt;b&gt;Hello&lt;/b&gt; <strong>soon</strong> please" in page  # escaped, WhatsApp's bold shown
    assert "Spring sale" in page


def test_a_number_that_is_not_a_contact_becomes_one_marked_from_the_inbox(admin_client, webhook):
    _write(admin_client, "447700900123", "Who is this?", name="Zoe")
    contact = db.session.scalar(select(Contact).where(Contact.phone == "+447700900123"))
    assert contact is not None and contact.name == "Zoe"
    conversation = _conversation("+447700900123")
    assert conversation.from_inbox
    assert "from inbox" in admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True)


def test_the_conversation_fragment_polls_while_open_and_shows_new_messages(admin_client, webhook):
    _write(admin_client, "15550000001", "First")
    conversation = _conversation("+15550000001")
    _write(admin_client, "15550000001", "A new one")
    fragment = admin_client.get(f"/inbox/{conversation.id}/messages").get_data(as_text=True)
    assert "A new one" in fragment and 'hx-trigger="every 3s"' in fragment and "data-poll-when-visible" in fragment
    assert "<html" not in fragment


def test_done_leaves_the_open_list_and_a_new_customer_message_reopens_it(admin_client, webhook):
    _write(admin_client, "15550000001", "Thanks!", name="Ana")
    conversation = _conversation("+15550000001")
    post(admin_client, f"/inbox/{conversation.id}/done")
    assert _conversation("+15550000001").status == "done"
    assert "Ana" not in admin_client.get("/inbox/").get_data(as_text=True)
    assert "Ana" in admin_client.get("/inbox/?show=done").get_data(as_text=True)
    _write(admin_client, "15550000001", "One more thing", name="Ana")
    assert _conversation("+15550000001").status == "open"
    post(admin_client, f"/inbox/{conversation.id}/done")
    post(admin_client, f"/inbox/{conversation.id}/reopen")
    assert _conversation("+15550000001").status == "open"


def test_a_conversation_is_assigned_to_a_staff_member(admin_client, staff, webhook):
    _write(admin_client, "15550000001", "Hello", name="Ana")
    conversation = _conversation("+15550000001")
    post(admin_client, f"/inbox/{conversation.id}/assign", {"assigned_to": str(staff.id)})
    assert _conversation("+15550000001").assigned_to_id == staff.id
    assert "Sam Staff" in admin_client.get("/inbox/").get_data(as_text=True)


def test_the_replies_page_now_leads_to_the_inbox(staff_client):
    response = staff_client.get("/replies")
    assert response.status_code == 301 and response.headers["Location"].endswith("/inbox/")


def test_the_inbox_needs_a_login(client, staff):
    response = client.get("/inbox/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(("kind", "part", "shown", "needs_answer"), [
    ("system", {"body": "User Ana's user ID changed", "type": "user_changed_user_id"},  # a changed number: test_inbound
     "User Ana's user ID changed", False),
    ("order", {"catalog_id": "42", "text": "Gift wrap please",
               "product_items": [{"product_retailer_id": "sku-1", "quantity": 2, "item_price": 9.5, "currency": "USD"},
                                 {"product_retailer_id": "sku-2", "quantity": 1, "item_price": 4, "currency": "USD"}]},
     "[Order: 2 products] Gift wrap please", True),
    ("interactive", {"type": "nfm_reply", "nfm_reply": {"name": "booking", "body": "Sent",
                                                        "response_json": "{\"date\": \"2026-12-05\"}"}},
     "[Form: booking] Sent", True),
])
def test_a_system_notice_an_order_and_a_flows_form_read_in_words(admin_client, webhook, kind, part, shown,
                                                                     needs_answer):
    payload = meta.message("wamid.IN.kinds", "15550000001", utcnow(), "x", name="Ana")
    item = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    del item["text"]
    item.update({"type": kind, kind: part})
    assert meta.post(admin_client, payload).status_code == 200
    conversation = _conversation("+15550000001")
    assert (conversation.last_text, conversation.needs_answer) == (shown, needs_answer)
    assert shown in unescape(admin_client.get(f"/inbox/{conversation.id}").get_data(as_text=True))


def test_an_opt_out_arrives_unread_but_asks_for_no_answer_until_the_customer_writes_again(admin_client, webhook):
    fragment = {"HX-Request": "true", "HX-Target": "conversation-list"}

    def needing_an_answer() -> str:
        return admin_client.get("/inbox/?show=needs_answer", headers=fragment).get_data(as_text=True)
    _write(admin_client, "15550000001", "STOP", minutes_ago=5, name="Zelda Quinn")
    conversation = _conversation("+15550000001")
    assert (conversation.unread, conversation.needs_answer, conversation.last_text) == (1, False, "STOP")
    assert "Zelda Quinn" not in needing_an_answer()
    _write(admin_client, "15550000001", "Sorry, wrong button: when do you open?", minutes_ago=1, name="Zelda Quinn")
    assert "Zelda Quinn" in needing_an_answer()
