"""Importing a customer file into a list: the upload, starting the run, and what its pages and the CLI report.

The run itself is in webapp/contacts/import_run.py; the column step in webapp/contacts/columns.py.
"""
from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import phonenumbers
from flask import current_app
from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from webapp.contacts import export, services
from webapp.contacts.columns import Columns, Preview, column_by_name, inspect
from webapp.contacts.errors import ContactsError
from webapp.contacts.import_run import run_import
from webapp.contacts.models import ContactList, Import, ImportRejection
from webapp.contacts.upload_cleanup import UPLOAD_EXPIRED
from webapp.timestamps import utcnow

REPORT_BATCH = 2000
EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "examples" / "customers.csv"
EXAMPLE_LIST = "Example customers"
EXAMPLE_COUNTRY = "US"  # the example's numbers are American, written the ways Americans write them


def save_upload(file: FileStorage) -> Path:
    """Keep an uploaded file under a random name of ours; the person's file name is never a path."""
    path = _new_upload_path()
    file.save(path)
    return path


def _new_upload_path() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / f"{secrets.token_hex(16)}.upload"


def display_name(filename: str) -> str:
    """The file's own name, for pages: some browsers send a whole path ("C:\\Users\\…\\list.csv")."""
    return re.split(r"[\\/]", filename or "")[-1].strip()[:255] or "upload"


def discard_upload(path: str | Path) -> None:
    Path(path).unlink(missing_ok=True)


def check_country(country: str) -> str:
    country = (country or "").strip().upper()
    if country not in phonenumbers.SUPPORTED_REGIONS:
        raise ContactsError("Choose the country of numbers written without a country code.", field="country")
    return country


def begin_import(session: Session, path: Path, filename: str, *, list_id: int | None, new_list: str | None,
                 country: str, update_existing: bool, user_id: int | None) -> tuple[Import, Preview]:
    """Check the choices and the file, and record the upload; its columns are chosen next.

    Raises ContactsError (a choice) or FileRejected (the file); nothing is recorded then. A new
    list is only created by the import's last transaction, so neither a file abandoned here nor a
    failed import leaves an empty list behind.
    """
    country = check_country(country)
    filename = display_name(filename)
    if list_id is not None:
        if session.get(ContactList, list_id) is None:
            raise ContactsError("That list no longer exists; choose another.", field="list_id")
        new_list = None
    else:
        new_list = _check_new_list(session, new_list)
    preview = inspect(path, filename)
    record = Import(filename=filename, stored_path=str(path), status="uploaded", list_id=list_id,
                    options={"country": country, "update_existing": update_existing, "new_list": new_list,
                             "uploaded": True},
                    total_rows=preview.estimated_rows or 0, created_by_id=user_id)
    session.add(record)
    session.flush()
    return record, preview


def _check_new_list(session: Session, name: str | None) -> str:
    """The new list's name, if it is a good one and free; checked again when the list is created."""
    try:
        name = services.clean_list_name(name or "")
    except ContactsError as error:
        raise ContactsError(error.message, field="new_list") from None
    if services.find_list(session, name) is not None:
        raise ContactsError(f"There is already a list called “{name}”: choose it in the menu above, "
                            "or give the new list another name.", field="new_list", code="conflict")
    return name


def preview_of(record: Import) -> Preview:
    """The start of an upload's file, for its column step; an upload whose file was removed must be made again."""
    if record.stored_path:
        with suppress(FileNotFoundError):
            return inspect(record.stored_path, record.filename)
    raise ContactsError(UPLOAD_EXPIRED, code="not_found")


def start_import(session: Session, record: Import, columns: Columns, headers: Sequence[str]) -> Import:
    """Fix the columns and queue the import (once)."""
    columns = columns.checked(headers)
    if record.list_id is None:
        _check_new_list(session, record.options.get("new_list"))
    options = {**record.options, "columns": columns.as_options(), "headers": list(headers)}
    started = session.execute(update(Import).where(Import.id == record.id, Import.status == "uploaded",
                                                   Import.stored_path != "")
                              .values(status="queued", options=options)).rowcount
    if not started:
        session.refresh(record)
        raise ContactsError(UPLOAD_EXPIRED if record.status == "uploaded" else "This import has already started.",
                            code="conflict")
    session.refresh(record)
    return record


def begin_example(session: Session, user_id: int | None) -> Import:
    """The example customer file, uploaded and mapped as a person would, into a new list."""
    path = _new_upload_path()
    shutil.copyfile(EXAMPLE_FILE, path)
    name = services.free_list_name(session, EXAMPLE_LIST)
    record, preview = begin_import(session, path, EXAMPLE_FILE.name, list_id=None, new_list=name,
                                   country=EXAMPLE_COUNTRY, update_existing=True, user_id=user_id)
    return start_import(session, record, preview.default_columns(), preview.headers)


