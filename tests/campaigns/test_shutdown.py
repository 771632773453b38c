"""Stopping a worker mid-campaign (make run's Ctrl-C, systemd's stop): SIGTERM reaches the work-horse that sends."""
from __future__ import annotations

import os
import signal
import threading
import time

from jobs.campaigns import dispatcher
from tests.campaigns.sending import launch, rows_by_phone
from webapp.campaigns.lifecycle import counts
from webapp.extensions import db


def test_sigterm_lets_the_requests_in_flight_finish_and_puts_the_claimed_rows_back_to_pending(
        app, sandbox, sandbox_sender):
    campaign = launch(sandbox_sender, [(f"+1555070{i:04d}", f"Customer {i}", {"order": "#1"}) for i in range(300)])

    def killed(signum, frame):  # what SIGTERM does to a work-horse unless the job handles it (RQ: SIG_DFL)
        raise SystemExit("killed by SIGTERM")

    previous = signal.signal(signal.SIGTERM, killed)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
    try:
        timer.start()
        started = time.monotonic()
        verdict = dispatcher(campaign.id).run()
        stopped_after = time.monotonic() - started
        handler_after = signal.getsignal(signal.SIGTERM)
    finally:
        timer.cancel()
        signal.signal(signal.SIGTERM, previous)

    assert verdict == "continue" and stopped_after < 3  # it stops at once, and asks to go on after the restart
    sent = sandbox.messages(limit=1000)
    rows = rows_by_phone(campaign.id)
    assert 0 < len(sent) < 300
    assert sorted(phone for phone, row in rows.items() if row.status == "accepted") == sorted(m["to"] for m in sent)
    assert {row.status for phone, row in rows.items() if row.status != "accepted"} == {"pending"}
    assert counts(db.session, campaign.id)["accepted"] == len(sent)
    time.sleep(0.3)
    assert len(sandbox.messages(limit=1000)) == len(sent)  # nothing leaves after the stop
    assert handler_after is killed  # the dispatcher's own handler is gone with it
