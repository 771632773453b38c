"""instance/ is the app user's alone: the folder 0700, the SQLite database, the secret key and uploads 0600,
whether gunicorn, a worker or the CLI built the app (create_app); `make run`'s launcher: tests/test_startup.py."""
from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from werkzeug.datastructures import FileStorage


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask():
    """A shell's usual umask (new files readable by everyone), as the app's processes inherit it."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _app(instance: Path, redis_url: str):
    from webapp import create_app

    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'broadcaster.db'}",
                       "REDIS_URL": redis_url, "INSTANCE_PATH": str(instance), "UPLOAD_FOLDER": str(instance / "uploads"),
                       "SECRET_KEY": "test-secret-key", "SANDBOX_ENABLED": False})


def test_the_database_and_an_upload_are_created_readable_by_the_apps_user_only(tmp_path, redis_url, usual_umask):
    from webapp.contacts.imports import save_upload
    from webapp.extensions import db

    instance = tmp_path / "instance"
    app = _app(instance, redis_url)
    with app.app_context():
        db.session.execute(text("CREATE TABLE t (x INTEGER)"))  # SQLite creates the file and its WAL
        db.session.commit()
        upload = save_upload(FileStorage(io.BytesIO(b"phone\n+15550100001\n"), "customers.csv"))
        database = Path(db.engine.url.database)
        assert (mode(instance), mode(instance / "uploads")) == (0o700, 0o700)
        assert (mode(database), mode(upload)) == (0o600, 0o600)
        assert mode(database.with_name("broadcaster.db-wal")) == 0o600
        db.session.remove()
        db.engine.dispose()


def test_an_instance_folder_left_open_by_an_earlier_version_is_closed_at_start(tmp_path, redis_url, usual_umask):
    instance = tmp_path / "instance"
    (instance / "uploads").mkdir(parents=True, mode=0o755)
    instance.chmod(0o755)
    for name in ("broadcaster.db", "uploads/old.upload"):
        (instance / name).write_bytes(b"")
        (instance / name).chmod(0o644)

    _app(instance, redis_url)

    assert (mode(instance), mode(instance / "uploads")) == (0o700, 0o700)
    assert (mode(instance / "broadcaster.db"), mode(instance / "uploads" / "old.upload")) == (0o600, 0o600)
