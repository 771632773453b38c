"""The import run: read the file in chunks, stage valid first-seen numbers, then merge them in short pieces.

Each chunk's rows go to `import_rows` (numbers) and `import_rejections` (rows not taken), and its
progress is committed; only when the whole file has been read does the merge into contacts and the list
begin (creating a new list in its first piece). So a file that is refused, or a run that fails while
reading, changes no list. The merge commits MERGE_ROWS staged numbers at a time, each piece deleting the
staged rows it merged, so that no other writer (a campaign's dispatcher on SQLite) waits long for the lock;
once its first piece is committed (`merge_started_at`) the import is finished, not failed: a run whose
worker died is queued again and resumes with the staged rows left.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from itertools import islice
from pathlib import Path

from sqlalchemy import (
    ARRAY, JSON, Boolean, String, and_, bindparam, case, cast, delete, func, literal, literal_column, or_, select,
    true, update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from webapp.contacts import fields, services, tags
from webapp.contacts.columns import Columns
from webapp.contacts.errors import ContactsError
from webapp.contacts.models import (Contact, ContactTag, ContactValue, Import, ImportRejection, ImportRow, ImportValue,
                                    ListMember)
from webapp.contacts.phones import InvalidPhone, normalise
from webapp.contacts.tabular import MAX_COLUMNS, FileRejected, open_table
from webapp.spreadsheet import unquoted
from webapp.timestamps import UTCDateTime, utcnow
from webapp.transactions import begin_write, is_sqlite, upsert

log = logging.getLogger(__name__)

OUT_OF_MEMORY = ("Reading this file took more memory than an import may use, so it stopped; nothing was added to "
                 "the list. Split the file into smaller ones and import them one by one.")
CHUNK_ROWS = 2000  # rows read, staged and committed at a time: bounded memory, progress every chunk
MERGE_ROWS = 500  # staged numbers merged per transaction: tens of ms of SQLite's write lock (bench/import_csv.py)
# PostgreSQL locks rows, not the database: pieces ten times larger plan and send a tenth of the statements.
MERGE_ROWS_POSTGRESQL = 5000
STAGED_COLUMNS = ("import_id", "phone", "line", "country", "name", "attributes", "tags")
VALUE_COLUMNS = ("import_id", "phone", "key", *fields.VALUE_COLUMNS)
REJECTION_COLUMNS = ("import_id", "line", "value", "reason", "cells")
_KNOWN_VALUES = 10_000  # distinct values whose readings a typed column keeps, at most: memory stays flat
_json_text = json.encoder.encode_basestring_ascii  # a str as json.dumps() writes it, quotes included


def run_import(session: Session, import_id: int, chunk_rows: int = CHUNK_ROWS,
               merge_rows: int | None = None) -> Import | None:
    """Run a queued import to the end (done or failed), or resume its merge; None when it is not queued
    (a repeated job). `merge_rows` defaults to the database's piece size."""
    merge_rows = merge_rows or (MERGE_ROWS if is_sqlite(session) else MERGE_ROWS_POSTGRESQL)
    now = utcnow()
    resuming = session.scalar(select(Import.merge_started_at).where(Import.id == import_id)) is not None
    fresh = {} if resuming else dict(started_at=now, processed_rows=0, added=0, updated=0, already_in_list=0,
                                     duplicates=0, invalid=0, error="", rows_read_at=None, finished_at=None)
    claimed = session.execute(
        update(Import).where(Import.id == import_id, Import.status == "queued").values(status="running", **fresh)
    ).rowcount
    session.commit()
    if not claimed:
        return None
    if not resuming:
        _clear(session, import_id, rejections=True)
    record = session.get(Import, import_id)
    try:
        if not resuming:
            _stage(session, record, chunk_rows)
        _merge(session, record, merge_rows)
    except (FileRejected, ContactsError) as error:
        session.rollback()
        fail(session, import_id, str(error))
    except MemoryError:  # the job's cap on memory (jobs/imports.py): what was taken is given back by now
        session.rollback()
        log.warning("Import %s ran out of the memory an import may use", import_id)
        fail(session, import_id, OUT_OF_MEMORY)
    except Exception as error:
        session.rollback()
        log.exception("Import %s failed", import_id)
        fail(session, import_id, f"An unexpected error stopped the import ({type(error).__name__}); "
                                 "it was logged for your administrator.")
        raise
    finally:
        if not merging(session, import_id):
            _clear(session, import_id)
    record = session.get(Import, import_id, populate_existing=True)
    if record.status == "done" and record.options.get("uploaded"):
        Path(record.stored_path).unlink(missing_ok=True)  # customers' numbers stay on disk no longer than needed
    return record


