"""instance/ is the app user's alone: the folder and the upload folder 0700, and every file the app's processes
create (the SQLite database and its WAL, the secret key, uploads, the private Redis's socket and lock) 0600."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

UMASK = 0o077  # nothing for the group, nothing for others


def restrict_new_files() -> None:
    """What this process and its children create from now on is readable by the app's user only."""
    os.umask(UMASK)


def close_instance(instance: Path, uploads: Path, database_uri: str) -> None:
    """Make the folders private, and tighten files an earlier version (or another umask) left readable."""
    for folder in (instance, uploads):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)
    for path in [*_sqlite_files(database_uri), *uploads.iterdir()]:
        if path.is_file():
            path.chmod(0o600)


def _sqlite_files(database_uri: str) -> list[Path]:
    url = make_url(database_uri)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return []
    database = Path(url.database)
    return [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]
