"""The column step of an import: a file's first rows, a guess at which column is which, and the choice."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from webapp.contacts import tags
from webapp.contacts.errors import ContactsError
from webapp.contacts.export import ours
from webapp.contacts.tabular import ColumnGuess, guess_columns, open_table
from webapp.spreadsheet import unquoted

PREVIEW_ROWS = 8  # rows the column step shows
SAMPLE_ROWS = 50  # rows read to guess the phone column when no header names it, and which columns are blank
TAG_HEADERS = ("tags", "tag", "labels", "groups", "group membership")  # Google Contacts: Labels, Group Membership


@dataclass(frozen=True)
class Columns:
    """Which columns of the file hold what, as indexes into its headers."""

    phone: int
    name: int | None = None
    last_name: int | None = None  # joined to `name` when the file splits first and last names
    attributes: tuple[int, ...] = ()  # kept on the contact under their header
    tags: int | None = None  # a column of tags ("vip, lyon"; commas or semicolons), each row's tags
    file_tags: tuple[str, ...] = ()  # tags for every contact of the file (not a column)

    def as_options(self) -> dict:
        return {"phone": self.phone, "name": self.name, "last_name": self.last_name,
                "attributes": list(self.attributes), "tags": self.tags, "file_tags": list(self.file_tags)}

    @classmethod
    def from_options(cls, data: dict) -> Columns:
        return cls(data["phone"], data.get("name"), data.get("last_name"), tuple(data.get("attributes") or ()),
                   data.get("tags"), tuple(data.get("file_tags") or ()))

    def checked(self, headers: Sequence[str]) -> Columns:
        """These columns, if they make sense for `headers`; attributes never repeat the phone, name or tags."""
        width = len(headers)
        if not 0 <= self.phone < width:
            raise ContactsError("Choose the column that holds the phone numbers.", field="phone")
        for field, index in (("name", self.name), ("last_name", self.last_name), ("tags", self.tags)):
            if index is not None and not 0 <= index < width:
                raise ContactsError("Choose one of the file's columns.", field=field)
            if index is not None and index == self.phone:
                raise ContactsError(f"The phone column can't also be the {field.replace('_', ' ')}.", field=field)
        if self.tags is not None and self.tags in (self.name, self.last_name):
            raise ContactsError("The name column can't also be the tags.", field="tags")
        try:
            file_tags = tuple(tags.names(self.file_tags))
        except ContactsError as error:
            raise ContactsError(error.message, field="file_tags") from None
        taken = {self.phone, self.name, self.last_name, self.tags}
        attributes = tuple(sorted({i for i in self.attributes if 0 <= i < width and i not in taken}))
        last_name = self.last_name if self.name is not None and self.last_name != self.name else None
        return Columns(self.phone, self.name, last_name, attributes, self.tags, file_tags)


@dataclass(frozen=True)
class Preview:
    """The start of a file: its headers, its first rows, and a guess at which column is which."""

    headers: list[str]
    rows: list[list[str]]
    guess: ColumnGuess
    estimated_rows: int | None
    blank: frozenset[int] = frozenset()  # columns with nothing in any row read (a contacts app's unused fields)

    def default_columns(self) -> Columns | None:
        """The guessed columns, every other one as an attribute (but those our own exports and rejected rows add,
        and those blank in every row read); None when no column looks like phones."""
        if self.guess.phone is None:
            return None
        attributes = tuple(index for index in range(len(self.headers))
                           if index not in ours(self.headers) and index not in self.blank)
        tagged = next((index for index, header in enumerate(self.headers)
                       if header.strip().casefold() in TAG_HEADERS), None)
        return Columns(self.guess.phone, self.guess.name, self.guess.last_name, attributes,
                       tagged if tagged not in (self.guess.phone, self.guess.name, self.guess.last_name) else None
                       ).checked(self.headers)


def inspect(path: str | Path, filename: str) -> Preview:
    """Open the file and read its start (no further); raises FileRejected when it can't be imported at all."""
    with open_table(path, filename, preview=True) as table:
        sample = []
        for row in table.rows():
            if row.problem is None:
                sample.append([unquoted(value) for value in row.values])
            if len(sample) == SAMPLE_ROWS:
                break
        headers = table.headers
        estimate = table.estimated_rows()
    blank = frozenset(index for index in range(len(headers)) if not any(
        index < len(row) and row[index].strip() for row in sample)) if sample else frozenset()
    return Preview(headers, sample[:PREVIEW_ROWS], guess_columns(headers, sample), estimate, blank)


def column_by_name(headers: Sequence[str], wanted: str) -> int:
    """A column named like `wanted` (any case), or numbered so (1 is the first); for the CLI."""
    for index, header in enumerate(headers):
        if header.casefold() == wanted.strip().casefold():
            return index
    if wanted.strip().isdigit() and 1 <= int(wanted) <= len(headers):
        return int(wanted) - 1
    raise ContactsError(f"The file has no column “{wanted}”. Its columns: {', '.join(headers)}.", field="phone")


