"""The limiter holds from a campaign's first request to its last: while a second slot starts, and after Redis
loses everything mid-send (FLUSHALL), no one-second window gets more than the number's rate."""
from __future__ import annotations

import pytest

from tests.processes import wait_until
from tests.reliability.conftest import RATE
from tests.reliability.trials import accepted, check, launch

pytestmark = pytest.mark.reliability


def test_two_slots_starting_and_a_flush_mid_send_keep_every_second_within_the_rate(
        app, sandbox, sandbox_sender, processes):
    campaign_id = launch(sandbox_sender, "+1555061")
    group = processes(DISPATCHERS_PER_CAMPAIGN=2)
    group.worker()
    group.worker()
    group.cron()
    wait_until(lambda: accepted(sandbox) >= 400, 30, message="the first sends", processes=group)
    app.extensions["redis"].flushall()
    check(sandbox, campaign_id, group, RATE)
