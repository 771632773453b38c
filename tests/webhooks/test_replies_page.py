"""The Replies page: what customers wrote across campaigns, newest first, with the message they answered."""
from __future__ import annotations

import re
from datetime import timedelta

from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, wa_id, wamid
from webapp.extensions import db
from webapp.webhooks import replies as replies_module


def _reply(client, row, minutes, text):
    meta.post(client, meta.statuses(meta.status(wamid(row), "sent", T0, wa_id(row), row_id=row.id)))
    meta.post(client, meta.message(f"wamid.IN{row.id}.{minutes}", wa_id(row), T0 + timedelta(minutes=minutes), text,
                                   context=wamid(row)))


def _setup(client):
    spring, [ana] = accepted_campaign(1, name="Spring sale")
    autumn, [ben] = accepted_campaign(1, first=50, name="Autumn offers", sender=spring.sender)
    autumn.template_name = "autumn_promo"
    db.session.commit()
    _reply(client, ana, 1, "Yes please")
    _reply(client, ben, 2, "<b>Not now</b>")
    meta.post(client, meta.message("wamid.LOOSE", "447700900123", T0 + timedelta(hours=1), "Who is this?"))
    return spring, autumn


def test_replies_are_listed_newest_first_with_the_campaign_and_template_they_answer(admin_client, webhook):
    _setup(admin_client)
    page = admin_client.get("/replies").get_data(as_text=True)
    assert page.index("Who is this?") < page.index("Not now") < page.index("Yes please")
    assert "Autumn offers" in page and "autumn_promo" in page and "Spring sale" in page
    assert "No campaign message" in page
    assert "&lt;b&gt;Not now&lt;/b&gt;" in page  # a customer's text is always escaped


def test_replies_can_be_filtered_by_campaign_with_htmx_swapping_only_the_list(admin_client, webhook):
    spring, autumn = _setup(admin_client)
    response = admin_client.get(f"/replies?campaign={spring.id}", headers={"HX-Request": "true",
                                                                            "HX-Target": "replies-list"})
    fragment = response.get_data(as_text=True)
    assert "Yes please" in fragment and "Not now" not in fragment and "Who is this?" not in fragment
    assert "<html" not in fragment and fragment.lstrip().startswith(("{#", '<div id="replies-list"'))
    assert "HX-Request" in response.headers["Vary"]
    full = admin_client.get(f"/replies?campaign={spring.id}").get_data(as_text=True)
    assert "<html" in full and "Not now" not in full


def test_older_replies_are_a_page_away(admin_client, webhook, monkeypatch):
    monkeypatch.setattr(replies_module, "PAGE_SIZE", 2)
    _setup(admin_client)
    first = admin_client.get("/replies").get_data(as_text=True)
    assert "Yes please" not in first and "Older replies" in first
    older = admin_client.get(f"/replies?before={_oldest_shown_id(first)}").get_data(as_text=True)
    assert "Yes please" in older and "Who is this?" not in older and "Newest replies" in older


def _oldest_shown_id(page: str) -> int:
    return int(re.search(r"before=(\d+)", page).group(1))


def test_the_replies_page_needs_a_login(client, staff, webhook):
    response = client.get("/replies")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/replies", headers={"HX-Request": "true"}).status_code == 401


def test_staff_see_the_replies_page_and_the_nav_links_it(staff_client, webhook):
    page = staff_client.get("/replies").get_data(as_text=True)
    assert "No replies yet" in page
    assert 'href="/replies"' in page
