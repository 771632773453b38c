"""Open an uploaded customer file (CSV, TSV, text or .xlsx) and stream its rows in constant memory."""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import BinaryIO, NamedTuple

import charset_normalizer

from webapp.contacts.errors import FileRejected
from webapp.contacts.phones import looks_like_phone
from webapp.contacts.workbooks import NOT_A_WORKBOOK, PreviewLimit, open_workbook

__all__ = ["FileRejected", "Row", "Table", "check_extension", "guess_columns", "open_table"]  # FileRejected: its old home

ACCEPTED_EXTENSIONS = (".csv", ".txt", ".tsv", ".xlsx")
DELIMITERS = (",", ";", "\t", "|")

EMPTY_FILE = "The file is empty: it has no header row and no data."
HEADER_ONLY = "The file has a header row but no data rows."
NOT_TEXT = (
    "This file is not a text spreadsheet export: it contains binary data. "
    "Export your customer list from your spreadsheet program as CSV or .xlsx and upload that."
)
MALFORMED_QUOTES = 'row has a quoted field with text after its closing quote (")'
MAX_COLUMNS = 500
TOO_MANY_COLUMNS = (
    "The file has {count:,} columns; at most " + f"{MAX_COLUMNS:,}" + " can be imported. Delete the columns "
    "you don't need (or copy the ones you do to a new sheet) and upload it again."
)
MAX_LINE_CHARACTERS = 1_000_000
LINE_TOO_LONG = (
    "Row {line} is more than " + f"{MAX_LINE_CHARACTERS:,}" + " characters long, so this is not a list with one "
    "customer per line. Export it again from your spreadsheet program as CSV."
)
NOTHING_NEAR_THE_TOP = (
    "No {what} in the first {limit} of the file. Delete the empty rows above the list, and any formatting that "
    "runs down the whole sheet, then upload it again."
)
# How much of a file the column step reads, at most, to find the header and a few rows: it answers a page.
PREVIEW_LINES = 10_000
PREVIEW_SHEET_BYTES = 4 * 1024 * 1024

# Enough to detect the encoding and delimiter of any sane file, small enough to read at once.
_SAMPLE_BYTES = 64 * 1024
# Extra pieces from further in, so a file whose first 64 KiB are plain ASCII still gets its
# accented names decoded right.
_PROBE_BYTES = 16 * 1024
_PROBES = 3
# Encodings spreadsheet programs and shop systems actually write when they don't write UTF-8.
# charset-normalizer alone picks exotic code pages (cp775) for short Western samples.
_LEGACY_ENCODINGS = [
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
    "mac_roman", "cp850", "cp437", "koi8_r", "cp932", "gb18030", "big5", "cp949",
]
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_SIGNATURES = (
    (
        b"%PDF",
        "This file is a PDF document, not a spreadsheet. Export your customer list as CSV or .xlsx and upload that.",
    ),
    (
        b"\xd0\xcf\x11\xe0",
        "This is an old-format Excel workbook (.xls) or a password-protected one. In Excel, use "
        "File › Save As and choose .xlsx or CSV, without a password.",
    ),
)
_ZIP_SIGNATURE = b"PK\x03\x04"
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_SEP_LINE = re.compile(r"sep=(.)\r?(?:\n|$)")  # Excel's "sep=;" first line names the delimiter


class Row(NamedTuple):
    """One data row. `problem` is None, or why the row can't be used (its fields don't fit the header)."""

    line_number: int  # the row number a spreadsheet shows for it; the header is usually 1
    values: list[str]  # stripped; exactly one per header unless there is a problem
    problem: str | None = None