def merging(session: Session, import_id: int) -> bool:
    """Whether the import's merge began and has not ended: it is to be resumed, never failed."""
    return session.scalar(select(func.count()).where(Import.id == import_id, Import.status == "running",
                                                     Import.merge_started_at.is_not(None))) == 1


def resume(session: Session, import_id: int) -> bool:
    """Queue again an import whose worker died during its merge (its job is the caller's to enqueue)."""
    queued = session.execute(update(Import).where(Import.id == import_id, Import.status == "running",
                                                  Import.merge_started_at.is_not(None))
                             .values(status="queued")).rowcount
    session.commit()
    return bool(queued)


def fail(session: Session, import_id: int, message: str) -> bool:
    """Record why an unfinished import stopped before its merge began (or its list was deleted during it); its
    staged rows and partial report go. False if it had finished or is merging."""
    failed = session.execute(
        update(Import).where(Import.id == import_id, Import.status.in_(("queued", "running")),
                             or_(Import.merge_started_at.is_(None), Import.list_id.is_(None)))
        .values(status="failed", error=message[:2000], finished_at=utcnow(), added=0, updated=0,
                already_in_list=0, duplicates=0, invalid=0)).rowcount
    if failed:  # in the same transaction: an import seen as failed has nothing staged left
        _drop_staged(session, import_id)
        _clear_rejections(session, import_id)
    session.commit()
    return bool(failed)


def _clear(session: Session, import_id: int, rejections: bool = False) -> None:
    """Drop an import's staged rows (and its rejections), by Core DELETEs: the ORM's would fetch every deleted
    row back (RETURNING) to update its session."""
    _drop_staged(session, import_id)
    if rejections:
        _clear_rejections(session, import_id)
    session.commit()


def _drop_staged(session: Session, import_id: int) -> None:
    for staged in (ImportRow.__table__, ImportValue.__table__):
        session.execute(delete(staged).where(staged.c.import_id == import_id))


def _clear_rejections(session: Session, import_id: int) -> None:
    table = ImportRejection.__table__
    session.execute(delete(table).where(table.c.import_id == import_id))


class _ChunkReader:
    """Turns rows into staged numbers and rejections, as tuples in the order of STAGED_COLUMNS and
    REJECTION_COLUMNS."""

    def __init__(self, import_id: int, columns: Columns, headers: Sequence[str], country: str, delimiter: str):
        self.import_id = import_id
        self.phone = columns.phone
        self.name, self.last_name = columns.name, columns.last_name
        self.keys = [(index, headers[index]) for index in columns.attributes]
        self.json_keys = [(index, _json_text(name)) for index, name in self.keys]  # as json.dumps() writes them
        # Each attribute's key for filters (the first column of a name, whatever its case) and its type, read as we go.
        self.folded: dict[int, str] = {}
        for index, name in self.keys:
            if (folded := fields.key(name)) and folded not in self.folded.values():
                self.folded[index] = folded
        self.types = {index: fields.TypeGuess() for index in self.folded}
        # Per typed column: its key, the readings of the values already read (a file repeats its cities and
        # tiers), and its type guess's `see`.
        self.folded_read = [(index, key, {}, self.types[index].see) for index, key in self.folded.items()]
        self.month_first = country in fields.MONTH_FIRST
        self.tags, self.file_tags = columns.tags, list(columns.file_tags)
        self.file_tags_text = ",".join(self.file_tags)
        self.country = country
        self.delimiter = delimiter

    def read(self, chunk: list) -> tuple[dict[str, tuple], dict[str, list[str]], list[tuple], int]:
        """(staged rows by phone, their rows as read, rejections, invalid count) for one chunk; the staged rows'
        typed values are in `self.typed`, by phone, as tuples in the order of VALUE_COLUMNS.

        The hot loop of an import: a million rows pass through here, hence the plain tuples.
        """
        import_id, phone_index, country, keys = self.import_id, self.phone, self.country, self.json_keys
        folded, month_first, readings, name_of = self.folded_read, self.month_first, fields.readings, self.name_of
        self.typed = typed = {}
        staged: dict[str, tuple] = {}
        read_rows: dict[str, list[str]] = {}
        rejected: list[tuple] = []
        invalid = 0
        for line, values, problem in chunk:
            if problem is not None:
                rejected.append((import_id, line, self.delimiter.join(values)[:500], problem, _cells(values)))
                invalid += 1
                continue
            raw = values[phone_index]
            try:
                number = normalise(unquoted(raw) if raw[:1] == "'" else raw, country)
            except InvalidPhone as error:
                rejected.append((import_id, line, raw[:500], error.reason, _cells(values)))
                invalid += 1
                continue
            phone = number.e164
            first = staged.get(phone)
            if first is not None:
                rejected.append(self.duplicate(line, values, first[2]))
                continue
            try:
                tagged = self.tags_of(values)
            except ContactsError as error:
                rejected.append((import_id, line, values[self.tags][:500], error.message, _cells(values)))
                invalid += 1
                continue
            read_rows[phone] = values
            values = [unquoted(value) if value[:1] == "'" else value for value in values]
            # A blank cell is not a value: it never erases what an earlier import stored. JSON as json.dumps()
            # writes an object of strings, for a fraction of its cost.
            attributes = ", ".join([f"{key}: {_json_text(values[index])}" for index, key in keys if values[index]])
            typed[phone] = rows = []
            for index, key, known, see in folded:
                if (value := values[index]).strip():
                    if (read := known.get(value)) is None:
                        read = readings(value, month_first)
                        see(read)  # the same value reads the same: its column's guess needs it once
                        if len(known) < _KNOWN_VALUES:
                            known[value] = read
                    rows.append((import_id, phone, key, *read))
            staged[phone] = (import_id, phone, line, number.region if len(number.region) == 2 else "",
                             name_of(values)[:200], "{" + attributes + "}", tagged)
        return staged, read_rows, rejected, invalid

    def tags_of(self, values: list[str]) -> str:
        """The row's tags (its tags cell's and the file's), checked, joined by commas as staged."""
        if self.tags is None or not values[self.tags].strip():
            return self.file_tags_text
        return ",".join(tags.names(tags.from_file(values[self.tags]) + self.file_tags))

    def name_of(self, values: list[str]) -> str:
        if self.name is None:
            return ""
        if self.last_name is None:
            return values[self.name]
        return " ".join(part for part in (values[self.name], values[self.last_name]) if part)

    def duplicate(self, line: int, values: list[str], first_line: int) -> tuple:
        return (self.import_id, line, values[self.phone][:500], f"the same number as row {first_line}",
                _cells(values))


