"""Sending windows: rows go only in their recipient's hours, wait by themselves outside them, and the campaign
completes with no one resuming anything; the window's edges, overnight windows, daylight saving, and whose zone
a recipient is in."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from jobs.campaigns import tick
from tests.campaigns.sending import launch, rows_by_phone, send_all
from tests.clock import Clock
from webapp.campaigns.errors import CampaignError
from webapp.campaigns.models import Campaign
from webapp.campaigns.windows import SendingWindow, finish, zone_of
from webapp.extensions import db

PARIS = [(f"+3314268{i:04d}", f"Paris {i}", {"order": f"#P{i}"}) for i in range(3)]      # Europe/Paris, UTC+1
NEW_YORK = [(f"+1212555{i:04d}", f"New York {i}", {"order": f"#N{i}"}) for i in range(3)]  # UTC−4 after 9 March
MONDAY = datetime(2025, 3, 10, tzinfo=timezone.utc)


def _at(hours: float) -> datetime:
    return MONDAY + timedelta(hours=hours)


def test_rows_wait_outside_their_recipients_hours_and_go_when_their_window_opens(app, sandbox, sandbox_sender,
                                                                                 monkeypatch):
    clock = Clock(monkeypatch, _at(7.5))  # 08:30 in Paris, 03:30 in New York: closed everywhere
    campaign = send_all(launch(sandbox_sender, PARIS + NEW_YORK, window=("09:00", "20:00")).id)

    assert sandbox.messages() == []
    assert campaign.status == "sending"
    assert campaign.waiting_until == _at(8)  # 09:00 in Paris
    assert "Outside the sending window (09:00–20:00, recipients' time)" in campaign.notice

    clock.set(_at(8))
    tick()  # what the worker's scheduler runs every couple of seconds
    campaign = send_all(campaign.id)
    assert sorted(m["to"] for m in sandbox.messages()) == sorted(p[0] for p in PARIS)
    assert campaign.status == "sending" and campaign.waiting_until == _at(13)  # 09:00 in New York (EDT)

    clock.set(_at(12.99))
    tick()
    assert db.session.get(Campaign, campaign.id, populate_existing=True).waiting_until == _at(13)  # still waits

    clock.set(_at(13))
    tick()
    campaign = send_all(campaign.id)
    assert campaign.status == "sent"
    assert sorted(m["to"] for m in sandbox.messages()) == sorted(p[0] for p in PARIS + NEW_YORK)
    assert {row.zone for row in rows_by_phone(campaign.id).values()} == {"Europe/Paris", "America/New_York"}


PARIS_ZONE = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(("local", "is_open"), [("08:59", False), ("09:00", True), ("19:59", True), ("20:00", False)])
def test_the_window_opens_on_its_first_minute_and_closes_on_its_last(local, is_open):
    hour, minute = map(int, local.split(":"))
    moment = datetime(2025, 6, 2, hour, minute, tzinfo=PARIS_ZONE).astimezone(timezone.utc)
    assert SendingWindow.parse("09:00", "20:00").is_open(moment, PARIS_ZONE) is is_open


@pytest.mark.parametrize(("local", "is_open"), [("19:59", False), ("20:00", True), ("23:30", True), ("00:10", True),
                                                ("07:59", True), ("08:00", False), ("12:00", False)])
def test_an_end_before_the_start_spans_midnight(local, is_open):
    hour, minute = map(int, local.split(":"))
    moment = datetime(2025, 6, 2, hour, minute, tzinfo=PARIS_ZONE).astimezone(timezone.utc)
    assert SendingWindow.parse("20:00", "08:00").is_open(moment, PARIS_ZONE) is is_open


def test_the_window_follows_the_recipients_clock_across_a_daylight_saving_change():
    window = SendingWindow.parse("09:00", "20:00")
    # Paris moves to summer time on 30 March 2025: 09:00 is 08:00 UTC the day before, 07:00 UTC the day after.
    assert window.next_opening(datetime(2025, 3, 29, 20, tzinfo=timezone.utc), PARIS_ZONE) == \
        datetime(2025, 3, 30, 7, tzinfo=timezone.utc)
    assert window.next_opening(datetime(2025, 3, 28, 20, tzinfo=timezone.utc), PARIS_ZONE) == \
        datetime(2025, 3, 29, 8, tzinfo=timezone.utc)


@pytest.mark.parametrize(("opens", "closes", "field", "words"), [
    ("09:00", "09:00", "window_closes", "opens and closes at 09:00"),
    ("9am", "20:00", "window_opens", "is not a time"),
    ("09:00", "25:00", "window_closes", "is not a time"),
    ("09:00", "", "window_closes", "both ends"),
])
def test_a_window_that_cannot_be_is_refused_with_the_reason(opens, closes, field, words):
    with pytest.raises(CampaignError) as refused:
        SendingWindow.parse(opens, closes)
    assert refused.value.field == field and words in refused.value.message


def test_a_contacts_timezone_attribute_wins_over_the_number_and_a_bad_one_falls_back_to_it():
    assert zone_of("+12125550100", "Europe/Paris", "UTC").zone == "Europe/Paris"
    assert zone_of("+12125550100", "Lisbon", "UTC").zone == "Europe/Lisbon"  # a city names its zone
    fallen = zone_of("+12125550100", "Mars/Olympus", "UTC")
    assert (fallen.zone, fallen.bad_attribute) == ("America/New_York", True)


def test_a_number_whose_country_has_several_zones_gets_the_first_and_one_without_zone_data_the_workspaces():
    australian_mobile = zone_of("+61412345678", "", "Europe/Paris")
    assert (australian_mobile.zone, australian_mobile.how, australian_mobile.choices) == \
        ("Australia/Adelaide", "first", 8)
    satellite = zone_of("+882345678901", "", "Europe/Paris")
    assert (satellite.zone, satellite.how) == ("Europe/Paris", "workspace")


def test_a_window_shorter_than_the_send_spans_several_days():
    # 100,000 messages at 1 a second in Paris's 09:00–20:00 (08:00–19:00 UTC): 10.5 h, 11 h, then the last 6.3 h.
    done = finish(SendingWindow.parse("09:00", "20:00"), {"Europe/Paris": 100_000}, 1, _at(8.5))
    assert done == _at(48 + 8) + timedelta(seconds=100_000 - 37_800 - 39_600)
