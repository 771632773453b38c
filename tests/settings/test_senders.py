"""Settings → Sender numbers: admins add and edit the numbers campaigns send from; the token stays secret."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories
from tests.conftest import post
from webapp.extensions import db
from webapp.senders.models import Sender

# Pages and forms: their queries are the services' that other tests run on both databases.
pytestmark = pytest.mark.only_on("sqlite")

NEW = {"label": "Shop Santiago", "phone_number_id": "106540352242922", "waba_id": "102290129340398",
       "display_phone_number": "+56 9 1234 5678", "access_token": "EAAG-secret-token-123",
       "throughput": "80", "messaging_limit": "2000"}


def _sender(phone_number_id: str) -> Sender:
    return db.session.scalar(select(Sender).where(Sender.phone_number_id == phone_number_id)
                             .execution_options(populate_existing=True))


def test_admin_adds_a_sender_number_with_its_tier_and_rate(admin_client):
    response = post(admin_client, "/settings/senders/new", NEW)

    assert response.status_code == 302
    sender = _sender("106540352242922")
    assert (sender.label, sender.waba_id, sender.messaging_limit, sender.throughput) == \
        ("Shop Santiago", "102290129340398", 2000, 80)
    assert sender.access_token == "EAAG-secret-token-123"
    page = admin_client.get("/settings/senders").get_data(as_text=True)
    assert "Shop Santiago" in page and "2,000 customers / 24 h" in page


def test_the_form_offers_metas_tiers_and_unlimited_with_80_per_second_by_default(admin_client):
    page = admin_client.get("/settings/senders/new").get_data(as_text=True)

    for tier in ("250 unique", "2,000 unique", "10,000 unique", "100,000 unique", "Unlimited"):
        assert tier in page
    assert 'value="80"' in page


def test_unlimited_tier_is_stored_as_no_limit(admin_client):
    post(admin_client, "/settings/senders/new", {**NEW, "messaging_limit": "unlimited"})

    assert _sender("106540352242922").messaging_limit is None


def test_each_bad_field_gets_its_own_message_and_nothing_is_saved(admin_client):
    response = post(admin_client, "/settings/senders/new",
                    {**NEW, "label": "", "phone_number_id": "abc", "access_token": "", "throughput": "0"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Give the number a label." in page
    assert "Digits only, as Meta shows it." in page
    assert "Paste the access token Meta gave you." in page
    assert "Between 1 and 1,000 messages per second." in page
    assert db.session.scalar(select(db.func.count()).select_from(Sender)) == 0


def test_throughput_above_1000_is_refused(admin_client):
    response = post(admin_client, "/settings/senders/new", {**NEW, "throughput": "1001"})

    assert response.status_code == 422
    assert "Between 1 and 1,000 messages per second." in response.get_data(as_text=True)


def test_a_phone_number_id_can_belong_to_one_sender_only(admin_client):
    factories.sender(phone_number_id="106540352242922")
    db.session.commit()

    response = post(admin_client, "/settings/senders/new", NEW)

    assert response.status_code == 422
    assert "Another sender already has this phone number ID." in response.get_data(as_text=True)


def test_the_access_token_is_never_shown_back(admin_client):
    sender = factories.sender(access_token="EAAG-very-secret")
    db.session.commit()

    for url in ("/settings/senders", f"/settings/senders/{sender.id}/edit", "/settings/templates"):
        assert "EAAG-very-secret" not in admin_client.get(url).get_data(as_text=True)
    failed = post(admin_client, f"/settings/senders/{sender.id}/edit", {**NEW, "label": ""})
    assert "EAAG-very-secret" not in failed.get_data(as_text=True)


def test_editing_with_a_blank_token_keeps_the_stored_one(admin_client):
    sender = factories.sender(access_token="EAAG-kept")
    db.session.commit()

    response = post(admin_client, f"/settings/senders/{sender.id}/edit",
                    {**NEW, "phone_number_id": sender.phone_number_id, "access_token": "", "throughput": "200"})

    assert response.status_code == 302
    saved = _sender(sender.phone_number_id)
    assert (saved.access_token, saved.throughput, saved.label) == ("EAAG-kept", 200, "Shop Santiago")


def test_editing_with_a_new_token_replaces_it(admin_client):
    sender = factories.sender(access_token="EAAG-old")
    db.session.commit()

    post(admin_client, f"/settings/senders/{sender.id}/edit",
         {**NEW, "phone_number_id": sender.phone_number_id, "access_token": "EAAG-new"})

    assert _sender(sender.phone_number_id).access_token == "EAAG-new"


def test_a_sender_keeps_its_own_phone_number_id_on_edit(admin_client):
    sender = factories.sender()
    db.session.commit()

    response = post(admin_client, f"/settings/senders/{sender.id}/edit",
                    {**NEW, "phone_number_id": sender.phone_number_id})

    assert response.status_code == 302


def test_staff_get_403_on_sender_numbers_and_templates(staff_client):
    sender = factories.sender()
    db.session.commit()

    for url in ("/settings/senders", "/settings/senders/new", f"/settings/senders/{sender.id}/edit",
                "/settings/templates"):
        assert staff_client.get(url).status_code == 403
    assert post(staff_client, "/settings/senders/new", NEW).status_code == 403
    assert post(staff_client, f"/settings/senders/{sender.id}/sync").status_code == 403


def test_settings_tabs_link_sender_numbers_and_templates(admin_client):
    page = admin_client.get("/settings/").get_data(as_text=True)

    assert 'href="/settings/senders"' in page and 'href="/settings/templates"' in page
