"""`make run`'s process set: each process of the Procfile in a session of its own, started again when it dies,
and all of them stopped together on Ctrl-C — RQ's work-horses included.

RQ's work-horse leaves its worker's process group (os.setpgrp), so a signal to the group misses it, and it
lives on when its worker is killed; it stays in the worker's session, though, as does RQ's scheduler child.
So the supervisor signals sessions, whose members it finds in /proc.

Stopping: SIGTERM to the workers and cron first (a worker's horse ends its job: a dispatcher lets its requests
in flight finish, gives its claimed rows back and starts nothing new), then to the web server and the sandbox
once the workers are gone (the requests in flight get their answers); SIGKILL to whatever is left after
STOP_SECONDS. A second Ctrl-C kills at once. A process that keeps dying (RESTARTS in RESTART_WINDOW seconds)
stops everything, and the supervisor says which one.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

STOP_SECONDS = 9.0  # Ctrl-C to the last process gone, the workers' share first (STOP_FIRST_SECONDS)
STOP_FIRST_SECONDS = 6.0
RESTARTS, RESTART_WINDOW = 5, 60.0
LAST = ("web", "sandbox")  # stopped after the others: they answer the requests the workers still have in flight


def session_members(session: int) -> list[int]:
    """The live processes of a session (the session leader's pid), zombies left out."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        state, sid = fields[0], int(fields[3])
        if sid == session and state != "Z":
            members.append(int(entry.name))
    return members


def signal_session(session: int, signum: int) -> bool:
    """Send `signum` to every process of the session; whether any was left to receive it."""
    members = session_members(session)
    for pid in members:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
    return bool(members)


@dataclass
class Child:
    """One line of the Procfile, and the process now running it."""

    name: str
    command: str
    process: subprocess.Popen | None = None
    output: threading.Thread | None = None  # copies the process's lines to ours, prefixed with its name
    deaths: deque = field(default_factory=deque)  # monotonic times of its recent unexpected exits

    @property
    def session(self) -> int:
        return self.process.pid  # started with start_new_session: its pid is its session's id


class Supervisor:
    """Runs the commands (name -> shell command) with `env` in `cwd`, their output prefixed with their names."""

    def __init__(self, commands: dict[str, str], env: dict[str, str], cwd: Path, out=sys.stdout,
                 tend: Callable[[Callable[[str, str], None]], None] | None = None) -> None:
        self.children = [Child(name, command) for name, command in commands.items()]
        self.tend = tend  # called each turn with `say`: keeps what runs beside the processes (the private Redis)
        self.env, self.cwd, self.out = env, cwd, out
        self.width = max(len(name) for name in commands)
        self.stops_asked = 0
        self.orphans: dict[int, float] = {}  # sessions of dead processes -> when their leftovers get SIGKILL
        self._print_lock = threading.Lock()

    # --- output ---

    def say(self, name: str, line: str) -> None:
        with self._print_lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name:<{self.width}} | {line.rstrip()}\n")
            self.out.flush()

    def _pump(self, child: Child, process: subprocess.Popen) -> None:
        for line in iter(process.stdout.readline, b""):
            self.say(child.name, line.decode(errors="replace"))

    # --- running ---

    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {child.command}"], cwd=self.cwd, env=self.env, start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        child.output = threading.Thread(target=self._pump, args=(child, child.process), daemon=True)
        child.output.start()
        self.say(child.name, f"started (pid {child.process.pid})")

    def run(self) -> int:
        """Run until Ctrl-C (SIGINT or SIGTERM): 0; or until a process keeps dying: 1. Everything is stopped then."""
        previous = {signum: signal.signal(signum, self._ask_stop) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in self.children:
                self.start(child)
            status = self._watch()
            self.stop()
            return status
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _ask_stop(self, signum, frame) -> None:
        self.stops_asked += 1
        if self.stops_asked > 1:
            self.kill_all()

    def _watch(self) -> int:
        while not self.stops_asked:
            for child in self.children:
                code = child.process.poll()
                if code is not None and not self.stops_asked:
                    if not self._replace(child, code):
                        return 1
            self._reap_orphans()
            if self.tend is not None:
                self.tend(self.say)
            time.sleep(0.1)
        return 0

    def _replace(self, child: Child, code: int) -> bool:
        """Start a process that exited again, after asking what is left of its session (a work-horse) to stop;
        False when it keeps dying."""
        if signal_session(child.session, signal.SIGTERM):
            self.orphans[child.session] = time.monotonic() + STOP_SECONDS
        now = time.monotonic()
        child.deaths.append(now)
        while child.deaths and child.deaths[0] < now - RESTART_WINDOW:
            child.deaths.popleft()
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        if len(child.deaths) >= RESTARTS:
            self.say(child.name, f"{how}, the {len(child.deaths)}th time in {RESTART_WINDOW:.0f} s: stopping every "
                                 "process. Its last lines above say why.")
            return False
        self.say(child.name, f"{how}; starting it again")
        self.start(child)
        return True

    def _reap_orphans(self) -> None:
        for session, deadline in list(self.orphans.items()):
            if not session_members(session):
                del self.orphans[session]
            elif time.monotonic() > deadline:
                signal_session(session, signal.SIGKILL)

    # --- stopping ---

    def sessions(self, names: Collection[str] | None = None) -> list[int]:
        return [child.session for child in self.children
                if child.process is not None and (names is None or child.name in names)]

    def stop(self) -> None:
        """SIGTERM in two waves (workers, then web and sandbox), then SIGKILL for whatever outlives STOP_SECONDS."""
        started = time.monotonic()
        first = self.sessions([child.name for child in self.children if child.name not in LAST])
        for wave, until in ((first, STOP_FIRST_SECONDS), (self.sessions(LAST), STOP_SECONDS)):
            for session in wave:
                signal_session(session, signal.SIGTERM)
            self._wait_gone(wave, started + until)
        self.kill_all()
        for child in self.children:
            child.process.wait()
            child.output.join(timeout=1)  # their last lines before ours
        self.say("make run", f"every process stopped in {time.monotonic() - started:.1f} s")

    def _wait_gone(self, sessions: list[int], deadline: float) -> None:
        while time.monotonic() < deadline and self.stops_asked < 2:
            for child in self.children:
                child.process.poll()  # reap: a zombie leader is gone
            if not any(session_members(session) for session in sessions):
                return
            time.sleep(0.1)

    def kill_all(self) -> None:
        for session in self.sessions() + list(self.orphans):
            signal_session(session, signal.SIGKILL)
