"""A contact's page: its details, lists and campaigns; admins opt it out or back in, staff may not."""
from __future__ import annotations

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
    assert "<dt>city</dt><dd>Boston</dd>" in page and "<dt>coupon</dt><dd>VIP20</dd>" in page
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
