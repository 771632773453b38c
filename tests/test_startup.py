"""Start-up problems are explained in words a newcomer can act on, never as a traceback."""
from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from tests.conftest import ROOT_DIR
from webapp.private_redis import RedisUnavailable, check, redact


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