class Table:
    """An open file: `headers`, then `rows()` once. Use it as a context manager."""

    def __init__(
        self,
        records: Iterator[tuple[int, list[str] | None]],
        *,
        encoding: str | None,
        delimiter: str | None,
        close: Callable[[], None],
        total_bytes: int,
        bytes_read: Callable[[], int] | None,
        first_estimate: int | None,
        pad_short_rows: bool,
        empty_message: str = EMPTY_FILE,
    ):
        self.encoding = encoding  # None for .xlsx
        self.delimiter = delimiter  # None for .xlsx
        self.total_bytes = total_bytes
        self._close = close
        self._bytes_read = bytes_read
        self._first_estimate = first_estimate
        self._pad_short_rows = pad_short_rows
        self._records = records
        self._rows_done = 0
        self._finished = False
        self._started = False
        self._cut_short: PreviewLimit | None = None  # the column step read all it reads of the file
        self._header_values = self._read_header(empty_message)
        self.headers = _name_headers(self._header_values)
        self._data = self._data_rows()
        self._first_row = next(self._data, None)  # read now, so a header-only file is rejected at once
        if self._first_row is None and self._cut_short:
            raise FileRejected(NOTHING_NEAR_THE_TOP.format(what="data rows below the header", limit=self._cut_short))
        if self._first_row is None:
            raise FileRejected(HEADER_ONLY)

    def rows(self) -> Iterator[Row]:
        """The data rows, streamed; rows without any value are skipped. Can be iterated once."""
        if self._started:
            raise RuntimeError("Table.rows() streams the file and can only be iterated once")
        self._started = True
        self._rows_done += 1
        yield self._first_row
        for row in self._data:
            self._rows_done += 1
            yield row
        self._finished = True

    def estimated_rows(self) -> int | None:
        """Data rows in the file, estimated cheaply and refined as rows are read; exact at the end."""
        if self._finished:
            return self._rows_done
        if self._bytes_read is not None and self._rows_done:
            read = self._bytes_read()
            if read >= _SAMPLE_BYTES:
                return max(self._rows_done, round(self._rows_done * self.total_bytes / read))
        if self._first_estimate is None:
            return None
        return max(self._rows_done, self._first_estimate)

    def bytes_read(self) -> int | None:
        """How far into the file reading has got (None for .xlsx, which is compressed)."""
        return self._bytes_read() if self._bytes_read is not None else None

    def close(self) -> None:
        self._close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _read_header(self, empty_message: str) -> list[str]:
        try:
            for line_number, raw in self._records:
                if raw is None:
                    raise FileRejected(
                        f"The header row (row {line_number}) has a quoted field with text after its closing "
                        '(") quote. Fix the quotes in the header and upload the file again.'
                    )
                values = [value.strip() for value in raw]
                while values and not values[-1]:
                    values.pop()
                if len(values) > MAX_COLUMNS:
                    raise FileRejected(TOO_MANY_COLUMNS.format(count=len(values)))
                if values:
                    return values
        except PreviewLimit as limit:
            raise FileRejected(NOTHING_NEAR_THE_TOP.format(what="header row", limit=limit)) from None
        raise FileRejected(empty_message)

    def _data_rows(self) -> Iterator[Row]:
        try:
            yield from self._rows_below_header()
        except PreviewLimit as limit:
            self._cut_short = limit

    def _rows_below_header(self) -> Iterator[Row]:
        width = len(self.headers)
        header = self._header_values
        for line_number, raw in self._records:
            if raw is None:
                yield Row(line_number, [], MALFORMED_QUOTES)
                continue
            values = [value.strip() for value in raw]
            filled = len(values)
            while filled and not values[filled - 1]:
                filled -= 1
            if not filled:
                continue  # blank line, or a row of empty cells
            if filled > width:
                yield Row(line_number, values[:filled], f"row has {filled} fields, the header has {width}")
            elif len(values) < width and not self._pad_short_rows:
                yield Row(line_number, values, f"row has {len(values)} fields, the header has {width}")
            else:
                if len(values) != width:
                    values = values[:width] if len(values) > width else values + [""] * (width - len(values))
                if values == header:
                    yield Row(line_number, values, "row repeats the header row")
                else:
                    yield Row(line_number, values)


def open_table(path: str | os.PathLike, filename: str | None = None, *, preview: bool = False) -> Table:
    """Open the file at `path`; `filename` is the name it was uploaded as (for its extension).

    Raises FileRejected, with a message for people, when the file can't be imported at all. A `preview`
    reads no further than the start of the file the column step needs (PREVIEW_LINES, PREVIEW_SHEET_BYTES),
    so a page answers fast whatever the file holds.
    """
    path = Path(path)
    check_extension(filename or path.name)
    extension = Path(filename or path.name).suffix.lower()
    total_bytes = path.stat().st_size
    if total_bytes == 0:
        raise FileRejected(EMPTY_FILE)
    file = path.open("rb")
    try:
        head = file.read(_SAMPLE_BYTES)
        if head.startswith(_ZIP_SIGNATURE):
            # An .xlsx, or an .xlsx that was renamed to .csv: either way, read the workbook.
            return _open_workbook(file, total_bytes, NOT_A_WORKBOOK if extension == ".xlsx" else NOT_TEXT, preview)
        if extension == ".xlsx":
            for signature, message in _SIGNATURES:
                if head.startswith(signature):
                    raise FileRejected(message)
            raise FileRejected(NOT_A_WORKBOOK)
        return _open_text(file, head, total_bytes, extension, preview)
    except BaseException:
        file.close()
        raise


