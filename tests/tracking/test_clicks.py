"""Tracked links: the public redirect /r/<code> counts a person's clicks once per recipient, never a preview fetcher's,
and refuses codes it did not make; the campaign page, its log and the API show the clicks."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from jobs.clicks import count as count_queued_clicks
from tests import factories
from tests.api.conftest import ApiClient, make_key
from tests.conftest import post
from webapp.audience.conditions import compile_filter
from webapp.audience.errors import FilterError
from webapp.campaigns.audience import people
from webapp.campaigns.daily import CampaignDay
from webapp.campaigns.launch import snapshot
from webapp.campaigns.lifecycle import counts, recount
from webapp.campaigns.links import code_for, parse, signing_key, with_codes, links_of
from webapp.campaigns.models import Campaign, LinkClick, Recipient, TrackedLink
from webapp.contacts.models import Contact
from webapp.extensions import db

PHONE_BROWSER = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36"
SHOP = "https://shop.example.com/spring?utm=wa"


def _campaign_with_links(phones=("+15550100001", "+15550100002"), sender=None):
    """A sent campaign with two tracked links: a constant body URL and each recipient's own button address."""
    campaign = factories.campaign(phones=phones, sender=sender)
    rows = db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign.id)
                              .order_by(Recipient.id)).all()
    for i, row in enumerate(rows):
        row.params = {"body": ["Ana", SHOP], "buttons": [{"index": 0, "sub_type": "url",
                                                          "text": f"https://shop.example.com/cart/{i}"}]}
    body = TrackedLink(campaign_id=campaign.id, slot="body:2", path=["body", 1], url=SHOP)
    button = TrackedLink(campaign_id=campaign.id, slot="button:0", path=["buttons", 0, "text"], url="")
    db.session.add_all([body, button])
    db.session.commit()
    return campaign, rows, body, button


