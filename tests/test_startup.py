"""Start-up problems are explained in words a newcomer can act on, never as a traceback."""
from __future__ import annotations

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


def test_make_run_with_an_unreachable_database_says_what_failed_and_how_to_fix_it(tmp_path, redis_url):
    env = {"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(tmp_path), "REDIS_URL": redis_url,
           "DATABASE_URL": "postgresql+psycopg://app:hunter2@127.0.0.1:9/broadcaster"}
    result = subprocess.run([sys.executable, "-m", "webapp.launcher"], cwd=ROOT_DIR, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Broadcaster could not start." in result.stderr
    assert "Cannot reach the database at postgresql+psycopg://app:***@127.0.0.1:9/broadcaster" in result.stderr
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr
