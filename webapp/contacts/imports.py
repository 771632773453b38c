"""Importing a customer file into a list: the upload, the column choice, the streamed run, its report.

The run reads the file in chunks and stages each valid, first-seen number in `import_rows`,
committing its progress per chunk; only when the whole file has been read does one transaction
merge the staged rows into contacts and the list. So a run that fails changes no list.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path

import phonenumbers
from flask import current_app
from sqlalchemy import (
    ARRAY, JSON, Boolean, String, and_, bindparam, case, cast, delete, func, literal, literal_column, or_, select, update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from webapp.contacts import export, services
from webapp.contacts.errors import ContactsError
from webapp.contacts.models import Contact, ContactList, Import, ImportRejection, ImportRow, ListMember
from webapp.contacts.phones import InvalidPhone, normalise
from webapp.contacts.tabular import ColumnGuess, FileRejected, guess_columns, open_table
from webapp.timestamps import UTCDateTime, utcnow
from webapp.transactions import begin_write, is_sqlite, upsert

log = logging.getLogger(__name__)

CHUNK_ROWS = 5000  # rows read, staged and committed at a time: bounded memory, progress every chunk
PREVIEW_ROWS = 8  # rows the column step shows
SAMPLE_ROWS = 50  # rows read to guess the phone column when no header names it
REPORT_BATCH = 2000
CLEAR_BATCH = 50_000
EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "examples" / "customers.csv"
EXAMPLE_LIST = "Example customers"
EXAMPLE_COUNTRY = "US"  # the example's numbers are American, written the ways Americans write them



# --- Choosing columns ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Columns:
    """Which columns of the file hold what, as indexes into its headers."""

    phone: int
    name: int | None = None
    last_name: int | None = None  # joined to `name` when the file splits first and last names
    attributes: tuple[int, ...] = ()  # kept on the contact under their header

    def as_options(self) -> dict:
        return {"phone": self.phone, "name": self.name, "last_name": self.last_name,
                "attributes": list(self.attributes)}

    @classmethod
    def from_options(cls, data: dict) -> Columns:
        return cls(data["phone"], data.get("name"), data.get("last_name"), tuple(data.get("attributes") or ()))

    def checked(self, headers: Sequence[str]) -> Columns:
        """These columns, if they make sense for `headers`; attributes never repeat the phone or name."""
        width = len(headers)
        if not 0 <= self.phone < width:
            raise ContactsError("Choose the column that holds the phone numbers.", field="phone")
        for field, index in (("name", self.name), ("last_name", self.last_name)):
            if index is not None and not 0 <= index < width:
                raise ContactsError("Choose one of the file's columns.", field=field)
            if index is not None and index == self.phone:
                raise ContactsError("The phone column can't also be the name.", field=field)
        taken = {self.phone, self.name, self.last_name}
        attributes = tuple(sorted({i for i in self.attributes if 0 <= i < width and i not in taken}))
        last_name = self.last_name if self.name is not None and self.last_name != self.name else None
        return Columns(self.phone, self.name, last_name, attributes)


@dataclass(frozen=True)
class Preview:
    """The start of a file: its headers, its first rows, and a guess at which column is which."""

    headers: list[str]
    rows: list[list[str]]
    guess: ColumnGuess
    estimated_rows: int | None

    def default_columns(self) -> Columns | None:
        """The guessed columns, every other one as an attribute; None when no column looks like phones."""
        if self.guess.phone is None:
            return None
        return Columns(self.guess.phone, self.guess.name, self.guess.last_name,
                       tuple(range(len(self.headers)))).checked(self.headers)


def inspect(path: str | Path, filename: str) -> Preview:
    """Open the file and read its start; raises FileRejected when it can't be imported at all."""
    with open_table(path, filename) as table:
        sample = []
        for row in table.rows():
            if row.problem is None:
                sample.append([_unquoted(value) for value in row.values])
            if len(sample) == SAMPLE_ROWS:
                break
        headers = table.headers
        estimate = table.estimated_rows()
    return Preview(headers, sample[:PREVIEW_ROWS], guess_columns(headers, sample), estimate)


def column_by_name(headers: Sequence[str], wanted: str) -> int:
    """A column named like `wanted` (any case), or numbered so (1 is the first); for the CLI."""
    for index, header in enumerate(headers):
        if header.casefold() == wanted.strip().casefold():
            return index
    if wanted.strip().isdigit() and 1 <= int(wanted) <= len(headers):
        return int(wanted) - 1
    raise ContactsError(f"The file has no column “{wanted}”. Its columns: {', '.join(headers)}.", field="phone")


