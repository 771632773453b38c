"""Start-up problems are explained in words a newcomer can act on, never as a traceback."""
from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from redis import Redis

from tests.conftest import ROOT_DIR
from webapp.private_redis import RedisUnavailable, check, redact, start, stop


def test_an_unreachable_redis_is_named_without_its_password():
    with pytest.raises(RedisUnavailable) as refused:
        check("redis://user:s3cret@127.0.0.1:9/0")
    message = str(refused.value)
    assert "Cannot reach Redis at redis://user:***@127.0.0.1:9/0" in message
    assert "s3cret" not in message and "REDIS_URL" in message


def test_redact_hides_the_password_of_a_database_url():
    assert redact("postgresql+psycopg://app:hunter2@db.internal/broadcaster") == \
        "postgresql+psycopg://app:***@db.internal/broadcaster"


def test_make_run_with_an_unreachable_database_says_what_failed_and_how_to_fix_it(tmp_path):
    instance = tmp_path / "instance"
    env = {"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(instance),  # no REDIS_URL: it starts its private Redis
           "DATABASE_URL": "postgresql+psycopg://app:hunter2@127.0.0.1:9/broadcaster"}
    result = subprocess.run([sys.executable, "-m", "webapp.launcher"], cwd=ROOT_DIR, env=env,
                            capture_output=True, text=True, timeout=60,
                            preexec_fn=lambda: os.umask(0o022))  # a shell's usual umask: files readable by all
    assert result.returncode == 1
    assert "Broadcaster could not start." in result.stderr
    assert "Cannot reach the database at postgresql+psycopg://app:***@127.0.0.1:9/broadcaster" in result.stderr
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr
    # What it created before it stopped is its user's alone (tests/test_private_files.py: create_app's part).
    modes = {name: stat.S_IMODE((instance / name).stat().st_mode) for name in (".", "secret_key", "redis.lock")}
    assert modes == {".": 0o700, "secret_key": 0o600, "redis.lock": 0o600}


def test_make_run_stops_a_private_redis_left_by_a_killed_launcher_and_starts_its_own(tmp_path):
    url, left_over = start(tmp_path)  # as a launcher that was then killed -9 left it
    Redis.from_url(url).set("queued-by-the-old-run", "1")
    ours = None
    try:
        again, ours = start(tmp_path, fresh=True)  # what the next make run does, holding the instance folder

        assert left_over.wait(10) is not None and ours is not None and ours.poll() is None
        assert again == url and Redis.from_url(again).get("queued-by-the-old-run") is None
    finally:
        for process in (left_over, ours):
            if process is not None:
                stop(process)
