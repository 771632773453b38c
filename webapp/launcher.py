"""`make run`: check the database and Redis, upgrade the schema, then start every process with honcho.

When REDIS_URL is not set, the private redis-server is started here and handed to every process
through the environment; Ctrl-C stops honcho's processes and then Redis.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from webapp.config import ROOT, Config
from webapp.private_files import restrict_new_files
from webapp.private_redis import RedisUnavailable, check, redact, start


class StartupError(RuntimeError):
    """What failed at start-up, said so that a newcomer knows what to do."""


def check_database(app) -> None:
    from sqlalchemy import text

    from webapp.extensions import db

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        with app.app_context():
            db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - every driver error becomes one readable message
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise StartupError(
            f"Cannot reach the database at {redact(url)}: {reason}\n"
            "Check DATABASE_URL (e.g. postgresql+psycopg://user:password@host/dbname), or unset it to use "
            "the SQLite file in instance/."
        ) from exc


def prepare(app, port: str) -> dict[str, str]:
    """Upgrade the schema to head, set up the sandbox sender on first run; return the processes' environment."""
    from flask_migrate import upgrade

    from webapp.encryption import SecretUnreadable
    from webapp.extensions import db
    from webapp.senders.services import provision_sandbox, sandbox_environment

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        if not app.config["SANDBOX_ENABLED"]:
            return {}
        try:
            sender = provision_sandbox()
        except SecretUnreadable as exc:
            raise StartupError(f"{exc}\nOr set SECRET_KEY back to the key they were stored with.") from exc
        db.session.commit()
        _sync_templates_once_up(sender)
        return sandbox_environment(port)


def _sync_templates_once_up(sender) -> None:
    """First run: fetch the sandbox's templates as soon as the worker and the sandbox are up."""
    from rq import Retry

    from webapp.extensions import db
    from webapp.queues import queue
    from webapp.senders.models import Template

    if db.session.query(Template.id).filter_by(waba_id=sender.waba_id).first() is None:
        queue().enqueue_in(timedelta(seconds=3), "jobs.senders.sync", sender.id, retry=Retry(max=8, interval=[1, 2, 3, 5, 8, 13]))


def main() -> int:
    restrict_new_files()  # before instance/, Redis and every process honcho starts (they inherit it)
    config = Config()
    port = os.environ.get("PORT", "8000")
    redis_process = None
    try:
        if config.REDIS_URL:
            check(config.REDIS_URL)
        else:
            os.environ["REDIS_URL"], redis_process = start(Path(config.INSTANCE_PATH))
        from webapp import create_app

        app = create_app()
        check_database(app)
        environment = prepare(app, port)
    except (StartupError, RedisUnavailable) as exc:
        print(f"\nBroadcaster could not start.\n{exc}\n", file=sys.stderr)
        return 1

    print(f"\n  Broadcaster is starting at http://127.0.0.1:{port}\n  Press Ctrl-C to stop every process.\n", flush=True)
    processes = ["web", "worker", "sender", "importer", "cron"] + (["sandbox"] if environment else [])
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", str(ROOT / "Procfile"), "-d", str(ROOT), "-p", port,
         *processes],
        env={**os.environ, **environment, "FLASK_APP": "app", "BROADCASTER_PORT": port,
             # the Procfile's commands (gunicorn, flask) come from this virtual environment
             "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    signal.signal(signal.SIGTERM, lambda *_: honcho.send_signal(signal.SIGTERM))
    try:
        return honcho.wait()
    except KeyboardInterrupt:
        honcho.wait()  # honcho got the same Ctrl-C and is stopping its processes
        return 0
    finally:
        if redis_process is not None:
            from webapp.private_redis import stop

            stop(redis_process)


if __name__ == "__main__":
    sys.exit(main())