# --- Upload and start ------------------------------------------------------------------------------

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
    """The start of an upload's file, for its column step."""
    try:
        return inspect(record.stored_path, record.filename)
    except FileNotFoundError:
        raise ContactsError("The uploaded file is gone; upload it again.", code="not_found") from None


def start_import(session: Session, record: Import, columns: Columns, headers: Sequence[str]) -> Import:
    """Fix the columns and queue the import (once)."""
    columns = columns.checked(headers)
    if record.list_id is None:
        _check_new_list(session, record.options.get("new_list"))
    options = {**record.options, "columns": columns.as_options(), "headers": list(headers)}
    started = session.execute(update(Import).where(Import.id == record.id, Import.status == "uploaded")
                              .values(status="queued", options=options)).rowcount
    if not started:
        raise ContactsError("This import has already started.", code="conflict")
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
    """The whole import of a file on disk, run here and now (the CLI): the same steps as an upload's.

    Raises FileRejected when the file can't be imported at all, ContactsError for a bad choice.
    """
    country = check_country(country)
    list_name = services.clean_list_name(list_name)
    preview = inspect(path, path.name)
    if phone_column:
        guess = preview.guess._replace(phone=column_by_name(preview.headers, phone_column))
        preview = Preview(preview.headers, preview.rows, guess, preview.estimated_rows)
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


# --- The run ---------------------------------------------------------------------------------------

def run_import(session: Session, import_id: int, chunk_rows: int = CHUNK_ROWS) -> Import | None:
    """Run a queued import to the end (done or failed); None when it is not queued (a repeated job)."""
    now = utcnow()
    claimed = session.execute(
        update(Import).where(Import.id == import_id, Import.status == "queued")
        .values(status="running", started_at=now, processed_rows=0, added=0, updated=0, already_in_list=0,
                duplicates=0, invalid=0, error="", rows_read_at=None, finished_at=None)).rowcount
    session.commit()
    if not claimed:
        return None
    _clear(session, import_id, rejections=True)
    record = session.get(Import, import_id)
    try:
        _stage(session, record, chunk_rows)
        _merge(session, record)
    except (FileRejected, ContactsError) as error:
        session.rollback()
        fail(session, import_id, str(error))
    except Exception as error:
        session.rollback()
        log.exception("Import %s failed", import_id)
        fail(session, import_id, f"An unexpected error stopped the import ({type(error).__name__}); "
                                 "it was logged for your administrator.")
        raise
    finally:
        _clear(session, import_id)
    record = session.get(Import, import_id, populate_existing=True)
    if record.status == "done" and record.options.get("uploaded"):
        discard_upload(record.stored_path)  # customers' numbers are not kept on disk longer than needed
    return record


def fail(session: Session, import_id: int, message: str) -> bool:
    """Record why an unfinished import stopped; its staged rows and partial report go. False if it had finished."""
    failed = session.execute(
        update(Import).where(Import.id == import_id, Import.status.in_(("queued", "running")))
        .values(status="failed", error=message[:2000], finished_at=utcnow(), added=0, updated=0,
                already_in_list=0, duplicates=0, invalid=0)).rowcount
    if failed:
        _clear_rejections(session, import_id)
    session.commit()
    return bool(failed)


def _clear(session: Session, import_id: int, rejections: bool = False) -> None:
    """Drop an import's staged rows (and its rejections).

    Core DELETEs: the ORM's would fetch every deleted row back (RETURNING) to update its session. And on
    SQLite in batches: with foreign keys on, it gathers every row a DELETE removes in memory first.
    """
    staged = ImportRow.__table__
    mine = staged.c.import_id == import_id
    if not is_sqlite(session):
        session.execute(delete(staged).where(mine))
    while is_sqlite(session):
        batch = select(literal_column("rowid")).select_from(staged).where(mine).limit(CLEAR_BATCH)
        removed = session.execute(delete(staged).where(literal_column("rowid").in_(batch.scalar_subquery())))
        session.commit()
        if removed.rowcount < CLEAR_BATCH:
            break
    if rejections:
        _clear_rejections(session, import_id)
    session.commit()


def _clear_rejections(session: Session, import_id: int) -> None:
    table = ImportRejection.__table__
    session.execute(delete(table).where(table.c.import_id == import_id))


def _unquoted(value: str) -> str:
    """A cell without the ' that a safe CSV export put before a formula-like value, so exports import back."""
    return value[1:] if value[:1] == "'" and export.neutralise(value[1:]) == value else value


STAGED_COLUMNS = ("import_id", "phone", "line", "country", "name", "attributes")
REJECTION_COLUMNS = ("import_id", "line", "value", "reason")