def test_a_persons_clicks_redirect_and_count_once_per_recipient_and_previews_never(client, app):
    campaign, rows, body, button = _campaign_with_links()
    code = code_for(body.id, rows[0].id)
    for method, agent in [("HEAD", PHONE_BROWSER), ("GET", "WhatsApp/2.23.20.0 A"),
                          ("GET", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"),
                          ("GET", "Mozilla/5.0 (compatible; Facebot)"),
                          ("GET", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")]:
        answer = client.open(f"/r/{code}", method=method, headers={"User-Agent": agent})
        assert (answer.status_code, answer.location) == (302, SHOP), agent
    assert db.session.scalar(select(db.func.count()).select_from(LinkClick)) == 0

    first = client.get(f"/r/{code}", headers={"User-Agent": PHONE_BROWSER})
    again = client.get(f"/r/{code}", headers={"User-Agent": PHONE_BROWSER})
    own = client.get(f"/r/{code_for(button.id, rows[0].id)}", headers={"User-Agent": PHONE_BROWSER})
    assert count_queued_clicks() == 3  # the worker's job counts what the redirect queued

    assert (first.status_code, first.location) == (302, SHOP) == (again.status_code, again.location)
    assert own.location == "https://shop.example.com/cart/0"  # the recipient's own address
    assert "Set-Cookie" not in first.headers and first.headers["Cache-Control"] == "private, no-store"
    clicks = {c.link_id: c.clicks for c in db.session.scalars(select(LinkClick))}
    assert clicks == {body.id: 2, button.id: 1}
    db.session.refresh(rows[0])
    assert rows[0].clicks == 3 and rows[0].clicked_at is not None
    assert counts(db.session, campaign.id)["clicked"] == 1 == recount(db.session, campaign.id)["clicked"]
    # Reports count the recipient once, on the day of the send
    assert db.session.scalar(select(db.func.sum(CampaignDay.clicked))) == 1


def test_unknown_forged_and_mismatched_codes_get_the_friendly_404_and_a_deleted_campaigns_link_redirects(
        client, app):
    campaign, rows, body, _ = _campaign_with_links()
    other, other_rows, _, _ = _campaign_with_links(phones=("+15550100009",), sender=campaign.sender)
    good = code_for(body.id, rows[0].id)
    forged = good[:-1] + ("A" if good[-1] != "A" else "B")
    elsewhere = code_for(body.id, rows[0].id, key=b"another installation's key")
    wrong_campaign = code_for(body.id, other_rows[0].id)  # signed, but the recipient is of another campaign

    for code in ("nope", "x" * 200, "abc$%^defghijklmn", forged, elsewhere, code_for(999, rows[0].id)):
        answer = client.get(f"/r/{code}", headers={"User-Agent": PHONE_BROWSER})
        assert answer.status_code == 404, code
        assert "This link is not valid" in answer.get_data(as_text=True)
        assert "/login" not in answer.headers.get("Location", "")
    assert client.get(f"/r/{wrong_campaign}").location == SHOP  # the link's own address, nobody's click
    count_queued_clicks()
    assert db.session.scalar(select(db.func.count()).select_from(LinkClick)) == 0
    assert parse(good) == (body.id, rows[0].id)

    db.session.delete(db.session.get(type(campaign), campaign.id))
    db.session.commit()
    assert client.get(f"/r/{good}", headers={"User-Agent": PHONE_BROWSER}).location == SHOP


@pytest.mark.only_on("sqlite")
def test_sent_parameters_carry_codes_in_place_of_tracked_addresses(app):
    campaign, rows, body, button = _campaign_with_links()
    params = {"body": ["Ana", SHOP], "buttons": [{"index": 0, "sub_type": "url", "text": "https://x.example/1"}]}

    sent = with_codes(params, links_of(db.session, campaign.id), rows[0].id, "https://go.example", signing_key())

    assert sent["body"] == ["Ana", f"https://go.example/r/{code_for(body.id, rows[0].id)}"]
    assert sent["buttons"][0]["text"] == code_for(button.id, rows[0].id)
    assert params["body"][1] == SHOP  # the stored snapshot keeps the destination
    assert len(sent["buttons"][0]["text"]) <= 17


@pytest.mark.only_on("sqlite")  # pages and forms: the queries are the log's, tested on both databases there
def test_the_campaign_page_its_log_and_the_api_show_who_clicked(staff_client, app):
    campaign, rows, body, button = _campaign_with_links()
    for code in (code_for(body.id, rows[0].id), code_for(body.id, rows[0].id), code_for(button.id, rows[0].id)):
        staff_client.get(f"/r/{code}", headers={"User-Agent": PHONE_BROWSER})
    count_queued_clicks()

    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    clicked_log = staff_client.get(f"/campaigns/{campaign.id}/log?clicked=yes").get_data(as_text=True)
    not_clicked_log = staff_client.get(f"/campaigns/{campaign.id}/log?clicked=no").get_data(as_text=True)
    api = ApiClient(staff_client, app, make_key())
    clicks = api.get(f"/broadcasts/{campaign.id}/clicks").get_json()
    not_clicked = api.get(f"/broadcasts/{campaign.id}/recipients", clicked="no").get_json()["data"]

    assert "Tracked links" in page and SHOP.replace("&", "&amp;") in page and "Each recipient&#39;s own address" in page
    assert (rows[0].phone in clicked_log, rows[1].phone in clicked_log) == (True, False)
    assert (rows[0].phone in not_clicked_log, rows[1].phone in not_clicked_log) == (False, True)
    data = clicks["data"]
    assert data["clicked"] == 1 and data["click_rate"] is None  # nothing delivered yet
    assert [(link["variable"], link["clicks"], link["unique"]) for link in data["links"]] == [
        ("body:2", 2, 1), ("button:0", 1, 1)]
    assert [(r["phone_number"], r["clicks"]) for r in data["recipients"]] == [(rows[0].phone, 3)]
    assert [(r["phone_number"], r["clicks"], r["clicked_at"]) for r in not_clicked] == [(rows[1].phone, None, None)]


@pytest.mark.only_on("sqlite")
def test_compose_tracks_only_web_addresses_and_buttons_that_open_our_redirect_then_launch_makes_the_links(
        staff_client, app):
    ours = f"{app.config['PUBLIC_URL']}/r/{{{{1}}}}"
    sender = factories.sender()
    customers = factories.contact_list("Customers", [("+15550100001", "Ana", {"cart": "https://shop.example.com/c/1"})])

    def template(name, url):
        return factories.template(name=name, components=[
            {"type": "BODY", "text": "Hi {{1}}, new arrivals: {{2}}"},
            {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Shop", "url": url}]}])

    tracked, foreign = template("new_arrivals", ours), template("old_arrivals", "https://shop.example.com/{{1}}")

    def compose(chosen, **fields):
        data = {"name": "Arrivals", "sender": str(sender.id), "template": str(chosen.id), "audience": "lists",
                "lists": [str(customers.id)], "var:body:1:source": "name", "var:body:1:fallback": "friend",
                "var:body:2:source": "constant", "var:body:2:value": "https://shop.example.com/new",
                "var:body:2:track": "1", "var:button:0:source": "attribute", "var:button:0:value": "cart",
                "var:button:0:track": "1", **fields}
        return post(staff_client, "/campaigns/new", data)

    not_an_address = compose(tracked, **{"var:body:2:value": "our new shop"}).get_data(as_text=True)
    not_ours = compose(foreign).get_data(as_text=True)
    form = staff_client.get(f"/campaigns/compose/variables?sender={sender.id}&template={foreign.id}").get_data(as_text=True)
    saved = compose(tracked)

    assert "To track clicks, enter the full address the link opens" in not_an_address
    assert f"its URL in WhatsApp Manager must be {ours}" in not_ours
    assert "Track clicks on Button 1 link ending" in form and f"must be {ours}" in form
    campaign = db.session.scalars(select(Campaign)).one()  # only the valid one was saved
    assert saved.status_code == 302 and campaign.variables["button:0"]["track"] is True

    campaign.status = "queued"
    db.session.commit()
    assert snapshot(campaign.id) == "sending"
    links = {link.slot: (link.path, link.url) for link in db.session.scalars(select(TrackedLink))}
    assert links == {"body:2": (["body", 1], "https://shop.example.com/new"), "button:0": (["buttons", 0, "text"], "")}


def test_clickers_and_the_others_can_be_retargeted_and_segmented(staff_client, app):
    campaign, rows, body, _ = _campaign_with_links()
    factories.contact_list("Customers", [("+15550100001", "Ana", {}), ("+15550100002", "Ben", {})])
    for row in rows:
        row.contact_id = db.session.scalar(select(Contact.id).where(Contact.phone == row.phone))
        row.reached = 3  # delivered
    campaign.status = "sent"
    db.session.commit()
    staff_client.get(f"/r/{code_for(body.id, rows[0].id)}", headers={"User-Agent": PHONE_BROWSER})
    count_queued_clicks()

    def retarget(outcome):
        return [p.phone for p in people(db.session, {"retarget": {"campaign_id": campaign.id, "outcome": outcome}},
                                        0, 10)]

    def segment(op, value):
        where = compile_filter(db.session, {"conditions": [{"field": "clicked", "op": op, "value": value}]}).where
        return list(db.session.scalars(select(Contact.phone).where(where).order_by(Contact.phone)))

    assert (retarget("clicked"), retarget("not_clicked")) == (["+15550100001"], ["+15550100002"])
    assert segment("in_campaign", campaign.id) == ["+15550100001"] == segment("within_days", 7)
    assert segment("not_within_days", 7) == ["+15550100002"]
    with pytest.raises(FilterError, match="there is no campaign number 999999"):
        segment("in_campaign", 999999)
    choices = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Clicked a link" in choices and "Delivered but clicked no link" in choices  # "Send again to…"
