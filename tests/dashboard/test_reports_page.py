"""The Reports page: totals and trends across campaigns, each chart with its numbers and the same numbers as CSV."""
from __future__ import annotations

import csv
import io
import re
from html import unescape
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from tests import factories
from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, configure_webhook, wa_id, wamid
from webapp.campaigns.daily import record
from webapp.campaigns.trends import choose_range, report
from webapp.extensions import db


def _table(html: str, caption: str) -> list[list[str]]:
    """The cells of the table with this caption, as a person reads them."""
    found = re.search(r"<caption[^>]*>" + re.escape(caption) + r"</caption>(.*?)</table>", unescape(html), re.S)
    assert found, f"no table “{caption}”"
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in rows]


def test_the_reports_page_shows_totals_charts_with_their_numbers_and_the_same_figures_as_csv(admin_client):
    page = admin_client.get("/reports/?days=7")
    assert page.status_code == 200
    assert "Nothing was sent from" in page.text  # a new workspace: an empty state, no empty charts
    assert "<svg" not in page.text

    configure_webhook(timezone="UTC")
    campaign, rows = accepted_campaign(3)
    for row in rows:
        meta.post(admin_client, meta.statuses(meta.status(wamid(row), "delivered", T0, wa_id(row), row.id)))
    meta.post(admin_client, meta.statuses(meta.status(wamid(rows[0]), "read", T0, wa_id(rows[0]), rows[0].id)))
    meta.post(admin_client, meta.message("wamid.IN1", wa_id(rows[0]), T0, text="Yes please", context=wamid(rows[0])))
    record(db.session, campaign.id, T0, cost=Decimal("0.0625"))  # what COST will add as statuses' prices arrive
    db.session.commit()

    query = "from=2026-11-20&to=2026-11-26&group=day"
    page = admin_client.get(f"/reports/?{query}")
    assert page.status_code == 200
    totals = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text.split('aria-label="Totals"')[1].split("</section>")[0]))
    assert "Sent 3" in totals and "Delivered 3 100.0% of sent" in totals and "Read 1 33.3% of sent" in totals
    assert "Replied 1" in totals and "Cost USD 0.06" in totals  # in the rate card's currency
    assert page.text.count("<svg") == 4 and page.text.count("Show the numbers") == 4  # every chart has its table
    axis = re.findall(r'<text class="chart-axis" x="[\d.]+" y="[\d.]+" text-anchor="middle">([^<]+)</text>',
                      page.text.split("<svg")[1])
    assert axis == ["20 Nov", "22 Nov", "24 Nov", "26 Nov"]  # short enough to fit under a chart on a phone
    counts = re.findall(r'text-anchor="end">([^<]+)</text>', page.text.split("<svg")[1])
    assert counts == ["0", "1", "2", "3"]  # whole messages, not 0.75 of one
    assert ">Cost (USD)</text>" in page.text.split("<svg")[3]
    by_month = admin_client.get("/reports/?from=2025-11-01&to=2026-11-30&group=month").text
    assert re.findall(r'y="[\d.]+" text-anchor="middle">([^<]+)</text>', by_month.split("<svg")[1]) == [
        "Nov 2025", "Feb 2026", "May 2026", "Aug 2026", "Nov 2026"]  # two years: each month with its year
    messages = _table(page.text, "Messages by day")
    assert messages[0] == ["Day", "Sent", "Delivered", "Read", "Replied", "Clicked"]
    assert messages[4] == ["Mon 23 Nov 2026", "3", "3", "1", "1", "0"] and len(messages) == 8
    assert _table(page.text, "By template")[1][:5] == ["order_update (en_US)", "3", "3", "1", "1"]
    hours = _table(page.text, "Best hours to send (the recipient's local time)")
    assert hours[13] == ["12:00", "3", "1", "33.3%", "1", "33.3%"]

    for name, caption in (("messages", "Messages by day"), ("templates", "By template"),
                          ("hours", "Best hours to send (the recipient's local time)")):
        download = admin_client.get(f"/reports/{name}.csv?{query}")
        assert download.mimetype == "text/csv" and f"/reports/{name}.csv?" in page.text.replace("&amp;", "&")
        assert list(csv.reader(io.StringIO(download.text))) == _table(page.text, caption)


@pytest.mark.only_on("sqlite")
def test_a_range_that_cannot_be_drawn_says_why_and_draws_nothing(admin_client):
    for query, message in (
        ("from=2026-11-30&to=2026-11-01", "The range starts (30 Nov 2026) after it ends (01 Nov 2026): swap the dates."),
        ("from=2024-01-01&to=2026-11-30", "Choose a range of at most two years."),
        ("days=7&group=fortnight", "“fortnight” is not a grouping: choose day, week or month."),
        ("days=custom&from=2026-11-01&to=yesterday", "“yesterday” is not a date: write it as 2026-12-31."),
        ("days=12", "Choose the last 7, 30 or 90 days, or dates from and to."),
    ):
        page = admin_client.get(f"/reports/?{query}")
        assert page.status_code == 400 and message in page.text.replace("&amp;", "&"), query
        assert "<svg" not in page.text and 'role="alert"' in page.text
        assert admin_client.get(f"/reports/messages.csv?{query}").status_code == 400


def test_weeks_and_months_hold_the_days_of_the_workspace_zone_at_month_edges(app):
    configure_webhook(timezone="America/New_York")
    campaign = factories.campaign()
    # 03:00 UTC on 1 November is still 31 October (a Saturday) in New York; 05:00 on 1 December is 00:00 there.
    for moment, sent in ((datetime(2026, 11, 1, 3, tzinfo=timezone.utc), 2),
                         (datetime(2026, 11, 1, 5, tzinfo=timezone.utc), 5),
                         (datetime(2026, 12, 1, 5, tzinfo=timezone.utc), 7)):
        record(db.session, campaign.id, moment, sent=sent)
    db.session.commit()
    today = date(2026, 12, 31)
    by_month = report(db.session, choose_range(today, start="2026-10-01", end="2026-12-31", group="month"))
    assert [(row.label, row.figures["sent"]) for row in by_month.trend] == [
        ("Oct 2026", 2), ("Nov 2026", 5), ("Dec 2026", 7)]
    by_week = report(db.session, choose_range(today, start="2026-10-26", end="2026-12-06", group="week"))
    assert [(row.key, row.figures["sent"]) for row in by_week.trend if row.figures["sent"]] == [
        (date(2026, 10, 26), 7), (date(2026, 11, 30), 7)]
    assert by_week.totals.figures["sent"] == 14


def test_the_reports_address_is_found_with_or_without_its_last_slash(admin_client):
    assert admin_client.get("/reports/?days=7").status_code == 200
    moved = admin_client.get("/reports?days=7")
    assert moved.status_code == 308 and moved.headers["Location"].endswith("/reports/?days=7")
