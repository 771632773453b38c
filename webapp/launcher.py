"""`make run`: check the database and Redis, upgrade the schema, then run every process of the Procfile under
webapp/supervisor.py, which starts again a process that dies and stops them all (work-horses included) on Ctrl-C.

One `make run` per instance folder: a second one says so and exits. When REDIS_URL is not set, the private
redis-server is started here (its own, never one left by a launcher that was killed) and handed to every
process through the environment; it is started again if it ends (private_redis.Keeper) and stopped after them.
"""
from __future__ import annotations

import fcntl
import os
import sys
from datetime import timedelta
from pathlib import Path

from webapp.config import ROOT, Config
from webapp.private_files import restrict_new_files
from webapp.private_redis import Keeper, RedisUnavailable, check, redact, start
from webapp.supervisor import Supervisor


class StartupError(RuntimeError):
    """What failed at start-up, said so that a newcomer knows what to do."""


def hold_instance(folder: Path):
    """Lock the instance folder for this launcher's life (the kernel lets go when it ends, however it ends);
    return the open lock file. A second `make run` on the same folder is refused, in words."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = open(folder / "launcher.lock", "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "unknown"
        lock.close()
        raise StartupError(
            f"Broadcaster is already running from {folder} (its `make run` has process id {holder}).\n"
            "Stop it first (Ctrl-C in its terminal), or run a second instance with its own INSTANCE_PATH and PORT."
        ) from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


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
    restrict_new_files()  # before instance/, Redis and every process started here (they inherit it)
    config = Config()
    port = os.environ.get("PORT", "8000")
    redis_keeper = None  # the private redis-server, when this launcher starts one
    try:
        instance = hold_instance(Path(config.INSTANCE_PATH))  # noqa: F841 - held until this process ends
        if config.REDIS_URL:
            check(config.REDIS_URL)
        else:
            os.environ["REDIS_URL"], process = start(Path(config.INSTANCE_PATH), fresh=True)
            redis_keeper = Keeper(Path(config.INSTANCE_PATH), process)
        from webapp import create_app

        app = create_app()
        check_database(app)
        environment = prepare(app, port)
    except (StartupError, RedisUnavailable) as exc:
        print(f"\nBroadcaster could not start.\n{exc}\n", file=sys.stderr)
        return 1

    print(f"\n  Broadcaster is starting at http://127.0.0.1:{port}\n  Press Ctrl-C to stop every process.\n", flush=True)
    from honcho.environ import parse_procfile

    names = ["web", "worker", "sender", "importer", "cron"] + (["sandbox"] if environment else [])
    commands = parse_procfile((ROOT / "Procfile").read_text()).processes
    supervisor = Supervisor(
        {name: commands[name] for name in names}, cwd=ROOT,
        env={**os.environ, **environment, "FLASK_APP": "app", "BROADCASTER_PORT": port,
             "PYTHONUNBUFFERED": "1",  # each line shows when it is written
             # the Procfile's commands (gunicorn, flask) come from this virtual environment
             "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
        tend=redis_keeper.tend if redis_keeper else None,  # started again if it ends
    )
    try:
        return supervisor.run()
    finally:
        if redis_keeper is not None:
            redis_keeper.stop()


if __name__ == "__main__":
    sys.exit(main())
