"""Redis flushed and then the web process down, in one campaign sent by two slots: the limiter holds from the
first request and across the flush (no one-second window over the rate), and the webhooks Meta (the sandbox)
sent while the web was down are retried until it is back, so every row reaches the status the sandbox recorded."""
from __future__ import annotations

import time

import pytest

from tests.processes import wait_until
from tests.reliability.conftest import RATE
from tests.reliability.trials import accepted, check, launch

pytestmark = [pytest.mark.reliability, pytest.mark.only_on("postgresql")]

WEB_DOWN = 3.0  # seconds: longer than the sandbox used to retry a webhook with this trial's pauses (2.1 s)


def test_a_flush_and_the_web_down_mid_send_lose_nothing_and_keep_every_second_within_the_rate(
        app, sandbox, sandbox_sender, processes, web):
    campaign_id = launch(sandbox_sender, "+1555061")
    group = processes(DISPATCHERS_PER_CAMPAIGN=2)
    group.worker()
    group.worker()
    group.cron()
    wait_until(lambda: accepted(sandbox) >= 300, 30, message="the first sends", processes=group)
    app.extensions["redis"].flushall()
    wait_until(lambda: accepted(sandbox) >= 500, 30, message="sends after the flush", processes=group)
    web.stop()
    time.sleep(WEB_DOWN)
    assert sandbox.stats()["webhooks"]["failed_attempts"] > 0
    web.start()
    check(sandbox, campaign_id, group, RATE)
    assert sandbox.stats()["webhooks"]["gave_up"] == 0