class _ChunkReader:
    """Turns rows into staged numbers and rejections, as tuples in the order of the columns above."""

    def __init__(self, import_id: int, columns: Columns, headers: Sequence[str], country: str, delimiter: str):
        self.import_id = import_id
        self.phone = columns.phone
        self.name, self.last_name = columns.name, columns.last_name
        self.keys = [(index, headers[index]) for index in columns.attributes]
        self.country = country
        self.delimiter = delimiter

    def read(self, chunk: list) -> tuple[dict[str, tuple], dict[str, str], list[tuple], int]:
        """(staged rows by phone, their raw phone cells, rejections, invalid count) for one chunk.

        The hot loop of an import: a million rows pass through here, hence the plain tuples.
        """
        import_id, phone_index, country, keys = self.import_id, self.phone, self.country, self.keys
        staged: dict[str, tuple] = {}
        raw_phones: dict[str, str] = {}
        rejected: list[tuple] = []
        invalid = 0
        for line, values, problem in chunk:
            if problem is not None:
                rejected.append((import_id, line, self.delimiter.join(values)[:500], problem))
                invalid += 1
                continue
            raw = values[phone_index]
            try:
                number = normalise(_unquoted(raw), country)
            except InvalidPhone as error:
                rejected.append((import_id, line, raw[:500], error.reason))
                invalid += 1
                continue
            phone = number.e164
            first = staged.get(phone)
            if first is not None:
                rejected.append(self.duplicate(line, raw, first[2]))
                continue
            values = [_unquoted(value) if value[:1] == "'" else value for value in values]
            # A blank cell is not a value: it never erases what an earlier import stored.
            attributes = {key: values[index] for index, key in keys if values[index]}
            staged[phone] = (import_id, phone, line, number.region if len(number.region) == 2 else "",
                             self.name_of(values)[:200], json.dumps(attributes) if attributes else "{}")
            raw_phones[phone] = raw
        return staged, raw_phones, rejected, invalid

    def name_of(self, values: list[str]) -> str:
        if self.name is None:
            return ""
        if self.last_name is None:
            return values[self.name]
        return " ".join(part for part in (values[self.name], values[self.last_name]) if part)

    def duplicate(self, line: int, value: str, first_line: int) -> tuple:
        return (self.import_id, line, value[:500], f"the same number as row {first_line}")


def _one_of(session: Session, column, values: list[str]):
    """`column IN values` as one parameter: an IN (?, ?, …) of thousands would be a new statement, cached by
    the driver, for every chunk size — tens of MB of prepared statements over a large import."""
    if is_sqlite(session):
        return column.in_(select(func.json_each(bindparam("values", json.dumps(values))).table_valued("value").c.value))
    return column == func.any(bindparam("values", values, type_=ARRAY(String)))


def _insert_rows(session: Session, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """executemany straight to the driver: SQLAlchemy's per-row parameter handling costs a third of an import."""
    mark = "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"
    session.connection().exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})", rows)


def _stage(session: Session, record: Import, chunk_rows: int) -> None:
    """Read the file chunk by chunk into import_rows and import_rejections, committing progress each time."""
    import_id, options = record.id, record.options
    columns = Columns.from_options(options["columns"])
    read = invalid = duplicates = 0
    with open_table(record.stored_path, record.filename) as table:
        if table.headers != options["headers"]:
            raise FileRejected("The file changed after its columns were chosen; upload it again.")
        reader = _ChunkReader(import_id, columns, table.headers, options["country"], table.delimiter or ",")
        rows = table.rows()
        while chunk := list(islice(rows, chunk_rows)):
            staged, raw_phones, rejected, chunk_invalid = reader.read(chunk)
            begin_write(session)  # SQLite: hold the write lock from the read below to the commit
            # A number staged by an earlier chunk makes this row a duplicate of that one.
            if staged:
                earlier = session.execute(select(ImportRow.phone, ImportRow.line).where(
                    ImportRow.import_id == import_id, _one_of(session, ImportRow.phone, list(staged)))).all()
                for phone, first_line in earlier:
                    row = staged.pop(phone)
                    rejected.append(reader.duplicate(row[2], raw_phones[phone], first_line))
            if staged:
                _insert_rows(session, ImportRow.__tablename__, STAGED_COLUMNS, list(staged.values()))
            if rejected:
                rejected.sort(key=lambda rejection: rejection[1])  # by line, so ids follow the file's order
                _insert_rows(session, ImportRejection.__tablename__, REJECTION_COLUMNS, rejected)
            read += len(chunk)
            invalid += chunk_invalid
            duplicates += len(rejected) - chunk_invalid
            session.execute(update(Import).where(Import.id == import_id).values(
                processed_rows=read, total_rows=max(read, table.estimated_rows() or 0),
                invalid=invalid, duplicates=duplicates))
            session.commit()
    session.execute(update(Import).where(Import.id == import_id)
                    .values(processed_rows=read, total_rows=read, rows_read_at=utcnow()))
    session.commit()


