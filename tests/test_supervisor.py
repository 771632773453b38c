"""make run's supervisor (webapp/supervisor.py) on small real processes: what it starts again, what it stops."""
from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
from pathlib import Path

from webapp.supervisor import Supervisor

# A process that forks a child which leaves its process group and sleeps on, as RQ's work-horse does.
WORKER_WITH_HORSE = (f"{sys.executable} -c \"import os, time\n"
                     "if os.fork() == 0:\n    os.setpgrp(); print('horse', os.getpid(), flush=True); time.sleep(60)\n"
                     "else:\n    time.sleep(60)\"")


def _supervise(commands: dict[str, str], ctrl_c_after: float | None = None) -> tuple[int, str, float]:
    out = io.StringIO()
    supervisor = Supervisor(commands, env=dict(os.environ), cwd=Path.cwd(), out=out)
    timer = threading.Timer(ctrl_c_after, os.kill, (os.getpid(), signal.SIGINT)) if ctrl_c_after else None
    started = time.monotonic()
    if timer:
        timer.start()
    try:
        status = supervisor.run()
    finally:
        if timer:
            timer.cancel()
    return status, out.getvalue(), time.monotonic() - started


def _horses(output: str) -> list[int]:
    return [int(line.split()[-1]) for line in output.splitlines() if "| horse " in line]


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_ctrl_c_stops_every_process_and_the_children_that_left_their_process_group():
    status, output, seconds = _supervise({"worker": WORKER_WITH_HORSE, "web": "sleep 60"}, ctrl_c_after=1.5)

    [horse] = _horses(output)
    assert status == 0 and seconds < 5
    assert _gone(horse)
    assert "every process stopped" in output


def test_a_process_that_dies_is_started_again_and_what_it_left_running_is_stopped():
    marker = Path(os.environ.get("TMPDIR", "/tmp")) / f"supervised-{os.getpid()}"
    marker.unlink(missing_ok=True)
    # The first time, it forks a "horse" and dies at once; started again, it stays.
    command = (f"{sys.executable} -c \"import os, sys, time\n"
               f"first = not os.path.exists('{marker}'); open('{marker}', 'a').close()\n"
               "if first and os.fork() == 0:\n"
               "    os.setpgrp(); print('horse', os.getpid(), flush=True); time.sleep(60)\n"
               "elif first:\n    time.sleep(0.3); os._exit(9)\n"
               "time.sleep(60)\"")
    try:
        status, output, _ = _supervise({"sender": command}, ctrl_c_after=3)
    finally:
        marker.unlink(missing_ok=True)

    assert "sender | exited with status 9; starting it again" in output
    assert output.count("sender | started") == 2
    [horse] = _horses(output)
    assert _gone(horse) and status == 0


def test_a_process_that_keeps_dying_stops_everything_and_says_which():
    status, output, seconds = _supervise({"web": "sleep 60", "worker": "sh -c 'echo cannot connect; exit 3'"})

    assert status == 1 and seconds < 10
    assert "worker | exited with status 3, the 5th time in 60 s: stopping every process" in output
    assert output.count("cannot connect") == 5
