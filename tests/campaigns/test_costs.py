"""What a campaign costs: the forecast's estimate from the rate card, what Meta bills by the sandbox's billable
statuses, and the monthly budget that pauses a campaign before a message would go over it."""
from __future__ import annotations

import csv
import io
import json
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

import webapp.pricing
from tests import factories
from tests.api.conftest import ApiClient, make_key
from tests.campaigns.sending import launch, send_all
from tests.conftest import post
from tests.locks import wait_for_a_lock_wait
from tests.processes import wait_until
from tests.webhooks.scenarios import configure_webhook
from webapp.campaigns import services
from webapp.campaigns.costs import actual
from webapp.campaigns.errors import CampaignError
from webapp.campaigns.models import Campaign
from webapp.contacts.models import Contact, ListMember
from webapp.extensions import db
from webapp.pricing import spend
from webapp.pricing.models import RatePrice
from webapp.pricing.rate_card import ensure_card, prices
from webapp.timestamps import utcnow

SHIPPED = Path(webapp.pricing.__file__).parent


def price_by_hand(category: str, country: str) -> Decimal:
    """The shipped card's price, read straight from its files (not through the code under test)."""
    lines = [line for line in (SHIPPED / "rate_card.csv").read_text().splitlines() if not line.startswith("#")]
    card = {row["Market"]: row for row in csv.DictReader(lines)}
    markets = json.loads((SHIPPED / "markets.json").read_text())["markets"]
    market = next((name for name, countries in markets.items() if country in countries), "Other")
    return Decimal(card[market][category.capitalize()])


# Ten thousand recipients by country; XK (Kosovo) is in no market of its own: Meta's "Other" prices it.
MIX = {"IN": ("+9198", 4000), "US": ("+1202", 2500), "BR": ("+5511", 1500), "DE": ("+49151", 1000),
       "KE": ("+254711", 700), "XK": ("+38344", 288), "": ("+80012", 12)}


@pytest.mark.only_on("sqlite")  # its one GROUP BY is the forecast's, which the other tests run on both databases
def test_the_forecast_prices_a_mixed_country_audience_as_the_rate_card_does_by_hand(admin_client):
    customers = factories.contact_list("Everyone")
    rows = [{"phone": f"{prefix}{i:07d}", "name": f"P{i}", "country": country, "attributes": {}}
            for country, (prefix, count) in MIX.items() for i in range(count)]
    first = (db.session.scalar(select(func.max(Contact.id))) or 0) + 1
    db.session.execute(insert(Contact.__table__), [{"id": first + n, **row} for n, row in enumerate(rows)])
    db.session.execute(insert(ListMember.__table__), [{"list_id": customers.id, "contact_id": first + n}
                                                      for n in range(len(rows))])
    template = factories.template(name="spring_sale", category="MARKETING",
                                  components=[{"type": "BODY", "text": "Spring sale: 20% off."}])
    campaign = services.save_draft(services.Draft("Spring", factories.sender().id, template.id, [customers.id]))
    db.session.commit()

    by_hand = sum(price_by_hand("marketing", country) * count for country, (_, count) in MIX.items() if country)
    found = services.forecast(campaign).cost
    assert (found.cost, found.unpriced) == (by_hand, {"": 12})
    page = admin_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert f"USD {by_hand:,.2f}" in page
    assert "12 recipients whose number has no country: no marketing price in the rate card" in page

    # A card without "Other" (nor Kosovo) cannot price Kosovo: the estimate says who it left out.
    card = "Market,Currency,Marketing,Utility,Authentication,Service\n" + "\n".join(
        f"{market},USD,{price_by_hand('marketing', country)},0.01,0.01,0"
        for market, country in [("India", "IN"), ("North America", "US"), ("Brazil", "BR"), ("Germany", "DE"),
                                ("Rest of Africa", "KE")])
    assert post(admin_client, "/settings/pricing/import", {"file": (io.BytesIO(card.encode()), "card.csv")},
                content_type="multipart/form-data").status_code == 302
    found = services.forecast(campaign).cost
    assert found.unpriced_words() == ["288 recipients in XK: no marketing price in the rate card",
                                      "12 recipients whose number has no country: no marketing price in the rate card"]
    assert found.cost == by_hand - 288 * price_by_hand("marketing", "XK")


# Twenty numbers in three countries, their last two digits 00, 05 … 95: the sandbox fails some (no billing).
PEOPLE = [(phone.format(i), f"Customer {i}", {"order": f"#{i}"})
          for phone, i in zip(["+1555014{:04d}", "+9198765{:05d}", "+55119876{:05d}"] * 7, range(0, 100, 5))]