def _merge(session: Session, record: Import) -> None:
    """Merge the staged numbers into contacts and the list, and record the counts: one transaction."""
    import_id = record.id
    begin_write(session)
    record = session.get(Import, import_id, populate_existing=True)
    if record.list_id is None and record.options.get("new_list"):
        # Created here, in the transaction that fills it: a failed import leaves no empty list behind.
        record.list_id = services.create_list(session, record.options["new_list"], record.created_by_id).id
    elif record.list_id is None:
        raise ContactsError("The list was deleted while the file was being read; nothing was imported.")
    staged, contacts, now = ImportRow.__table__, Contact.__table__, utcnow()
    mine = staged.c.import_id == import_id
    unique = session.scalar(select(func.count()).select_from(staged).where(mine))
    updated = 0
    if record.options.get("update_existing"):
        updated = session.execute(_update_existing(session, import_id, now)).rowcount
    stamp = literal(now, UTCDateTime())
    session.execute(
        upsert(session, contacts).from_select(
            ["phone", "country", "name", "attributes", "opt_out_reason", "created_at", "updated_at"],
            select(staged.c.phone, staged.c.country, staged.c.name, staged.c.attributes, literal_column("''"),
                   stamp, stamp).where(mine))
        .on_conflict_do_nothing(index_elements=["phone"]))
    added = session.execute(
        upsert(session, ListMember.__table__).from_select(
            ["list_id", "contact_id", "added_at"],
            select(literal(record.list_id), contacts.c.id, stamp)
            .select_from(staged.join(contacts, contacts.c.phone == staged.c.phone)).where(mine))
        .on_conflict_do_nothing(index_elements=["list_id", "contact_id"])
        .execution_options(preserve_rowcount=True)).rowcount  # an INSERT's rowcount is not kept otherwise
    session.execute(update(Import).where(Import.id == import_id).values(
        status="done", list_id=record.list_id, added=added, updated=updated, already_in_list=unique - added,
        finished_at=now))
    session.commit()


def _update_existing(session: Session, import_id: int, now: datetime):
    """UPDATE the contacts the file names again: a non-blank name replaces theirs, its attributes are merged in.

    Only contacts that actually change are written (and counted as updated).
    """
    staged, contacts = ImportRow.__table__, Contact.__table__
    if is_sqlite(session):
        current = func.coalesce(contacts.c.attributes, literal_column("'{}'"))
        merged = func.json_patch(current, staged.c.attributes)
        attributes_change = merged != func.json(current)
    else:  # json has no operators; jsonb merges with || and compares with @> (contains)
        current = func.coalesce(cast(contacts.c.attributes, JSONB), literal_column("'{}'::jsonb"))
        merged = cast(current.op("||")(cast(staged.c.attributes, JSONB)), JSON)
        attributes_change = ~current.op("@>", return_type=Boolean)(cast(staged.c.attributes, JSONB))
    name_change = and_(staged.c.name != "", staged.c.name != contacts.c.name)
    return (update(contacts)
            .where(contacts.c.phone == staged.c.phone, staged.c.import_id == import_id,
                   or_(name_change, attributes_change))
            .values(name=case((staged.c.name != "", staged.c.name), else_=contacts.c.name),
                    attributes=merged, updated_at=now))


# --- Progress and report ---------------------------------------------------------------------------

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
    now = now or utcnow()
    rate = left = None
    if record.started_at is not None and record.processed_rows:
        elapsed = ((record.rows_read_at or now) - record.started_at).total_seconds()
        if elapsed > 0:
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


def rejections(session: Session, import_id: int, limit: int | None = None) -> Iterator[ImportRejection]:
    """The rejected rows in file order, read in keyset batches (a file may reject a million rows)."""
    after, given = 0, 0
    while limit is None or given < limit:
        batch = session.scalars(select(ImportRejection).where(ImportRejection.import_id == import_id,
                                                              ImportRejection.id > after)
                                .order_by(ImportRejection.id).limit(REPORT_BATCH)).all()
        if not batch:
            return
        for rejection in batch[: None if limit is None else limit - given]:
            given += 1
            yield rejection
        after = batch[-1].id


def rejections_csv(session: Session, import_id: int) -> Iterator[str]:
    """The rejected rows as CSV (line, value, reason), streamed, every cell safe to open in a spreadsheet."""
    rows = ([str(rejection.line), rejection.value, rejection.reason] for rejection in rejections(session, import_id))
    return export.csv_stream(["line", "value", "reason"], rows)
