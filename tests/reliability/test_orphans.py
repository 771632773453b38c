"""A work-horse killed mid-campaign: the rows it had claimed are resolved by the campaign itself."""
from __future__ import annotations

import pytest

from tests.processes import wait_until
from tests.reliability.conftest import RATE
from tests.reliability.trials import accepted, check, launch

pytestmark = [pytest.mark.reliability, pytest.mark.flow, pytest.mark.only_on("postgresql")]


def test_a_work_horse_killed_mid_campaign_leaves_nothing_sending_and_nothing_sent_twice(
        app, sandbox, sandbox_sender, processes):
    campaign_id = launch(sandbox_sender, "+1555070")
    group = processes(DISPATCHERS_PER_CAMPAIGN=2)
    victim = group.worker()
    group.worker()
    group.cron()
    wait_until(lambda: accepted(sandbox) >= 300, 60, message="the first sends", processes=group)
    group.kill_work_horse(victim)

    # No operator: no pause and resume, no "send again" — the campaign and every row reach their final state.
    check(sandbox, campaign_id, group, RATE)