def test_the_actual_cost_is_the_sum_of_the_sandboxs_billable_statuses(app, sandbox, sandbox_sender, live_server,
                                                                      staff_client, client):
    configure_webhook(meta_app_secret="sandbox-app-secret")
    sandbox.configure(webhook_url=f"{live_server}/webhooks/meta", sent_delay=0.05, delivered_delay=0.1,
                      read_delay=0.15, reply_delay=0.2, delay_jitter=0, p_free=0.3)  # some are free entry points
    campaign = send_all(launch(sandbox_sender, PEOPLE).id)
    country = dict(db.session.execute(select(Contact.phone, Contact.country)).all())

    def billable_statuses():  # the `sent` statuses the sandbox posted with billable pricing, once all are out
        messages = sandbox.messages(limit=100)
        if any(not [e for e in m["events"] if e["kind"] == "status"] for m in messages):
            return None
        return [m["to"] for m in messages for e in m["events"] if e.get("status") == "sent" and e.get("billable")]
    billed = wait_until(billable_statuses, 10, message="the sandbox's statuses")
    by_hand = sum(price_by_hand("utility", country[phone]) for phone in billed)
    sent = sum(1 for m in sandbox.messages(limit=100) if not m["outcome"].startswith("failed"))
    assert 0 < len(billed) < sent < len(PEOPLE) and len({country[phone] for phone in billed}) == 3

    def all_billed():
        db.session.commit()
        return actual(db.session, campaign.id).billed == len(billed)
    wait_until(all_billed, 15, message="every billable status")

    assert actual(db.session, campaign.id).cost == by_hand
    html = staff_client.get(f"/campaigns/{campaign.id}/live/counters").get_data(as_text=True)
    assert f"USD {by_hand:,.2f}" in html and f"{len(billed)} billable messages so far" in html
    body = ApiClient(client, app, make_key()).get(f"/broadcasts/{campaign.id}").get_json()["data"]
    estimated = sum(price_by_hand("utility", country[phone]) for phone, *_ in PEOPLE)
    assert (Decimal(body["actual_cost"]), Decimal(body["estimated_cost"]), body["currency"]) == \
        (by_hand, estimated, "USD")
    export = staff_client.get(f"/campaigns/{campaign.id}/log.csv", buffered=True).get_data(as_text=True).lstrip("\ufeff")
    assert sum(Decimal(row["Cost"]) for row in csv.DictReader(io.StringIO(export)) if row["Cost"]) == by_hand


def test_a_monthly_budget_refuses_launch_pauses_before_it_is_exceeded_and_refuses_resume_until_raised(
        app, sandbox, sandbox_sender, admin_client):
    spend.add(db.session, spend.month_of(utcnow()), 2_000_000)  # USD 2.00 billed already this month
    db.session.commit()
    answer = post(admin_client, "/settings/pricing/budget", {"monthly_budget": "1.50"})
    assert answer.status_code == 422
    assert "USD 2.00 has already been billed this month" in answer.get_data(as_text=True)
    assert post(admin_client, "/settings/pricing/budget", {"monthly_budget": "2.02"}).status_code == 302

    people = [(f"+1555015{i:04d}", f"Customer {i}", {"order": f"#{i}"}) for i in range(20)]  # 0.0034 each
    campaign = launch(sandbox_sender, people)  # the snapshot, as a launch does it, bypassing the refusal below…
    draft = factories.campaign(status="draft", sender=sandbox_sender, audience=campaign.audience,
                               template_id=campaign.template_id, variables=campaign.variables)
    with pytest.raises(CampaignError, match=r"would cost about USD 0\.07, more than the USD 0\.02 left"):
        services.launch(draft)  # …which a launch from the page or the API meets

    campaign = send_all(campaign.id)
    assert campaign.status == "paused"
    assert len(sandbox.messages(limit=100)) == 5  # 5 × 0.0034 fit in 0.02; the sixth would not
    assert "next message would exceed this month's budget of USD 2.02" in campaign.notice
    page = admin_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "exceed this month&#39;s budget" in page or "exceed this month's budget" in page
    refused = post(admin_client, f"/campaigns/{campaign.id}/resume", follow_redirects=True).get_data(as_text=True)
    assert "Not resumed: the next message would exceed this month" in refused
    assert db.session.get(Campaign, campaign.id, populate_existing=True).status == "paused"

    assert post(admin_client, "/settings/pricing/budget", {"monthly_budget": "3"}).status_code == 302
    services.resume(campaign)
    db.session.commit()
    assert send_all(campaign.id).status == "sent"
    assert len(sandbox.messages(limit=100)) == 20


@pytest.mark.only_on("postgresql")  # SQLite's one writer takes the two in turn
def test_two_processes_pricing_their_first_messages_at_once_store_the_shipped_card_once(app):
    """On a fresh database, two web processes' first billable statuses each find no rate card: the second waits for
    the first's, and neither fails (it did: both inserted the shipped prices, and the second's webhook batch failed)."""
    assert ensure_card(db.session).currency == "USD"  # this transaction stores the shipped card, not yet committed
    found = []

    def second_process():
        with app.app_context():
            found.append(prices(db.session))
            db.session.commit()
            db.session.remove()
    other = threading.Thread(target=second_process)
    other.start()
    wait_for_a_lock_wait()
    db.session.commit()
    other.join(10)
    [card] = found
    assert card.currency == "USD" and card.of("marketing", "IN") == price_by_hand("marketing", "IN")
    assert db.session.scalar(select(func.count()).select_from(RatePrice)) == len(card.by_market)