def check_extension(filename: str) -> None:
    """Raise FileRejected, with advice, when the file name's extension is not one we read."""
    extension = Path(filename).suffix.lower()
    if extension not in ACCEPTED_EXTENSIONS:
        raise FileRejected(_unsupported_extension_message(extension))


def _unsupported_extension_message(extension: str) -> str:
    accepted = ", ".join(ACCEPTED_EXTENSIONS[:-1]) + " or " + ACCEPTED_EXTENSIONS[-1]
    if not extension:
        return f"The file name has no extension, so its format is unknown. Upload a {accepted} file."
    advice = ""
    if extension in (".xls", ".ods", ".numbers", ".xlsm", ".xlsb"):
        advice = " Save it from your spreadsheet program as .xlsx or CSV."
    return f"{extension} files can't be imported. Upload a {accepted} file.{advice}"


# -- Text files ---------------------------------------------------------------------------------


def _open_text(file: BinaryIO, head: bytes, total_bytes: int, extension: str, preview: bool) -> Table:
    whole = len(head) == total_bytes
    encoding = _detect_encoding(file, head, whole, total_bytes)
    errors = _FALLBACK_ERRORS if encoding in ("utf-8", "utf-8-sig", "cp1252") else "replace"
    sample = codecs.getincrementaldecoder(encoding)(errors=errors).decode(head, final=whole)
    if not whole and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]  # whole lines only
    if _looks_binary(sample):
        raise FileRejected(NOT_TEXT)

    file.seek(0)
    stream = io.TextIOWrapper(file, encoding=encoding, errors=errors, newline="")
    sep_line = _SEP_LINE.match(sample.lstrip("\ufeff"))
    if sep_line is not None:
        delimiter = sep_line.group(1)
        stream.readline()  # Excel hides this line, so row numbers start after it
        sample = sample.lstrip("\ufeff")[sep_line.end():]
    else:
        delimiter = _sniff_delimiter(sample, extension)

    # Data rows in the sample (the header aside), scaled to the file's size.
    in_sample = _sample_records(sample, delimiter, limit=None)
    first_estimate = max(sum(1 for row in in_sample if any(map(str.strip, row))) - 1, 0)
    if not whole and sample:
        first_estimate = round(first_estimate * total_bytes / len(sample.encode(encoding, "replace")))

    return Table(
        _csv_records(stream, delimiter, PREVIEW_LINES if preview else None),
        encoding=encoding,
        delimiter=delimiter,
        close=stream.close,
        total_bytes=total_bytes,
        bytes_read=file.tell,
        first_estimate=first_estimate,
        pad_short_rows=False,
    )


def _csv_records(stream: io.TextIOWrapper, delimiter: str,
                 preview_lines: int | None = None) -> Iterator[tuple[int, list[str] | None]]:
    """(row number, fields) for every record, blank ones included, so the numbers match a spreadsheet's.

    A record with malformed quotes comes as (row number, None). With `preview_lines`, raises PreviewLimit
    after that many.
    """
    # strict: a quote left open at the end of the file must be an error, not one huge last cell.
    reader = csv.reader(_bounded_lines(stream), delimiter=delimiter, quotechar='"', skipinitialspace=True,
                        strict=True)
    line_number = 0
    while True:
        if line_number == preview_lines:
            raise PreviewLimit(f"{preview_lines:,} rows")
        try:
            fields = next(reader)
        except StopIteration:
            return
        except _LineTooLong:
            raise FileRejected(LINE_TOO_LONG.format(line=line_number + 1)) from None
        except csv.Error as error:
            line_number += 1
            # "unexpected end of data", "field larger than field limit (131072)": an open quote
            # ran to the end of the file, or far enough to show it never closes.
            if "end of data" in str(error) or "field limit" in str(error):
                raise FileRejected(
                    f'Row {line_number} opens a quote (") that is never closed, so the rest of the file '
                    f"would be read as one cell. Fix the quotes in row {line_number} and upload the file again."
                ) from None
            yield line_number, None  # "',' expected after '\"'"; the reader resumes at the next line
            continue
        line_number += 1
        yield line_number, fields


