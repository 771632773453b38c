"""The whole product on loopback for a benchmark: a private Redis, a migrated SQLite database, the sandbox,
and the app's real worker processes. Nothing leaves 127.0.0.1; everything stops at the end."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.processes import ProcessSet  # noqa: E402
from tests.sandbox.harness import SandboxProcess  # noqa: E402
from webapp import private_redis  # noqa: E402


class Stack:
    def __init__(self, sandbox_args: list[str], database_url: str | None = None) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="broadcaster-bench-"))
        self.redis_url, self.redis = private_redis.start(self.folder / "redis")
        self.sandbox = SandboxProcess(*sandbox_args)
        os.environ["INSTANCE_PATH"] = str(self.folder)
        from flask_migrate import upgrade

        from webapp import create_app

        self.app = create_app({
            "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{self.folder / 'bench.db'}",
            "REDIS_URL": self.redis_url, "INSTANCE_PATH": str(self.folder), "SANDBOX_ENABLED": False,
            "SANDBOX_URL": self.sandbox.base_url, "SECRET_KEY": "bench",
        })
        self.context = self.app.app_context()
        self.context.push()
        upgrade(directory=str(ROOT / "migrations"))
        self.groups: list[ProcessSet] = []

    def processes(self, **settings) -> ProcessSet:
        group = ProcessSet(self.app, **settings)
        self.groups.append(group)
        return group

    def web(self, workers: int = 2, threads: int = 32) -> str:
        """gunicorn as the Procfile starts it, on this stack's database and Redis; its base URL (stopped by close)."""
        from bench.webhook_ingest import start_gunicorn

        self.web_process, url = start_gunicorn(self.folder, self.app.config["SQLALCHEMY_DATABASE_URI"],
                                               self.redis_url, workers, threads)
        return url

    def close(self) -> None:
        for group in self.groups:
            group.stop()
        if getattr(self, "web_process", None) is not None:
            self.web_process.terminate()
            self.web_process.wait(timeout=10)
        self.sandbox.stop()
        self.context.pop()
        if self.redis is not None:
            private_redis.stop(self.redis)
