"""The product's own processes (RQ workers, RQ's cron) started for real, pointed at the test's database."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ProcessSet:
    """Workers and a cron process sharing the test app's database and Redis, with settings for speed."""

    def __init__(self, app, **settings: str | int | float) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
            "INSTANCE_PATH": app.config["INSTANCE_PATH"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "SANDBOX_URL": app.config["SANDBOX_URL"],
            "META_GRAPH_URL": app.config["META_GRAPH_URL"],
            "SANDBOX_ENABLED": "0",
            "UNKNOWN_DELIVERY_GRACE_SECONDS": "3",
            "DISPATCH_SLICE_SECONDS": "5",
            "RETRY_BASE_SECONDS": "0.2",
            "GRAPH_TIMEOUT_SECONDS": "2",
            # Here every process of the product, the sandbox and the test share two cores, so a request can
            # leave (and the sandbox can stamp its arrival) 50+ ms after its admission; the limiter's margin
            # must cover that. The 20 ms default suits workers that are not starved (docs/deploy.md).
            "RATE_MARGIN_MS": "100",
            **{name: str(value) for name, value in settings.items()},
        }
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def _start(self, *args: str) -> subprocess.Popen:
        log = Path(tempfile.mkstemp(prefix="broadcaster-proc-", suffix=".log")[1])
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=self.env,
                                   stdout=log.open("w"), stderr=subprocess.STDOUT)
        self.processes.append(process)
        self.logs.append(log)
        return process

    def worker(self, queues: str = "control,dispatch,default,imports") -> subprocess.Popen:
        return self._start("worker", "--queues", queues)

    def cron(self) -> subprocess.Popen:
        return self._start("cron")

    def kill(self, process: subprocess.Popen) -> None:
        """kill -9 the worker and the work-horse it forked, as a crash would."""
        for pid in _children(process.pid):
            os.kill(pid, signal.SIGKILL)
        process.kill()
        process.wait()
        self.processes.remove(process)

    def kill_work_horse(self, process: subprocess.Popen) -> list[int]:
        """kill -9 the work-horse(s) a worker forked (the job it runs dies; the worker goes on); their pids."""
        horses = _children(process.pid)
        for pid in horses:
            os.kill(pid, signal.SIGKILL)
        return horses

    def stop(self) -> None:
        """Ask each to stop, and kill what has not within a couple of seconds: a test is over, and a dispatcher's
        warm shutdown (its slice to end) is tested where it matters (tests/campaigns/test_shutdown.py)."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pid_owner in self.processes:
            for pid in _children(pid_owner.pid):
                os.kill(pid, signal.SIGKILL)

    def died(self) -> bool:
        """True when a process exited that nobody stopped (kill() removes its victims from the set)."""
        return any(process.poll() is not None for process in self.processes)

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-4000:]}" for log in self.logs)

    def logged(self, text: str) -> int:
        """How many times `text` appears in the processes' whole output."""
        return sum(log.read_text().count(text) for log in self.logs)


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


def wait_for_workers(app, count: int, processes: ProcessSet | None = None, timeout: float = 180) -> None:
    """Wait until `count` RQ workers are registered: a loaded machine can take a minute to start them, and a trial
    that times its fault by the campaign's progress must not count that minute."""
    from rq import Worker

    wait_until(lambda: len(Worker.all(connection=app.extensions["redis"])) >= count, timeout,
               message=f"{count} workers to start", processes=processes)


def wait_until(condition, timeout: float, interval: float = 0.2, message: str = "condition",
               processes: ProcessSet | None = None):
    """Poll `condition`; fail with the processes' output when it times out or one of them dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if processes is not None and processes.died():
            raise AssertionError(f"a process died while waiting for {message}:\n{processes.output()}")
        time.sleep(interval)
    details = f"\n{processes.output()}" if processes is not None else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {message}{details}")