class _LineTooLong(Exception):
    pass


def _bounded_lines(stream: io.TextIOWrapper) -> Iterator[str]:
    """The stream's lines, none longer than MAX_LINE_CHARACTERS: a file without line ends is not read whole."""
    for line in iter(partial(stream.readline, MAX_LINE_CHARACTERS + 1), ""):
        if len(line) > MAX_LINE_CHARACTERS:
            raise _LineTooLong
        yield line


def _detect_encoding(file: BinaryIO, head: bytes, whole: bool, total_bytes: int) -> str:
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    for signature, message in _SIGNATURES:
        if head.startswith(signature):
            raise FileRejected(message)
    if b"\x00" in head:
        raise FileRejected(NOT_TEXT)
    pieces = [head if whole else _whole_lines(head, keep_start=True)]
    pieces += _probes(file, total_bytes) if not whole else []
    if all(_is_utf8(piece) for piece in pieces):
        return "utf-8"
    sample = b"".join(pieces)
    matches = charset_normalizer.from_bytes(sample, cp_isolation=_LEGACY_ENCODINGS)
    best = matches.best()
    if best is None:
        raise FileRejected(NOT_TEXT)
    for match in matches:
        # Among equally good readings prefer Windows' Western code page, the usual non-UTF-8
        # export: cp1250 and cp1252 agree on é and ü but not on ñ.
        if "cp1252" in match.could_be_from_charset and (match.chaos, -match.coherence) <= (best.chaos, -best.coherence):
            return "cp1252"
    return codecs.lookup(best.encoding).name


def _probes(file: BinaryIO, total_bytes: int) -> list[bytes]:
    pieces = []
    for index in range(1, _PROBES + 1):
        file.seek(total_bytes * index // (_PROBES + 1))
        pieces.append(_whole_lines(file.read(_PROBE_BYTES), keep_start=False))
    return pieces


def _whole_lines(chunk: bytes, *, keep_start: bool) -> bytes:
    # "\n" is one byte in UTF-8 and every legacy code page, so cutting there never splits a character.
    start = 0 if keep_start else chunk.find(b"\n") + 1
    end = chunk.rfind(b"\n") + 1
    return chunk[start:end] if end > start else chunk[start:]


def _is_utf8(piece: bytes) -> bool:
    try:
        piece.decode("utf-8")
    except UnicodeDecodeError as error:
        # A piece cut inside a character is still UTF-8.
        return error.start >= len(piece) - 3 and error.reason == "unexpected end of data"
    return True


def _decode_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    """Decode what UTF-8 (or cp1252) could not as cp1252, byte by byte, Latin-1 where cp1252 has no character.

    Files glued together from two exports mix UTF-8 and Windows-1252; this keeps the names
    readable instead of failing the whole import.
    """
    if not isinstance(error, UnicodeDecodeError):
        raise error
    text = []
    for byte in error.object[error.start : error.end]:
        try:
            text.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            text.append(chr(byte))  # the five bytes cp1252 leaves undefined
    return "".join(text), error.end


_FALLBACK_ERRORS = "broadcaster-cp1252-fallback"
codecs.register_error(_FALLBACK_ERRORS, _decode_as_cp1252)


def _looks_binary(sample: str) -> bool:
    # Text exports hold next to no control characters; binary data read as text, one in ten.
    return len(_CONTROL_CHARACTERS.findall(sample)) > len(sample) * 0.02


def _sniff_delimiter(sample: str, extension: str) -> str:
    """The delimiter that splits the sample into the most consistent table.

    Consistent: the share of rows that fit the header (trailing empty fields aside), then the
    number of columns. Ties go to the extension's usual delimiter, then to `DELIMITERS` order.
    """
    preferred = "\t" if extension == ".tsv" else ","
    candidates = [preferred] + [d for d in DELIMITERS if d != preferred]
    best, best_score = preferred, None
    for delimiter in candidates:
        records = [row for row in _sample_records(sample, delimiter) if any(field.strip() for field in row)]
        if not records:
            continue
        header_width = len(_without_trailing_empties(records[0]))
        rows = records[1:] or records
        fitting = sum(1 for row in rows if len(_without_trailing_empties(row)) <= header_width <= len(row))
        score = (header_width > 1, fitting / len(rows), header_width)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    return best


def _sample_records(sample: str, delimiter: str, limit: int | None = 1000) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, skipinitialspace=True)
    try:
        for index, row in enumerate(reader):
            if index == limit:
                return
            yield row
    except csv.Error:
        return  # a sample cut inside a quoted field; the rows before it are enough


