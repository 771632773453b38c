"""Two machines sharing one PostgreSQL and one Redis (docs/deploy.md, Several machines): each its own instance
folder, its own sending worker and its own `flask cron` (one active, the other standing by). One campaign is sent
by both machines' senders, and the sandbox's ledger shows what one machine's would: no number got two messages,
no one-second window got more than the rate, every row reached the status the sandbox recorded."""
from __future__ import annotations

import pytest

from tests.processes import ProcessSet, wait_for_workers
from tests.reliability.conftest import RATE
from tests.reliability.trials import check, launch
from webapp import cron

pytestmark = [pytest.mark.reliability, pytest.mark.flow, pytest.mark.only_on("postgresql")]

SIZE = 500


class Machines:
    """The process sets of several machines, watched as one (wait_until asks whether any process died)."""

    def __init__(self, *machines: ProcessSet) -> None:
        self.machines = machines

    def died(self) -> bool:
        return any(machine.died() for machine in self.machines)

    def output(self) -> str:
        return "\n".join(machine.output() for machine in self.machines)


def test_one_campaign_sent_from_two_machines_keeps_the_rate_and_sends_each_number_once(
        app, sandbox, sandbox_sender, processes, tmp_path):
    first, second = (processes(INSTANCE_PATH=str(tmp_path / name), DISPATCHERS_PER_CAMPAIGN=2)
                     for name in ("first-machine", "second-machine"))
    first.worker("control,default")
    for machine in (first, second):
        machine.worker("dispatch")  # idle when the campaign's two dispatchers are enqueued: one takes each
        machine.cron()
    machines = Machines(first, second)
    wait_for_workers(app, 3, machines)

    campaign_id = launch(sandbox_sender, "+1555091", SIZE)
    check(sandbox, campaign_id, machines, RATE, SIZE)
    for machine in (first, second):
        assert machine.logged("dispatch: jobs.campaigns.dispatch(")  # both machines sent
    crons = [machine.logged(cron.ACTIVE) for machine in (first, second)]
    assert sorted(crons) == [0, 1], crons  # one scheduler enqueued the periodic jobs, the other stood by
