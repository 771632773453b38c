"""Removing uploaded files no import needs any more: customers' numbers stay on disk no longer than needed.

An import whose file was removed keeps its row and its report; its `stored_path` becomes "". This module
commits itself: a file is removed only after the commit that stops every import from needing it.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from webapp.contacts.models import Import
from webapp.timestamps import utcnow

log = logging.getLogger(__name__)

UPLOAD_EXPIRED = "This upload has expired; upload the file again."


def remove_unneeded_uploads(session: Session, folder: Path, retention: timedelta,
                            now: datetime | None = None) -> int:
    """Remove the files of finished and failed imports, of imports left at their column step for longer
    than `retention`, and files in `folder` older than that which no import names. Returns how many."""
    cutoff = (now or utcnow()) - retention
    removed = sum(_remove(path) for path in _release_files(session, cutoff))
    removed += sum(_remove(path) for path in _orphans(session, folder, cutoff))
    log.info("Removed %d upload file(s) no longer needed", removed)
    return removed


def _release_files(session: Session, cutoff: datetime) -> list[Path]:
    """The files of uploads no longer needed, each claimed by clearing its import's path in one commit.

    The claim repeats the conditions, so an upload confirmed meanwhile (now queued) keeps its file, and
    starting an import whose path was cleared fails instead (see imports.start_import).
    """
    releasable = and_(
        Import.stored_path != "",
        Import.options["uploaded"].as_boolean(),  # a CLI import names the person's own file: never ours to remove
        or_(Import.status.in_(("done", "failed")), and_(Import.status == "uploaded", Import.created_at < cutoff)))
    paths = dict(session.execute(select(Import.id, Import.stored_path).where(releasable)).all())
    if not paths:
        return []
    claimed = session.scalars(update(Import).where(Import.id.in_(paths), releasable)
                              .values(stored_path="").returning(Import.id)).all()
    session.commit()
    return [Path(paths[import_id]) for import_id in claimed]


def _orphans(session: Session, folder: Path, cutoff: datetime) -> list[Path]:
    """Upload files older than `cutoff` that no import names (a web process that stopped between saving a
    file and recording its import leaves one behind)."""
    stored = session.scalars(select(Import.stored_path).where(Import.stored_path != "")).all()
    session.commit()
    named = {Path(path).resolve() for path in stored}
    return [path for path in folder.glob("*.upload")
            if path.resolve() not in named and _modified_before(path, cutoff)]


def _modified_before(path: Path, cutoff: datetime) -> bool:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc) < cutoff
    except FileNotFoundError:  # removed meanwhile (by another run)
        return False


def _remove(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:  # already gone: a finished import removes its own file
        return False
    return True