def _without_trailing_empties(values: Sequence[str]) -> Sequence[str]:
    end = len(values)
    while end and not values[end - 1].strip():
        end -= 1
    return values[:end]


# -- Workbooks ----------------------------------------------------------------------------------

def _open_workbook(file: BinaryIO, total_bytes: int, not_a_workbook: str, preview: bool) -> Table:
    file.seek(0)
    workbook = open_workbook(file, not_a_workbook)
    return Table(
        workbook.records(PREVIEW_SHEET_BYTES if preview else None),
        encoding=None,
        delimiter=None,
        close=file.close,
        total_bytes=total_bytes,
        bytes_read=None,
        # The size the sheet declares; a guess until the rows are read.
        first_estimate=max(workbook.declared_rows - 1, 0) if workbook.declared_rows else None,
        pad_short_rows=True,  # a spreadsheet row simply ends at its last filled cell
        empty_message=(
            f"The first sheet of this workbook (“{workbook.sheet_name}”) is empty. "
            "Put the customer list on the first sheet and upload it again."
        ),
    )


# -- Headers and columns -----------------------------------------------------------------------


def _name_headers(values: Sequence[str]) -> list[str]:
    """Stripped headers; blank ones become "column 4", repeated ones "phone (2)", so each names one column."""
    names = []
    seen: set[str] = set()
    last_copy: dict[str, int] = {}  # the copy number last given to a name: each is tried once, so this is linear
    for index, value in enumerate(values, start=1):
        name = value.strip().lstrip("\ufeff").strip() or f"column {index}"
        candidate, copy = name, last_copy.get(name.casefold(), 1)
        while candidate.casefold() in seen:
            copy += 1
            candidate = f"{name} ({copy})"
        last_copy[name.casefold()] = copy
        seen.add(candidate.casefold())
        names.append(candidate)
    return names


class ColumnGuess(NamedTuple):
    """Which columns hold the phone number and the name (indexes into the headers), if any."""

    phone: int | None
    name: int | None
    last_name: int | None = None  # when `name` holds only first names and another column the last

    def name_in(self, values: Sequence[str]) -> str:
        """The contact's name from a row: the name column, or first and last name joined."""
        columns = [index for index in (self.name, self.last_name) if index is not None and index < len(values)]
        return " ".join(part for part in (values[index].strip() for index in columns) if part)


# Words that say "phone", most telling first: a WhatsApp column beats a mobile column beats a phone column.
_PHONE_WORDS = {
    "whatsapp": 5, "wa": 5, "waid": 5,
    "mobile": 4, "mob": 4, "cell": 4, "cellphone": 4, "cellular": 4, "celular": 4, "movil": 4, "movel": 4, "handy": 4,
    "phone": 3, "telephone": 3, "tel": 3, "telefono": 3, "telefone": 3, "telefon": 3, "msisdn": 3, "fone": 3,
}
# Long enough to find inside run-together headers ("PhoneNumber", "telefonnummer").
_PHONE_STEMS = {"whatsapp": 5, "mobile": 4, "celular": 4, "cellphone": 4, "phone": 3, "telefon": 3, "msisdn": 3}
_PHONE_ALONE = {"number", "numero", "num", "no", "nr", "contact"}  # only when the whole header
_NOT_A_MOBILE = {"fax", "home", "work", "office", "landline", "business", "fixed", "fijo"}
# A phone of an address or an order ("Default Address Phone", "Billing Phone"): below the customer's own phone.
_SOMEONE_ELSES = {"address", "billing", "shipping", "delivery", "default", "emergency", "company"}
# Words of a column about a phone, not holding its number: Google's "Phone 1 - Type", "WhatsApp opt-in",
# "Phone verified", "Phone country code" (but "Phone number (with country code)" holds it); "Phonetic First Name"
# is no phone at all.
_ABOUT_A_PHONE = {"type", "label", "kind", "optin", "opt", "consent", "subscribed", "verified", "status", "country",
                  "code", "ext", "extension", "prefix"}
