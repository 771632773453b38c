"""The web process down for seconds during a campaign: Meta (the sandbox) keeps retrying its webhooks, so once
the web is back every row reaches the final status the sandbox recorded."""
from __future__ import annotations

import time

import pytest

from tests.processes import wait_until
from tests.reliability.conftest import RATE
from tests.reliability.trials import accepted, check, launch

pytestmark = pytest.mark.reliability


def test_webhooks_sent_while_the_web_is_down_reach_every_row_once_it_is_back(
        app, sandbox, sandbox_sender, processes, web):
    campaign_id = launch(sandbox_sender, "+1555063")
    group = processes(DISPATCHERS_PER_CAMPAIGN=2)
    group.worker()
    group.worker()
    group.cron()
    wait_until(lambda: accepted(sandbox) >= 200, 30, message="the first sends", processes=group)
    web.stop()
    time.sleep(4)
    assert sandbox.stats()["webhooks"]["failed_attempts"] > 0
    web.start()
    check(sandbox, campaign_id, group, RATE)
    assert sandbox.stats()["webhooks"]["gave_up"] == 0