def _cells(values: list[str]) -> str:
    """A rejected row's cells as stored (JSON): at most the import's column cap of them."""
    return json.dumps(values[:MAX_COLUMNS])


def _one_of(session: Session, column, values: list[str]):
    """`column IN values` as one parameter: an IN (?, ?, …) of thousands would be a new statement, cached by
    the driver, for every chunk size — tens of MB of prepared statements over a large import."""
    if is_sqlite(session):
        listed = func.json_each(bindparam("values", json.dumps(values))).table_valued("value")
        return column.in_(select(listed.c.value))
    return column == func.any(bindparam("values", values, type_=ARRAY(String)))


def _insert_rows(session: Session, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """Rows straight to the driver, in the session's transaction: SQLAlchemy's per-row parameter handling
    would cost a third of an import. PostgreSQL takes them by COPY, SQLite by executemany."""
    names = ", ".join(columns)
    if is_sqlite(session):
        session.connection().exec_driver_sql(
            f"INSERT INTO {table} ({names}) VALUES ({', '.join(['?'] * len(columns))})", rows)
        return
    with session.connection().connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


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
            staged, read_rows, rejected, chunk_invalid = reader.read(chunk)
            begin_write(session)  # SQLite: hold the write lock from the read below to the commit
            # A number staged by an earlier chunk makes this row a duplicate of that one.
            if staged:
                earlier = session.execute(select(ImportRow.phone, ImportRow.line).where(
                    ImportRow.import_id == import_id, _one_of(session, ImportRow.phone, list(staged)))).all()
                for phone, first_line in earlier:
                    row = staged.pop(phone)
                    rejected.append(reader.duplicate(row[2], read_rows[phone], first_line))
            if staged:
                _insert_rows(session, ImportRow.__tablename__, STAGED_COLUMNS, list(staged.values()))
                typed = [row for phone in staged for row in reader.typed[phone]]
                if typed:
                    _insert_rows(session, ImportValue.__tablename__, VALUE_COLUMNS, typed)
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
    fields.remember(session, {table.headers[index]: guess.type for index, guess in reader.types.items()})
    session.execute(update(Import).where(Import.id == import_id)
                    .values(processed_rows=read, total_rows=read, rows_read_at=utcnow()))
    session.commit()


def _merge(session: Session, record: Import, merge_rows: int) -> None:
    """Merge the staged numbers into contacts and the list, `merge_rows` at a time, adding up the counts."""
    import_id, after = record.id, ""
    while (after := _merge_piece(session, import_id, merge_rows, after)) is not None:
        pass
    session.execute(update(Import).where(Import.id == import_id).values(status="done", finished_at=utcnow()))
    session.commit()


def _merge_piece(session: Session, import_id: int, merge_rows: int, after: str) -> str | None:
    """Merge the first `merge_rows` staged numbers (by phone) and delete them, in one transaction; the last
    number merged, or None when none were left.

    `after` is the last number of the piece before: every staged number up to it is merged and deleted, so the
    piece looks past it (on PostgreSQL the deleted rows stay in the index until a vacuum: without the bound each
    piece would scan again every one merged before it). "" at first, and when a merge resumes."""
    begin_write(session)
    record = session.get(Import, import_id, populate_existing=True)
    if record.list_id is None and record.options.get("new_list") and record.merge_started_at is None:
        # Created in the transaction of the first piece: an import refused before it leaves no empty list behind.
        record.list_id = services.create_list(session, record.options["new_list"], record.created_by_id).id
    elif record.list_id is None:
        raise ContactsError("The list was deleted during the import; the contacts already merged were kept."
                            if record.merge_started_at else
                            "The list was deleted while the file was being read; nothing was imported.")
    staged, contacts, now = ImportRow.__table__, Contact.__table__, utcnow()
    last = session.scalar(select(staged.c.phone).where(staged.c.import_id == import_id, staged.c.phone > after)
                          .order_by(staged.c.phone).offset(merge_rows - 1).limit(1))
    typed = ImportValue.__table__
    mine, typed_mine = ((and_(table.c.import_id == import_id, table.c.phone > after, table.c.phone <= last) if last
                         else and_(table.c.import_id == import_id, table.c.phone > after)) for table in (staged, typed))
    unique = session.scalar(select(func.count()).select_from(staged).where(mine))
    if not unique:
        session.commit()
        return None
    updated = 0
    if record.options.get("update_existing"):
        updated = session.execute(_update_existing(session, mine, now)).rowcount
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
    _write_values(session, typed_mine, now, record.options.get("update_existing"))
    _tag(session, mine, now)
    session.execute(delete(staged).where(mine))
    session.execute(delete(typed).where(typed_mine))
    session.execute(update(Import).where(Import.id == import_id).values(
        list_id=record.list_id, added=Import.added + added, updated=Import.updated + updated,
        already_in_list=Import.already_in_list + unique - added, merge_started_at=record.merge_started_at or now))
    session.commit()
    return last or after


def _write_values(session: Session, mine, now: datetime, update_existing: bool) -> None:
    """The piece's attribute values as filters read them (contacts/fields.py), typed while the file was read: for
    the contacts it added and, when the import updates existing contacts, for those too (the values the merge just
    wrote into their attributes)."""
    typed, contacts, values = ImportValue.__table__, Contact.__table__, ContactValue.__table__
    changed = true() if update_existing else contacts.c.created_at == literal(now, UTCDateTime())
    statement = upsert(session, values).from_select(
        ["contact_id", "key", *fields.VALUE_COLUMNS],
        select(contacts.c.id, typed.c.key, *(typed.c[column] for column in fields.VALUE_COLUMNS))
        .select_from(typed.join(contacts, contacts.c.phone == typed.c.phone)).where(mine, changed))
    session.execute(statement.on_conflict_do_update(
        index_elements=["contact_id", "key"],
        set_={column: statement.excluded[column] for column in fields.VALUE_COLUMNS}))


def _tag(session: Session, mine, now: datetime) -> None:
    """Tag the piece's contacts (new and existing alike, as they join the list) with their staged tags: one
    INSERT … SELECT per tag spelling the piece has, matching it in the staged rows' comma-joined tags."""
    staged, contacts = ImportRow.__table__, Contact.__table__
    # In the file's order, so that a new tag keeps the spelling of its first row.
    spellings = dict.fromkeys(name for (text,) in session.execute(
        select(staged.c.tags).where(mine, staged.c.tags != "").order_by(staged.c.line)) for name in text.split(","))
    if not spellings:
        return
    first = {}
    for name in spellings:
        first.setdefault(name.casefold(), name)
    ensured = {tag.key: tag.id for tag in tags.ensure(session, first.values())}
    listed = literal(",") + staged.c.tags + literal(",")
    for name in spellings:
        pattern = "%," + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ",%"
        session.execute(upsert(session, ContactTag.__table__).from_select(
            ["contact_id", "tag_id", "added_at"],
            select(contacts.c.id, literal(ensured[name.casefold()]), literal(now, UTCDateTime()))
            .select_from(staged.join(contacts, contacts.c.phone == staged.c.phone))
            .where(mine, listed.like(pattern, escape="\\")))
            .on_conflict_do_nothing(index_elements=["contact_id", "tag_id"]))


def _update_existing(session: Session, mine, now: datetime):
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
            .where(contacts.c.phone == staged.c.phone, mine, or_(name_change, attributes_change))
            .values(name=case((staged.c.name != "", staged.c.name), else_=contacts.c.name),
                    attributes=merged, updated_at=now))
