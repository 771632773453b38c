"""A contact's page: its details, lists and campaigns; admins opt it out or back in, staff may not."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests import factories
from tests.conftest import post
from webapp.campaigns.models import Recipient
from webapp.contacts.models import Contact
from webapp.extensions import db


def _contact(phone: str = "+12125550100") -> Contact:
    return db.session.scalar(select(Contact).where(Contact.phone == phone).execution_options(populate_existing=True))


def test_the_page_shows_the_contact_its_lists_and_the_campaigns_it_received(staff_client):
    factories.contact_list("Boston", [("+12125550100", "Ana", {"city": "Boston", "coupon": "VIP20"})])
    factories.contact_list("Newsletter", ["+12125550100"])
    campaign = factories.campaign(status="sent", name="Spring sale", phones=["+12125550100", "+12125550101"])
    db.session.execute(db.update(Recipient).where(Recipient.phone == "+12125550100")
                       .values(status="failed", error_title="Message undeliverable"))
    db.session.commit()

    page = staff_client.get(f"/contacts/{_contact().id}").get_data(as_text=True)
    assert "+12125550100" in page and "Ana" in page
    assert "<dt>city</dt><dd>Boston <span class=\"muted small\">(text)</span></dd>" in page
    assert "<dt>coupon</dt><dd>VIP20 " in page
    assert ">Boston</a>" in page and ">Newsletter</a>" in page
    assert f'href="/campaigns/{campaign.id}"' in page and "Spring sale" in page
    assert "badge-failed" in page and "Message undeliverable" in page
    assert "Receives campaigns." in page


def test_staff_see_the_opt_out_status_but_cannot_change_it(staff_client):
    factories.contact_list("Boston", ["+12125550100"])
    contact = _contact()
    page = staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Only admins can change this." in page and "opt-out" not in page.split("Marketing messages")[1][:600]

    assert post(staff_client, f"/contacts/{contact.id}/opt-out", {"reason": "no"}).status_code == 403
    assert post(staff_client, f"/contacts/{contact.id}/opt-in").status_code == 403
    assert _contact().opted_out_at is None


def test_an_admin_opts_a_contact_out_with_why_and_back_in(admin_client):
    factories.contact_list("Boston", ["+12125550100"])
    contact = _contact()

    response = post(admin_client, f"/contacts/{contact.id}/opt-out", {"reason": "Asked by phone"})
    assert response.status_code == 302
    opted = _contact()
    assert opted.opted_out_at is not None and opted.opt_out_reason == "Asked by phone (by admin@example.com)"
    page = admin_client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Opted out</strong> on" in page and "Asked by phone (by admin@example.com)" in page
    assert "Opt back in" in page

    post(admin_client, f"/contacts/{contact.id}/opt-in")
    back = _contact()
    assert back.opted_out_at is None and back.opt_out_reason == ""


def test_opting_out_needs_the_forms_csrf_token(admin_client):
    factories.contact_list("Boston", ["+12125550100"])
    response = admin_client.post(f"/contacts/{_contact().id}/opt-out", data={"reason": "x"})
    assert response.status_code == 400 and _contact().opted_out_at is None


def test_an_unknown_contact_is_404(staff_client):
    assert staff_client.get("/contacts/999").status_code == 404


def test_the_page_shows_the_whatsapp_id_meta_reports_when_it_differs_from_the_phone(staff_client):
    factories.contact_list("São Paulo", [("+5511987654321", "Ana", {}), "+12125550100"])
    db.session.execute(db.update(Contact).where(Contact.phone == "+5511987654321").values(wa_id="551187654321"))
    db.session.commit()
    page = staff_client.get(f"/contacts/{_contact('+5511987654321').id}").get_data(as_text=True)
    assert '<dt>WhatsApp ID</dt><dd class="mono">551187654321' in page
    assert "WhatsApp ID" not in staff_client.get(f"/contacts/{_contact().id}").get_data(as_text=True)


# --- Tags, attributes, opt-out history and the history with us -----------------------------------------------------

def _tag_names(contact_id: int) -> list[str]:
    from webapp.contacts import tags

    return [tag.name for tag in tags.of_contact(db.session, contact_id)]


def test_staff_tag_a_contact_by_hand_with_htmx_and_the_known_tags_are_offered(staff_client):
    factories.contact_list("Boston", ["+12125550100", "+12125550101"])
    other = _contact("+12125550101")
    post(staff_client, f"/contacts/{other.id}/tags", {"tags": "Newsletter"})
    contact = _contact()
    htmx = {"HX-Request": "true", "HX-Target": "contact-tags"}

    response = post(staff_client, f"/contacts/{contact.id}/tags", {"tags": "VIP, lyon"}, headers=htmx)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and fragment.lstrip().startswith('<div id="contact-tags">')
    assert _tag_names(contact.id) == ["lyon", "VIP"] and '<option value="Newsletter">' in fragment

    response = post(staff_client, f"/contacts/{contact.id}/tags/remove", {"tag": "vip"}, headers=htmx)
    assert _tag_names(contact.id) == ["lyon"] and "the tag VIP" not in response.get_data(as_text=True)


def test_a_bad_tag_is_refused_on_its_field_and_changes_nothing(staff_client):
    factories.contact_list("Boston", ["+12125550100"])
    contact = _contact()
    response = post(staff_client, f"/contacts/{contact.id}/tags", {"tags": "ok, " + "x" * 61},
                    headers={"HX-Request": "true", "HX-Target": "contact-tags"})
    assert response.status_code == 422 and "A tag has at most 60 characters" in response.get_data(as_text=True)
    assert _tag_names(contact.id) == []


def test_an_admin_edits_an_attribute_kept_as_written_and_filters_read_it_by_its_type(admin_client):
    from webapp.audience import directory

    factories.contact_list("Boston", [("+12125550100", "Ana", {"City": "Boston", "visits": "3"})])
    contact = _contact()
    post(admin_client, f"/contacts/{contact.id}/attributes", {"name": "VISITS", "value": "12"})
    post(admin_client, f"/contacts/{contact.id}/attributes", {"name": "city", "value": ""})
    post(admin_client, f"/contacts/{contact.id}/attributes", {"name": "Birthday", "value": "soon"})
    assert _contact().attributes == {"visits": "12", "Birthday": "soon"}

    def finds(condition) -> bool:
        found = directory.matching(db.session, "", {"conditions": [condition]}, "US")
        return db.session.scalar(found.ids()) == contact.id

    assert finds({"field": "attribute", "name": "visits", "op": "greater_than", "value": "10"})
    assert not finds({"field": "attribute", "name": "city", "op": "is_not_empty"})
    assert finds({"field": "attribute", "name": "birthday", "op": "equals", "value": "SOON"})
    page = admin_client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Values are kept as written" in page and "<dt>visits</dt><dd>12 <span" in page


def test_staff_may_not_edit_attributes(staff_client):
    factories.contact_list("Boston", [("+12125550100", "Ana", {"City": "Boston"})])
    response = post(staff_client, f"/contacts/{_contact().id}/attributes", {"name": "city", "value": "x"})
    assert response.status_code == 403
    assert _contact().attributes == {"City": "Boston"}


def test_bad_attribute_input_changes_nothing(admin_client):
    factories.contact_list("Boston", [("+12125550100", "Ana", {"City": "Boston"})])
    contact = _contact()
    response = post(admin_client, f"/contacts/{contact.id}/attributes", {"name": " ", "value": "x"})
    assert "Nothing was changed: Name the attribute." in admin_client.get(response.location).get_data(as_text=True)
    response = post(admin_client, f"/contacts/{contact.id}/attributes", {"name": "shoe", "value": ""})
    assert "no attribute “shoe” to remove" in admin_client.get(response.location).get_data(as_text=True)
    assert _contact().attributes == {"City": "Boston"}


def test_the_opt_out_history_says_when_and_why_each_way(admin_client):
    from webapp.contacts import optouts
    from webapp.timestamps import utcnow

    factories.contact_list("Boston", ["+12125550100"])
    contact = _contact()
    post(admin_client, f"/contacts/{contact.id}/opt-out", {"reason": "Asked by phone"})
    post(admin_client, f"/contacts/{contact.id}/opt-in")
    optouts.opt_out(db.session, "+12125550100", utcnow(), "STOP")
    db.session.commit()
    page = admin_client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    history = page.split("<h3>History</h3>")[1].split("</ul>")[0]
    newest_first = ["Opted out — STOP", "Opted back in — Opted back in (by admin@example.com)",
                    "Opted out — Asked by phone (by admin@example.com)"]
    assert [history.index(line) for line in newest_first] == sorted(history.index(line) for line in newest_first)


def test_the_history_with_us_lists_every_campaign_message_and_reply_newest_first_a_page_at_a_time(staff_client):
    from webapp.timestamps import utcnow
    from webapp.webhooks.models import InboundMessage

    factories.contact_list("Boston", ["+12125550100"])
    contact = _contact()
    sender = factories.sender()
    for number in range(30):
        factories.campaign(status="sent", name=f"Campaign {number:02d}", phones=["+12125550100"], sender=sender)
    db.session.add_all([InboundMessage(wamid=f"wamid.in{i}", phone="+12125550100", type="text", text=f"Reply {i:02d}",
                                       sent_at=utcnow()) for i in range(3)])
    db.session.commit()

    page = staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    shown = re.findall(r">Campaign (\d\d)</a>", page)
    assert shown == [f"{n:02d}" for n in range(29, 4, -1)]  # the newest 25
    assert page.index("Reply 02") < page.index("Reply 00")
    older = re.search(r'href="(/contacts/\d+\?sent_before=\d+)"', page).group(1)
    fragment = staff_client.get(older, headers={"HX-Request": "true", "HX-Target": "contact-campaigns"})
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith("<section") and re.findall(r">Campaign (\d\d)</a>", text) == \
        ["04", "03", "02", "01", "00"]
    assert "sent_before" not in text.split("</table>")[1]
