"""The per-recipient log: filters, search, keyset pages, htmx fragments, and a CSV export safe to open."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest

from tests.api.conftest import ApiClient, make_key
from tests.webhooks import meta
from tests.webhooks.scenarios import T0, accepted_campaign, wa_id, wamid
from webapp.api.schemas import SCHEMAS
from webapp.extensions import db
from webapp.tracking import log as log_module
from webapp.tracking.columns import API_COLUMNS, CSV_COLUMNS, PAGE_COLUMNS
from webapp.workspace.models import WorkspaceSettings

HTMX = {"HX-Request": "true"}


@pytest.fixture
def campaign(staff_client, webhook):
    """Six rows: two read (one replied), one delivered, two failed with different codes, one still sending."""
    campaign, rows = accepted_campaign(6)
    names = ["Ana Pérez", "Ben Ito", "=HYPERLINK(\"http://evil\")", "Dora", "Eve", "Fay"]
    for row, name in zip(rows, names):
        row.name = name
    db.session.commit()
    for row, stages in zip(rows, [("sent", "read"), ("sent", "read"), ("sent", "delivered"), ("failed",),
                                  ("failed",), ()]):
        for i, stage in enumerate(stages):
            error = ((131026, "Message undeliverable", "Not on WhatsApp") if row is rows[3] else
                     (131049, "Not delivered to maintain ecosystem engagement", "")) if stage == "failed" else None
            meta.post(staff_client, meta.statuses(meta.status(wamid(row), stage, T0 + timedelta(minutes=i), wa_id(row),
                                                              row_id=row.id, error=error)))
    meta.post(staff_client, meta.message("wamid.IN1", wa_id(rows[0]), T0 + timedelta(minutes=3), "@SUM(A1:A9)",
                                         context=wamid(rows[0])))
    meta.post(staff_client, meta.message("wamid.IN2", wa_id(rows[1]), T0 + timedelta(minutes=3), "-1+1",
                                         context=wamid(rows[1])))
    return campaign, rows


def _names(html: str) -> list[str]:
    return re.findall(r'<td class="log-recipient" data-label="Recipient">([^<]+)<br><span class="mono', html)


def _results(client, campaign_id, query=""):
    response = client.get(f"/campaigns/{campaign_id}/log{query}",
                          headers={**HTMX, "HX-Target": "recipient-log-results"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_log_shows_each_row_with_status_timestamps_error_and_reply(staff_client, campaign):
    campaign, rows = campaign
    html = _results(staff_client, campaign.id)
    assert _names(html) == ["Ana Pérez", "Ben Ito", "=HYPERLINK(&#34;http://evil&#34;)", "Dora", "Eve", "Fay"]
    assert '<span class="badge badge-replied">Replied</span>' in html
    assert "This number can&#39;t receive the message" in html and "Not on WhatsApp" in html
    assert "@SUM(A1:A9)" in html
    assert "23 Nov 12:01:00" in html  # read at, in the workspace's time zone (UTC here)


def test_a_long_meta_sentence_stays_behind_a_click_and_the_row_says_it_in_plain_words(staff_client, webhook):
    campaign, [row] = accepted_campaign(1)
    sentence = ("Message failed to send because more than 24 hours have passed since the customer last replied to "
                "this number. You can only send a template message, or wait until the customer writes again. ") * 3
    meta.post(staff_client, meta.statuses(meta.status(wamid(row), "failed", T0, wa_id(row), row_id=row.id,
                                                      error=(131047, "Re-engagement message", sentence.strip()))))
    cell = re.search(r'<td class="small log-error" data-label="Error">(.*?)</td>', _results(staff_client, campaign.id),
                     re.S).group(1)
    shown, disclosed = cell.split("<details", 1)
    assert "More than 24 hours have passed since this customer last wrote." in shown
    assert "Reach them with an approved template instead." in shown
    assert "Message failed to send" not in shown and len(re.sub(r"<[^>]+>|\s+", " ", shown)) < 150
    assert "<summary>Meta's error 131047</summary>" in unescape(disclosed)
    assert "Re-engagement message" in disclosed and "You can only send a template message" in disclosed


def test_every_cell_carries_its_columns_label_for_the_narrow_screen_cards(staff_client, campaign):
    campaign, rows = campaign
    page = _results(staff_client, campaign.id)
    first_row = re.findall(r"<tr>(.*?)</tr>", page, re.S)[1]
    assert re.findall(r'<td[^>]* data-label="([^"]*)"', first_row) == [column.page for column in PAGE_COLUMNS]
    assert 'class="log-table"' in page


@pytest.mark.parametrize("query, expected", [
    ("?status=failed", ["Dora", "Eve"]),
    ("?status=sending", ["Fay"]),
    ("?error=131026", ["Dora"]),
    ("?replied=yes", ["Ana Pérez", "Ben Ito"]),
    ("?replied=no&status=read", []),
    ("?q=ben", ["Ben Ito"]),
    ("?q=ANA", ["Ana Pérez"]),
    ("?q=%2B1%20555%20000-0004", ["Eve"]),
    ("?q=0005", ["Fay"]),
    ("?q=100%25", []),
    ("?status=nonsense&error=abc", ["Ana Pérez", "Ben Ito", "=HYPERLINK(&#34;http://evil&#34;)", "Dora", "Eve", "Fay"]),
])
def test_the_log_filters_by_status_error_replied_and_searches_numbers_and_names(staff_client, campaign, query,
                                                                                 expected):
    campaign, rows = campaign
    assert _names(_results(staff_client, campaign.id, query)) == expected


def test_the_log_pages_forward_and_back_by_keyset(staff_client, campaign, monkeypatch):
    monkeypatch.setattr(log_module, "PAGE_SIZE", 4)
    campaign, rows = campaign
    first = _results(staff_client, campaign.id)
    assert len(_names(first)) == 4 and "Previous" not in first
    next_url = re.search(r'href="([^"]+after=\d+[^"]*)"', first).group(1).replace("&amp;", "&")
    second = _results(staff_client, campaign.id, next_url[next_url.index("?"):])
    assert _names(second) == ["Eve", "Fay"] and "Next" not in second
    back_url = re.search(r'href="([^"]+before=\d+[^"]*)"', second).group(1).replace("&amp;", "&")
    assert _names(_results(staff_client, campaign.id, back_url[back_url.index("?"):])) == _names(first)


def test_filters_are_kept_when_paging(staff_client, campaign, monkeypatch):
    monkeypatch.setattr(log_module, "PAGE_SIZE", 1)
    campaign, rows = campaign
    first = _results(staff_client, campaign.id, "?status=failed")
    assert _names(first) == ["Dora"]
    assert re.search(r'href="[^"]*status=failed[^"]*after=|href="[^"]*after=\d+[^"]*status=failed', first)


def test_one_url_answers_the_section_the_results_or_a_whole_page(staff_client, campaign):
    campaign, rows = campaign
    url = f"/campaigns/{campaign.id}/log?status=failed"
    section = staff_client.get(url, headers={**HTMX, "HX-Target": "recipient-log"})
    results = staff_client.get(url, headers={**HTMX, "HX-Target": "recipient-log-results"})
    page = staff_client.get(url)
    assert '<div id="recipient-log">' in section.get_data(as_text=True) and "<html" not in section.get_data(as_text=True)
    assert "<form" not in results.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True) and "Spring sale" in page.get_data(as_text=True)
    for response in (section, results, page):
        assert "HX-Request" in response.headers["Vary"]
    assert "131026 Message undeliverable (1)" in section.get_data(as_text=True)  # the error filter's choices


def test_on_the_campaign_page_the_results_refresh_with_their_filters_whenever_the_campaign_changes(staff_client,
                                                                                                 campaign):
    campaign, rows = campaign
    for status in ("sending", "sent"):  # a finished campaign's statuses and replies still come in
        campaign.status = status
        db.session.commit()
        html = _results(staff_client, campaign.id, "?status=failed")
        assert 'hx-trigger="campaign-changed from:body"' in html
        assert re.search(rf'hx-get="/campaigns/{campaign.id}/log\?status=failed"', html)


def test_the_log_on_its_own_page_polls_while_live_and_stops_when_finished(staff_client, campaign):
    campaign, rows = campaign
    assert 'hx-trigger="every 5s"' in staff_client.get(f"/campaigns/{campaign.id}/log").get_data(as_text=True)
    campaign.status = "sent"
    db.session.commit()
    assert "hx-trigger=\"every" not in staff_client.get(f"/campaigns/{campaign.id}/log").get_data(as_text=True)


def test_the_csv_export_has_every_row_and_neutralises_formulas(staff_client, campaign):
    campaign, rows = campaign
    # buffered: the streamed body is read inside the request's own context, as a server would
    response = staff_client.get(f"/campaigns/{campaign.id}/log.csv", buffered=True)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(table) == 6
    by_status = {row["Status"] for row in table}
    assert by_status == {"replied", "delivered", "failed", "sending"}
    assert table[2]["Name"] == "'=HYPERLINK(\"http://evil\")"
    assert table[0]["Reply"] == "'@SUM(A1:A9)" and table[1]["Reply"] == "'-1+1"
    assert table[0]["Phone"] == "+15550000000"  # E.164 runs no formula: exported as it is
    assert table[0]["Read at (UTC)"] == "2026-11-23 12:01:00"  # the workspace's zone (UTC here)
    assert (table[3]["Error code"], table[3]["Error"]) == ("131026", "Message undeliverable")
    for row in table:
        for value in row.values():
            assert not value.startswith(("=", "-", "@")), value
            assert not value.startswith("+") or value[1:].isdigit(), value


def test_the_csv_export_has_times_in_the_workspaces_zone_named_with_its_offset(staff_client, campaign):
    campaign, rows = campaign
    campaign.created_at = T0 - timedelta(hours=1)
    WorkspaceSettings.get().timezone = "America/New_York"
    db.session.commit()
    text = staff_client.get(f"/campaigns/{campaign.id}/log.csv", buffered=True).get_data(as_text=True)
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    read_at = next(name for name in header if name.startswith("Read at"))
    # Winter in New York when the campaign ran; a summer offset joins it if the export is made after March.
    assert read_at.startswith("Read at (America/New_York, UTC−05:00")
    assert "Sent at (America/New_York, UTC−05:00" in ",".join(header)
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0][read_at] == "2026-11-23 07:01:00"  # 12:01 UTC
    assert table[3][next(name for name in header if name.startswith("Failed at"))] == "2026-11-23 07:00:00"


def test_the_csv_export_follows_the_filters(staff_client, campaign):
    campaign, rows = campaign
    text = staff_client.get(f"/campaigns/{campaign.id}/log.csv?status=failed", buffered=True).get_data(as_text=True)
    assert [row["Name"] for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))] == ["Dora", "Eve"]


def test_the_page_the_csv_and_the_api_show_the_columns_declared_once(staff_client, campaign, app, client):
    campaign, rows = campaign
    page = _results(staff_client, campaign.id)
    text = staff_client.get(f"/campaigns/{campaign.id}/log.csv", buffered=True).get_data(as_text=True)
    api = ApiClient(client, app, make_key()).get(f"/broadcasts/{campaign.id}/recipients").get_json()

    assert re.findall(r"<th>([^<]+)</th>", page) == [column.page for column in PAGE_COLUMNS]
    assert [len(re.findall(r"<td", row)) for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)[1:]] == \
        [len(PAGE_COLUMNS)] * len(rows)
    assert [re.sub(r" \(UTC\)$", "", name) for name in next(csv.reader(io.StringIO(text.lstrip("\ufeff"))))] == \
        [column.csv for column in CSV_COLUMNS]
    assert set(api["data"][0]) == {column.api for column in API_COLUMNS} == \
        set(SCHEMAS["RecipientLog"]["properties"])