_THE_NUMBER = {"number", "numero", "num", "no", "nr", "value"}
_NAME_HEADERS = {
    "name", "fullname", "customer", "customername", "client", "clientname", "cliente", "contact", "contactname",
    "nombre", "nombrecompleto", "nome", "nomecompleto", "nom", "nomcomplet", "displayname", "person",
}
_FIRST_NAME_HEADERS = {"firstname", "givenname", "forename", "first", "prenom", "primeironome", "vorname", "nombres"}
_LAST_NAME_HEADERS = {
    "lastname", "surname", "familyname", "apellido", "apellidos", "sobrenome", "nachname", "nomdefamille",
}
_NAME_WORDS = {"name", "nombre", "nome", "nom"}
_NOT_A_PERSON = {
    "last", "surname", "company", "business", "user", "file", "product", "item", "store", "shop", "sender", "template",
}


def guess_columns(headers: Sequence[str], sample_rows: Iterable[Sequence[str]] = ()) -> ColumnGuess:
    """Guess the phone and name columns from the headers, or from the values of a few rows.

    Without a header that says "phone", the phone column is the one whose sample values
    mostly look like phone numbers; None when none does, and the person chooses.
    """
    words = [_header_words(header) for header in headers]
    phone = _best_column([_phone_score(w) for w in words])
    if phone is None:
        phone = _column_of_phone_numbers(len(headers), sample_rows)

    name_scores = [0 if index == phone else _name_score(w) for index, w in enumerate(words)]
    name = _best_column(name_scores)
    last_name = None
    joined = ["".join(w) for w in words]
    # A first name's column is joined with the last name's; so is a bare "Name" (or "Nombre") beside a "Surname"
    # (or "Apellidos") unless the file has a first name's column too (Google's Name, Given Name, Family Name);
    # a "Full Name" is whole.
    if name is not None and (joined[name] in _FIRST_NAME_HEADERS or (
            joined[name] in _NAME_WORDS and not any(header in _FIRST_NAME_HEADERS for header in joined))):
        last_name = next((i for i, header in enumerate(joined) if header in _LAST_NAME_HEADERS), None)
    return ColumnGuess(phone=phone, name=name, last_name=last_name)


def _header_words(header: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", header)  # phoneNumber → phone Number
    plain = "".join(c for c in unicodedata.normalize("NFKD", spaced) if not unicodedata.combining(c))
    return [word for word in re.split(r"[^a-z0-9]+", plain.casefold()) if word]


def _phone_score(words: list[str]) -> int:
    if (_ABOUT_A_PHONE.intersection(words) and not _THE_NUMBER.intersection(words)) \
            or any(word.startswith("phonetic") for word in words):
        return 0
    joined = "".join(words)
    score = max([_PHONE_WORDS.get(word, 0) for word in words], default=0)
    score = max([score] + [value for stem, value in _PHONE_STEMS.items() if stem in joined])
    if not score and joined in _PHONE_ALONE:
        score = 1
    if score and _NOT_A_MOBILE.intersection(words):
        score = 1  # still a phone, but the last choice for WhatsApp
    elif score and _SOMEONE_ELSES.intersection(words):
        score = min(score, 2)
    return score


def _name_score(words: list[str]) -> int:
    joined = "".join(words)
    if joined in _NAME_HEADERS:
        return 3
    if joined in _FIRST_NAME_HEADERS:
        return 2
    if _NAME_WORDS.intersection(words) and not _NOT_A_PERSON.intersection(words):
        return 1
    return 0


def _best_column(scores: list[int]) -> int | None:
    best = max(scores, default=0)
    return scores.index(best) if best > 0 else None  # the leftmost of equals


def _column_of_phone_numbers(width: int, sample_rows: Iterable[Sequence[str]]) -> int | None:
    filled = [0] * width
    phone_like = [0] * width
    for row in sample_rows:
        for index, value in enumerate(row[:width]):
            if value.strip():
                filled[index] += 1
                phone_like[index] += looks_like_phone(value)
    shares = [phone_like[i] / filled[i] if filled[i] else 0.0 for i in range(width)]
    best = max(shares, default=0.0)
    return shares.index(best) if best > 0.5 else None
