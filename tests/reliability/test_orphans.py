"""A work-horse killed mid-campaign: the rows it had claimed are resolved by the campaign itself."""
from __future__ import annotations

import pytest

from tests.processes import wait_until
from tests.reliability.conftest import assert_completed_and_exact, campaign_of, finished

pytestmark = pytest.mark.reliability



def test_a_work_horse_killed_mid_campaign_leaves_nothing_sending_and_nothing_sent_twice(app, sandbox, processes):
    campaign = campaign_of(sandbox.sender)
    group = processes(DISPATCHERS_PER_CAMPAIGN=2)
    victim = group.worker()
    group.worker()
    group.cron()
    wait_until(lambda: len(sandbox.messages(limit=100_000)) >= 300, 60, message="the first sends", processes=group)
    group.kill_work_horse(victim)

    # No operator: no pause and resume, no "send again" — the campaign and every row reach their final state.
    wait_until(lambda: finished(sandbox, campaign.id), 60, message="every row final", processes=group)
    assert_completed_and_exact(sandbox, campaign.id)
