"""Read the first sheet of an .xlsx upload within hard limits, in bounded memory and time.

An .xlsx is a zip of XML parts, and a small one can unpack to gigabytes. So the archive is checked before
anything is decompressed (each part's declared size, and how far it is packed), the XML is parsed as a
stream with no DTDs, the sheet one row at a time (formatting-only cells and rows cost nothing, no cell may
hold more than Excel allows), and the shared strings only as far as the cells read so far need them, kept
as UTF-8 in one buffer. A reader of our own, because openpyxl keeps every row's formatting and every shared
string as a Python object, and python-calamine loads a whole sheet, as wide and tall as it claims to be.
"""
from __future__ import annotations

import datetime
import posixpath
import re
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from typing import BinaryIO
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601

from webapp.contacts.errors import FileRejected

NOT_A_WORKBOOK = (
    "This .xlsx file is not a valid Excel workbook (it may be damaged, or another kind of file "
    "renamed to .xlsx). Open it in your spreadsheet program and save it again as .xlsx or CSV."
)
MB = 1024 * 1024
MAX_SHEET_BYTES = 1024 * MB  # a worksheet's XML, streamed: 1,000,000 customers with a few columns take ~250 MB
MAX_PART_BYTES = 64 * MB  # any other part (shared strings, styles, the workbook), which is read whole
MAX_PACKING = 100  # declared size / packed size: spreadsheet programs' XML packs 5 to 30 to 1
PACKING_CHECKED_FROM = MB  # small parts may pack further without harm
MAX_ROWS, MAX_SHEET_COLUMNS = 1_048_576, 16_384  # Excel's own limits
MAX_CELL_CHARACTERS = 32_767  # likewise
PACKED_TOO_FAR = (
    "This .xlsx file unpacks to {ratio:,} times its size, which no spreadsheet program writes, so it was not "
    "opened. Open it in your spreadsheet program and save it again as .xlsx, or export it as CSV."
)
PART_TOO_BIG = (
    "This .xlsx file unpacks to more than an import reads ({size:,} MB in one part; at most {limit:,} MB). "
    "Split the list into smaller files, or export it as CSV."
)
TOO_MANY_ROWS = f"The first sheet has more than {MAX_ROWS:,} rows, more than a spreadsheet holds."
CELL_TOO_LONG = (
    f"The workbook has a cell longer than {MAX_CELL_CHARACTERS:,} characters, more than a spreadsheet "
    "cell holds. Open it in your spreadsheet program and save it again as .xlsx, or export it as CSV."
)
_CHUNK = 64 * 1024
_DIMENSION = re.compile(r"\$?[A-Z]{1,3}\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")
_WORKBOOK_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, expat.ExpatError, ValueError, KeyError,
                    IndexError, OverflowError)


def open_workbook(file: BinaryIO, not_a_workbook: str = NOT_A_WORKBOOK) -> Workbook:
    """The workbook in `file`, once its archive passed the checks; raises FileRejected."""
    try:
        archive = zipfile.ZipFile(file)
        check_archive(archive)
        return Workbook(archive)
    except _WORKBOOK_ERRORS:
        raise FileRejected(not_a_workbook) from None


