"""`make run` as a user runs it: a worker killed mid-campaign is started again and the campaign completes, nothing
sent twice; Ctrl-C stops every process, work-horses included, within 10 s, and nothing is sent after it."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, update

from tests import factories
from tests.processes import wait_until
from tests.services import free_port
from webapp.campaigns import services
from webapp.campaigns.models import FINISHED_STATES, Campaign, Recipient
from webapp.extensions import db
from webapp.senders.models import Sender, Template

# `make run` on its embedded defaults, SQLite (production supervises its processes with systemd, docs/deploy.md).
pytestmark = [pytest.mark.reliability, pytest.mark.only_on("sqlite")]

ROOT = Path(__file__).resolve().parents[2]
SIZE, RATE = 600, 200
VARIABLES = {"body:1": {"source": "name", "fallback": "there"}, "body:2": {"source": "constant", "value": "#1"},
             "body:3": {"source": "constant", "value": "Friday"}}


class MakeRun:
    """`python -m webapp.launcher` (what `make run` runs) on a database of the test, with its own instance folder."""

    def __init__(self, app, instance: Path) -> None:
        self.instance, self.port, self.sandbox_port = instance, free_port(), free_port()
        self.sandbox = f"http://127.0.0.1:{self.sandbox_port}"
        self.env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "INSTANCE_PATH": str(instance),
                    "PORT": str(self.port), "SANDBOX_URL": self.sandbox,
                    "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": app.config["SECRET_KEY"],
                    "SANDBOX_RATE": str(RATE), "SANDBOX_LATENCY_MS": "40", "SANDBOX_JITTER_MS": "10",
                    "SANDBOX_PAIR_INTERVAL": "0", "SANDBOX_SENT_DELAY": "120", "SANDBOX_DELIVERED_DELAY": "120",
                    "SANDBOX_READ_DELAY": "120", "SANDBOX_REPLY_DELAY": "120",  # no webhooks: the trial is sending
                    "RATE_MARGIN_MS": "100"}  # every process on two cores: see tests/processes.py
        self.log = Path(tempfile.mkstemp(prefix="broadcaster-make-run-", suffix=".log")[1])
        self.process = subprocess.Popen([sys.executable, "-m", "webapp.launcher"], cwd=ROOT, env=self.env,
                                        stdout=self.log.open("w"), stderr=subprocess.STDOUT,
                                        start_new_session=True)  # as in a terminal: Ctrl-C reaches the launcher

    def holds_instance(self) -> bool:
        lock = self.instance / "launcher.lock"
        return lock.exists() and lock.read_text().strip() == str(self.process.pid)

    def output(self) -> str:
        return self.log.read_text()[-6000:]

    def ledger(self) -> list[dict]:
        try:
            return requests.get(f"{self.sandbox}/_sandbox/messages", params={"limit": 10000}, timeout=5).json()["data"]
        except requests.ConnectionError:
            return []

    def stats(self) -> dict:
        return requests.get(f"{self.sandbox}/_sandbox/stats", timeout=5).json()

    def processes(self) -> list[int]:
        """Every process of this instance, whichever session or group it is in: they all carry its INSTANCE_PATH."""
        mark = f"INSTANCE_PATH={self.instance}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and mark in (entry / "environ").read_bytes().split(b"\0") \
                        and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def pid_of(self, command: str) -> int:
        for pid in self.processes():
            if command in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode():
                return pid
        raise AssertionError(f"no process runs {command!r}:\n{self.output()}")

    def ctrl_c(self, within: float = 10.0) -> float:
        """SIGINT to the launcher, as a terminal's Ctrl-C; the seconds until every process of the instance is gone."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        wait_until(lambda: not self.processes(), within, interval=0.05,
                   message=f"every process to stop after Ctrl-C; left: {self.processes()}\n{self.output()}")
        self.process.wait(5)
        return time.monotonic() - started

    def kill(self) -> None:
        for pid in self.processes():
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def make_run(app, tmp_path):
    started = []

    def start():
        started.append(MakeRun(app, tmp_path / "instance"))
        return started[-1]

    yield start
    for run in started:
        run.kill()


def _customers(name: str, prefix: str, size: int) -> int:
    return factories.contact_list(name, [(f"{prefix}{i:04d}", f"Customer {i}", {}) for i in range(size)]).id


def _campaign(name: str, list_id: int) -> int:
    sender = db.session.scalar(select(Sender).where(Sender.is_sandbox))
    sender.throughput = RATE
    template = db.session.scalar(select(Template).where(Template.name == "order_shipped"))
    campaign = services.save_draft(services.Draft(name, sender.id, template.id, [list_id], variables=VARIABLES))
    db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(status="queued"))
    db.session.commit()  # the tick of make run's cron launches it (the test's own Redis has no worker)
    return campaign.id


def _status(campaign_id: int) -> str:
    db.session.commit()
    return db.session.scalar(select(Campaign.status).where(Campaign.id == campaign_id))


def _rows(campaign_id: int) -> list[Recipient]:
    db.session.commit()
    return list(db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign_id)))


def _templates_synced() -> bool:
    db.session.commit()
    return bool(db.session.scalar(select(func.count()).select_from(Template)))


def test_a_killed_sender_is_replaced_until_its_campaign_completes_and_ctrl_c_stops_every_process_at_once(
        app, make_run):
    run = make_run()
    wait_until(run.holds_instance, 20, message=f"the launcher to hold its folder\n{run.output()}")
    refused = make_run()  # a second make run on the same folder while the first runs
    lists = _customers("First", "+1555090", SIZE), _customers("Second", "+1555091", SIZE // 2)  # while they start
    assert refused.process.wait(30) == 1
    assert "already running" in refused.output() and "Traceback" not in refused.output()
    wait_until(_templates_synced, 30, message=f"the sandbox's templates\n{run.output()}")

    # kill -9 the sender worker's process group mid-campaign: its work-horse lives on, and nothing serves dispatch
    first = _campaign("First", lists[0])
    wait_until(lambda: run.stats()["accepted"] >= 100, 40, interval=0.05, message=f"the first sends\n{run.output()}")
    os.killpg(run.pid_of("worker --queues control,dispatch"), signal.SIGKILL)
    wait_until(lambda: _status(first) in FINISHED_STATES, 40, message=f"completion\n{run.output()}")
    assert re.search(r"\bsender +\| was killed by signal 9; starting it again", run.log.read_text())
    sent = Counter(message["to"] for message in run.ledger())
    assert [phone for phone, times in sent.items() if times > 1] == []
    assert {row.phone for row in _rows(first) if row.accepted_at} == set(sent) and len(sent) == SIZE

    # Ctrl-C while the next campaign sends
    second = _campaign("Second", lists[1])
    wait_until(lambda: run.stats()["accepted"] >= SIZE + 150, 30, interval=0.05, message=f"sending\n{run.output()}")
    stats, asked_at = run.stats(), time.time()
    assert stats["rate_limited"] == 0
    assert run.ctrl_c() < 10

    rows = _rows(second)
    accepted = [row for row in rows if row.accepted_at is not None]
    sent_before = stats["accepted"] - SIZE
    # What was in flight finishes, and the loop stops within a turn or two (a fraction of a second of sending):
    assert sent_before <= len(accepted) <= sent_before + stats["in_flight"] + RATE // 2
    assert max(row.accepted_at for row in accepted).timestamp() < asked_at + 1.5
    assert Counter(row.status for row in rows if row.accepted_at is None) == {"pending": len(rows) - len(accepted)}
