"""Meta answering 5xx for seconds mid-campaign: the number's rate drops so that few requests go into the storm,
and the campaign completes after it with every row accepted once."""
from __future__ import annotations

import pytest

from tests.processes import wait_until
from tests.reliability.conftest import RATE
from tests.reliability.trials import accepted, check, launch

pytestmark = [pytest.mark.reliability, pytest.mark.only_on("sqlite")]

STORM = 2.0  # seconds


def test_a_storm_of_5xx_gets_few_requests_and_the_campaign_completes_after_it(
        app, sandbox, sandbox_sender, processes):
    campaign_id = launch(sandbox_sender, "+1555062")
    group = processes(DISPATCHERS_PER_CAMPAIGN=2, BREAKER_QUIET_SECONDS=0.3, RETRY_BASE_SECONDS=0.5)
    group.worker()
    group.worker()
    group.cron()
    wait_until(lambda: accepted(sandbox) >= 200, 30, message="the first sends", processes=group)
    sandbox.fault(status=500, for_seconds=STORM)
    check(sandbox, campaign_id, group, RATE)
    # At the full rate: 500, and 370 before the breaker; with it, 77–132 measured (requests in flight finish).
    assert sandbox.stats()["errors"]["131000"] < RATE * STORM / 3
