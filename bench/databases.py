"""The databases a benchmark runs on, one after the other: SQLite in a file, PostgreSQL a throwaway server
(tests/services.py) started for its run and stopped after it, both beside a private Redis in a temporary folder.
Nothing leaves 127.0.0.1; everything is deleted at the end, and the load average is printed then, since every
figure depends on it."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from tests.services import ThrowawayPostgres  # noqa: E402 - after the path fix above
from webapp import private_redis  # noqa: E402


def each_database(names: str, label: str) -> Iterator[tuple[str, str, Path, str]]:
    """(name, database URL, folder, Redis URL) for each of the comma-separated `names` ("sqlite,postgresql")."""
    folder = Path(tempfile.mkdtemp(prefix=f"broadcaster-{label}-bench-"))
    os.environ["INSTANCE_PATH"] = str(folder)
    redis_url, redis_process = private_redis.start(folder / "redis")
    try:
        for name in names.split(","):
            if name == "sqlite":
                yield name, f"sqlite:///{folder / f'{label}.db'}", folder, redis_url
                continue
            postgres = ThrowawayPostgres()
            try:
                yield name, postgres.start(), folder, redis_url
            finally:
                postgres.stop()
    finally:
        if redis_process is not None:
            private_redis.stop(redis_process)
        shutil.rmtree(folder, ignore_errors=True)
        print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