def import_file(session: Session, path: Path, *, list_name: str, country: str, phone_column: str | None,
                update_existing: bool, user_id: int | None = None) -> Import:
    """The whole import of a file on disk, run here and now (the CLI): the same steps as an upload's. It commits
    the import's record, which the import run (owner of its own transactions) then claims.

    Raises FileRejected when the file can't be imported at all, ContactsError for a bad choice.
    """
    country = check_country(country)
    list_name = services.clean_list_name(list_name)
    preview = inspect(path, path.name)
    if phone_column:
        phone = column_by_name(preview.headers, phone_column)
        guess = preview.guess._replace(phone=phone, name=None if preview.guess.name == phone else preview.guess.name)
        preview = replace(preview, guess=guess)
    columns = preview.default_columns()
    if columns is None:
        raise ContactsError("No column looks like phone numbers; name it with --phone-column. The file's "
                            f"columns: {', '.join(preview.headers)}.", field="phone")
    existing = services.find_list(session, list_name)
    record = Import(filename=display_name(path.name), stored_path=str(path.resolve()), status="uploaded",
                    list_id=existing.id if existing else None, created_by_id=user_id,
                    total_rows=preview.estimated_rows or 0,
                    options={"country": country, "update_existing": update_existing, "uploaded": False,
                             "new_list": None if existing else list_name})
    session.add(record)
    session.flush()
    start_import(session, record, columns, preview.headers)
    session.commit()
    return run_import(session, record.id) or record


# --- Progress and report ---------------------------------------------------------------------------

RATE_AFTER_SECONDS = 1.0


@dataclass(frozen=True)
class Progress:
    """How far a running import has got, in the figures its page shows."""

    processed: int
    total: int
    rows_per_second: float | None
    seconds_left: float | None
    merging: bool  # every row read; the contacts are being added to the list

    @property
    def percent(self) -> float:
        if self.merging:
            return 100.0
        return min(100.0, round(100 * self.processed / self.total, 1)) if self.total else 0.0


def progress(record: Import, now: datetime | None = None) -> Progress:
    """The import's figures; its rate and time left once it has read for a second (before, a small file's rate
    would be the start-up's, not the reading's: "37 rows at 107 rows/s")."""
    now = now or utcnow()
    rate = left = None
    if record.started_at is not None and record.processed_rows:
        elapsed = ((record.rows_read_at or now) - record.started_at).total_seconds()
        if elapsed >= RATE_AFTER_SECONDS:
            rate = record.processed_rows / elapsed
            left = max(record.total_rows - record.processed_rows, 0) / rate
    return Progress(record.processed_rows, max(record.total_rows, record.processed_rows), rate, left,
                    record.status == "running" and record.rows_read_at is not None)


def report(session: Session, record: Import) -> dict:
    """An import's outcome as plain values: the web page, the CLI and its --json show the same."""
    target = session.get(ContactList, record.list_id) if record.list_id else None
    return {
        "import_id": record.id, "file": record.filename, "status": record.status,
        "list": target.name if target else record.options.get("new_list"), "list_id": record.list_id,
        "rows": record.total_rows if record.status == "done" else record.processed_rows,
        "added": record.added, "updated": record.updated, "already_in_list": record.already_in_list,
        "duplicates": record.duplicates, "invalid": record.invalid,
        "rejected": record.duplicates + record.invalid, "error": record.error or None,
    }


def recent(session: Session, list_id: int, limit: int = 5) -> list[Import]:
    """The newest imports into a list, for its page."""
    return list(session.scalars(select(Import).where(Import.list_id == list_id)
                                .order_by(Import.id.desc()).limit(limit)))


def rejections(session: Session, import_id: int, limit: int | None = None) -> Iterator[Row]:
    """The rejected rows (line, value, reason, cells) in file order, in keyset batches: a file may reject a
    million."""
    table = ImportRejection.__table__
    after, given = 0, 0
    while limit is None or given < limit:
        size = REPORT_BATCH if limit is None else min(REPORT_BATCH, limit - given)
        batch = session.execute(select(table.c.id, table.c.line, table.c.value, table.c.reason, table.c.cells)
                                .where(table.c.import_id == import_id, table.c.id > after)
                                .order_by(table.c.id).limit(size)).all()
        if not batch:
            return
        given += len(batch)
        yield from batch
        after = batch[-1].id


def rejections_csv(session: Session, import_id: int) -> Iterator[str]:
    """The rejected rows as CSV, streamed, every cell safe to open in a spreadsheet: the uploaded file's columns
    (same headers, same order) then its line and the reason, so it can be fixed and imported again (the column
    step leaves line and reason out). A row wider than the header keeps its extra cells after the reason."""
    record = session.get(Import, import_id)
    headers = list(record.options.get("headers") or [])
    width, phone = len(headers), (record.options.get("columns") or {}).get("phone")

    def row(rejection) -> list[str]:
        cells = rejection.cells
        if cells is None:  # rejected before rows were kept: its value in the phone column
            cells = [rejection.value if index == phone else "" for index in range(width)]
        cells = [str(cell) for cell in cells]
        return [*cells[:width], *[""] * (width - len(cells)), str(rejection.line), rejection.reason, *cells[width:]]

    return export.csv_stream([*headers, *export.REJECTION_NOTES], (row(r) for r in rejections(session, import_id)))
