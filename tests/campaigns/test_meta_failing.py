"""Meta failing (5xx answers) in the middle of a campaign, against the real sandbox: the number's rate drops so
that retries are not spent in the storm, the campaign page says so, and the campaign completes afterwards."""
from __future__ import annotations

import threading

import pytest

from tests.campaigns.sending import launch, rows_by_phone, send_all
from webapp.ratelimit import Breaker

PEOPLE = [(f"+1555040{i:04d}", f"Customer {i}", {"order": f"#{i}"}) for i in range(150)]
RATE = 50  # the sending sandbox's and the sender's
STORM = 3.0  # seconds of 500 answers


# It counts the requests a storm of wall-clock seconds gets: a timing test, run alone (marker slow), as the
# rate tests are; on PostgreSQL, since tests/reliability/test_breaker.py runs a storm through `make run`'s
# processes on SQLite.
@pytest.mark.slow
@pytest.mark.only_on("postgresql")
def test_a_storm_of_5xx_slows_the_number_and_the_campaign_completes_after_it(app, sandbox, sandbox_sender):
    app.config.update(RETRY_BASE_SECONDS=0.2, BREAKER_QUIET_SECONDS=0.3)
    campaign = launch(sandbox_sender, PEOPLE)
    storm = threading.Timer(0.6, sandbox.fault, kwargs={"status": 500, "for_seconds": STORM})
    storm.start()

    campaign = send_all(campaign.id)
    storm.join()

    failed_requests = sandbox.stats()["errors"].get("131000", 0)
    assert 5 <= failed_requests <= RATE * STORM / 3  # at the full rate the storm takes 150
    assert campaign.status == "sent"
    assert {row.status for row in rows_by_phone(campaign.id).values()} == {"accepted"}


def test_the_campaign_page_says_live_that_meta_is_failing_while_the_number_is_slowed(
        app, sandbox, sandbox_sender, staff_client):
    campaign = launch(sandbox_sender, PEOPLE[:2])
    counters = f"/campaigns/{campaign.id}/live/counters"  # polled by the campaign page: the notice shows live
    assert "Meta is failing" not in staff_client.get(counters).get_data(as_text=True)
    Breaker(app.extensions["redis"], sandbox_sender.phone_number_id, RATE, 5).record(failures=5, successes=0)
    page = staff_client.get(counters).get_data(as_text=True)
    assert "Meta is failing" in page and "slowed to 25" in page