def check_archive(archive: zipfile.ZipFile) -> None:
    """Refuse a zip whose XML parts declare more than we read, or are packed further than any spreadsheet's.

    A part can't unpack to more than it declares: zipfile stops there (and the checksum then fails). Other
    parts (pictures…) are never unpacked.
    """
    for part in archive.infolist():
        if not part.filename.endswith((".xml", ".rels")):
            continue
        limit = MAX_SHEET_BYTES if part.filename.startswith("xl/worksheets/") else MAX_PART_BYTES
        if part.file_size > limit:
            raise FileRejected(PART_TOO_BIG.format(size=part.file_size // MB, limit=limit // MB))
        if part.file_size > PACKING_CHECKED_FROM and part.file_size > MAX_PACKING * max(part.compress_size, 1):
            raise FileRejected(PACKED_TOO_FAR.format(ratio=part.file_size // max(part.compress_size, 1)))


class PreviewLimit(Exception):
    """The start of the file that the column step reads was used up (message: how much that is)."""


class Workbook:
    """An open .xlsx: the first sheet's `sheet_name` and `declared_rows`, then its `records()`."""

    def __init__(self, archive: zipfile.ZipFile):
        self._archive = archive
        book = _resolve("", _relations(archive, "_rels/.rels").get("officeDocument", "xl/workbook.xml"))
        parts = {key: _resolve(posixpath.dirname(book), target)
                 for key, target in _relations(archive, _relations_of(book)).items()}
        relation, self.sheet_name, self._epoch = _first_sheet(archive, book)
        self._sheet = parts[relation]
        self._date_styles = _date_styles(archive, parts["styles"]) if "styles" in parts else {}
        self._strings = parts.get("sharedStrings")
        self.declared_rows = _declared_rows(archive, self._sheet)

    def records(self, preview_bytes: int | None = None) -> Iterator[tuple[int, list[str]]]:
        """(row number, cell texts) for each row with a value, up to its last filled cell.

        With `preview_bytes`, raises PreviewLimit once that much of the sheet's XML has been read.
        """
        sheet = _SheetRows(_SharedStrings(self._archive, self._strings), self._date_styles, self._epoch)
        try:
            for parsed in _parse(self._archive, self._sheet, sheet):
                yield from sheet.pending()
                if preview_bytes is not None and parsed > preview_bytes:
                    raise PreviewLimit(f"{preview_bytes // MB} MB of the sheet")
        except _WORKBOOK_ERRORS:
            raise FileRejected(NOT_A_WORKBOOK) from None


class _Handler:
    """What _parse feeds: start, end and text of the elements (local names); `done` stops the reading.

    Text is collected only inside the elements a handler opens with `collect()`, and never beyond what a
    cell may hold.
    """

    done = False
    texts: list[str] | None = None
    length = 0

    def start(self, name: str, attributes: dict[str, str]) -> None:
        pass

    def end(self, name: str) -> None:
        pass

    def collect(self) -> None:
        self.texts, self.length = [], 0

    def text(self, text: str) -> None:
        if self.texts is not None:
            self.length += len(text)
            if self.length > MAX_CELL_CHARACTERS:
                raise FileRejected(CELL_TOO_LONG)
            self.texts.append(text)

    def collected(self) -> str:
        text, self.texts = "".join(self.texts or ()), None
        return text


def _parse(archive: zipfile.ZipFile, path: str, handler: _Handler) -> Iterator[int]:
    """Feed the part at `path` to expat in chunks, yielding the bytes parsed so far after each, until the part
    ends or the handler is done. No DTD is read: no entity expands (the billion laughs), none is fetched."""
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def refuse(*_) -> None:
        raise ValueError("a DTD or an entity declaration")

    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = refuse
    parser.StartElementHandler = lambda name, attributes: handler.start(_local(name), attributes)
    parser.EndElementHandler = lambda name: handler.end(_local(name))
    parser.CharacterDataHandler = handler.text
    parsed = 0
    with archive.open(path) as part:
        while not handler.done and (chunk := part.read(_CHUNK)):
            parser.Parse(chunk, False)
            parsed += len(chunk)
            yield parsed
        if not handler.done:
            parser.Parse(b"", True)
            yield parsed


def _local(name: str) -> str:
    return name.rpartition(":")[2] if ":" in name else name


class _SheetRows(_Handler):
    """A worksheet's XML as rows of text."""

    def __init__(self, strings: _SharedStrings, date_styles: dict[int, bool], epoch: datetime.datetime):
        self.strings, self.date_styles, self.epoch = strings, date_styles, epoch
        self.row = self.column = 0
        self.values: list[str] = []
        self.cell: tuple[str, int | None] | None = None  # (type, style) of the open cell
        self.value = ""
        self.inline: list[str] = []
        self.phonetic = False  # inside a phonetic reading, which is not the cell's text
        self.rows: list[tuple[int, list[str]]] = []

    def pending(self) -> list[tuple[int, list[str]]]:
        rows, self.rows = self.rows, []
        return rows

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name == "c":
            reference = attributes.get("r")
            self.column = column_index_from_string(reference.rstrip("0123456789")) if reference else self.column + 1
            style = attributes.get("s")
            self.cell = (attributes.get("t", "n"), int(style) if style else None)
            self.value, self.inline = "", []
        elif name == "row":
            number = attributes.get("r")
            self.row = int(number) if number else self.row + 1
            if self.row > MAX_ROWS:
                raise FileRejected(TOO_MANY_ROWS)
            self.column, self.values = 0, []
        elif name in ("v", "t") and self.cell is not None and not self.phonetic:
            self.collect()
        elif name == "rPh":
            self.phonetic = True

    def end(self, name: str) -> None:
        if name == "v" and self.texts is not None:
            self.value = self.collected()
        elif name == "t" and self.texts is not None:
            self.inline.append(self.collected())
        elif name == "rPh":
            self.phonetic = False
        elif name == "c" and self.cell is not None:
            text = self.cell_text(*self.cell)
            if text:
                if not 0 < self.column <= MAX_SHEET_COLUMNS:
                    raise ValueError(f"a cell in column {self.column}")
                if self.column > len(self.values):
                    self.values.extend([""] * (self.column - len(self.values)))
                self.values[self.column - 1] = text
            self.cell = None
        elif name == "row" and self.values:
            self.rows.append((self.row, self.values))
        elif name == "sheetData":
            self.done = True  # what follows (merged cells, formatting rules…) is not read

    def cell_text(self, kind: str, style: int | None) -> str:
        """A cell as the text a person typed, not as the float Excel stored."""
        if kind == "inlineStr":
            return "".join(self.inline)
        value = self.value
        if not value:
            return ""  # formatting only, or a formula never calculated
        if kind == "s":
            return self.strings[int(value)]
        if kind in ("str", "e"):
            return value
        if kind == "b":
            return "TRUE" if value.strip() in ("1", "true") else "FALSE"
        if kind == "d":
            return _moment_text(from_ISO8601(value))
        if value.lstrip("-").isdigit() and style not in self.date_styles:
            return str(int(value))  # exact, however many digits
        number = float(value)
        if style in self.date_styles:
            try:
                return _moment_text(from_excel(number, self.epoch, timedelta=self.date_styles[style]))
            except (OverflowError, ValueError):
                pass  # not a date after all: the number, as Excel shows it in a General cell
        if number.is_integer() and abs(number) < 1e16:
            return str(int(number))  # 9.19988066776E+11 is the phone number 919988066776
        return format(number, ".15g")  # Excel keeps 15 significant digits


def _moment_text(value) -> str:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


class _SharedStrings(_Handler):
    """The workbook's table of strings, read only as far as the cells ask, and kept as UTF-8 in one buffer
    (a Python string per entry would take several times the part's size)."""

    def __init__(self, archive: zipfile.ZipFile, path: str | None):
        self.buffer = bytearray()
        self.ends = array("Q")
        self.parts: list[str] | None = None  # the open <si>'s pieces of text
        self.phonetic = False
        self.reading = _parse(archive, path, self) if path else iter(())

    def __getitem__(self, index: int) -> str:
        while index >= len(self.ends) and next(self.reading, None) is not None:
            pass
        if not 0 <= index < len(self.ends):
            raise IndexError(index)
        return self.buffer[self.ends[index - 1] if index else 0:self.ends[index]].decode()

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name == "si":
            self.parts = []
        elif name == "t" and self.parts is not None and not self.phonetic:
            self.collect()
        elif name == "rPh":
            self.phonetic = True

    def end(self, name: str) -> None:
        if name == "t" and self.texts is not None:
            self.parts.append(self.collected())
        elif name == "rPh":
            self.phonetic = False
        elif name == "si" and self.parts is not None:
            text = "".join(self.parts)
            if len(text) > MAX_CELL_CHARACTERS:
                raise FileRejected(CELL_TOO_LONG)
            self.buffer += text.encode()
            self.ends.append(len(self.buffer))
            self.parts = None


class _Starts(_Handler):
    """A handler of start tags only, for the small parts."""

    def __init__(self, start: Callable[[str, dict[str, str]], None]):
        self.start = start


def _read(archive: zipfile.ZipFile, path: str, handler: _Handler) -> None:
    for _ in _parse(archive, path, handler):
        pass


def _relations(archive: zipfile.ZipFile, path: str) -> dict[str, str]:
    """A .rels part's targets by id, and by kind ("styles"…, the first of each); {} when there is none."""
    found: dict[str, str] = {}

    def start(name: str, attributes: dict[str, str]) -> None:
        if name == "Relationship":
            found[attributes["Id"]] = attributes["Target"]
            found.setdefault(attributes.get("Type", "").rpartition("/")[2], attributes["Target"])

    if path in archive.NameToInfo:
        _read(archive, path, _Starts(start))
    return found


def _relations_of(path: str) -> str:
    folder, name = posixpath.split(path)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _resolve(folder: str, target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))


def _first_sheet(archive: zipfile.ZipFile, book: str) -> tuple[str, str, datetime.datetime]:
    """(relation id, name) of the workbook's first sheet, and the epoch its dates count from."""
    sheets: list[tuple[str, str]] = []
    epoch = [WINDOWS_EPOCH]

    def start(name: str, attributes: dict[str, str]) -> None:
        if name == "sheet":
            relation = [value for key, value in attributes.items() if _local(key) == "id"]
            sheets.append((relation[0] if relation else "", attributes.get("name", "Sheet1")))
        elif name == "workbookPr" and attributes.get("date1904") in ("1", "true"):
            epoch[0] = MAC_EPOCH

    _read(archive, book, _Starts(start))
    return (*sheets[0], epoch[0])


def _date_styles(archive: zipfile.ZipFile, path: str) -> dict[int, bool]:
    """{cell style number: whether it is a duration} for the styles that show numbers as dates or times."""
    formats = dict(BUILTIN_FORMATS)
    styles: list[int] = []
    seen: list[str] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        if name == "numFmt":
            formats[int(attributes["numFmtId"])] = attributes.get("formatCode", "")
        elif name == "xf" and seen[-1:] == ["cellXfs"]:
            styles.append(int(attributes.get("numFmtId", 0)))
        elif name in ("cellXfs", "cellStyleXfs"):
            seen.append(name)

    _read(archive, path, _Starts(start))
    return {style: is_timedelta_format(formats[number]) for style, number in enumerate(styles)
            if formats.get(number) and is_date_format(formats[number])}


def _declared_rows(archive: zipfile.ZipFile, sheet: str) -> int | None:
    """The rows the sheet's <dimension> declares (a guess: formatting counts); refused beyond Excel's limits."""
    declared: list[int] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        if name == "dimension":
            match = _DIMENSION.match(attributes.get("ref", "").upper())
            if match:
                first, last_column, last = match.groups()
                if last_column and column_index_from_string(last_column) > MAX_SHEET_COLUMNS:
                    raise ValueError(f"a sheet {last_column} columns wide")
                if int(last or first) > MAX_ROWS:
                    raise FileRejected(TOO_MANY_ROWS)
                declared.append(int(last or first))
        if name in ("dimension", "sheetData"):
            handler.done = True

    handler = _Starts(start)
    _read(archive, sheet, handler)
    return declared[0] if declared else None
