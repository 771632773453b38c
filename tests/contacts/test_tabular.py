"""Reading uploaded customer files: encodings, delimiters, quoting, workbooks, bad files, memory."""
from __future__ import annotations

import io
import shutil
import tracemalloc
import zipfile

import pytest

from webapp.contacts.tabular import ColumnGuess, FileRejected, Row, guess_columns, open_table

PEOPLE = [
    ["+1 212 555 0100", "José Álvarez", "Nueva York"],
    ["+1 212 555 0101", "Renée Dubois", "Montréal"],
    ["+1 212 555 0102", "Jürgen Müller", "München"],
    ["+1 212 555 0103", "Zoë Brontë", "Haworth"],
]


# -- Encodings ------------------------------------------------------------------------------------


def test_utf8_file_keeps_accented_names(read_table):
    table, rows = read_table("utf8.csv")
    assert table.encoding == "utf-8"
    assert table.headers == ["phone", "name", "city"]
    assert [row.values for row in rows[:4]] == PEOPLE
    assert [row.line_number for row in rows] == [2, 3, 4, 5, 6, 7]


def test_excel_csv_utf8_byte_order_mark_does_not_reach_the_first_header(read_table):
    table, rows = read_table("utf8_bom.csv")
    assert table.encoding == "utf-8-sig"
    assert table.headers == ["phone", "name", "city"]
    assert [row.values for row in rows[:4]] == PEOPLE


def test_excel_unicode_text_is_read_as_utf16_with_tabs(read_table):
    table, rows = read_table("utf16.csv")
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.headers == ["phone", "name", "city"]
    assert [row.values for row in rows[:4]] == PEOPLE


def test_windows_1252_export_keeps_accents_curly_quotes_and_euro_sign(read_table):
    table, rows = read_table("cp1252.csv")
    assert table.encoding == "cp1252"
    assert [row.values[1] for row in rows] == ["Renée Dubois", "Ana Peña", "Jürgen Müller", "Zoë “Zee” Brontë"]
    assert rows[3].values[2] == "Haworth €"


def test_windows_1252_names_far_below_an_ascii_start_are_detected(tmp_path):
    # The first 64 KiB are plain ASCII; the accents only show up further in.
    path = tmp_path / "export.csv"
    ascii_rows = "".join(f"+1 212 555 {100 + i % 100:04d},Customer {i},Springfield\r\n" for i in range(4000))
    accented = "".join(f"+1 212 555 0150,Ana Peña {i},Cádiz\r\n" for i in range(2000))
    path.write_bytes(("phone,name,city\r\n" + ascii_rows + accented).encode("cp1252"))
    with open_table(path) as table:
        rows = list(table.rows())
    assert table.encoding == "cp1252"
    assert rows[-1].values[1:] == ["Ana Peña 1999", "Cádiz"]


def test_cyrillic_windows_1251_export_is_detected(tmp_path):
    names = ["Иван Петров", "Мария Смирнова", "Алексей Кузнецов", "Ольга Попова", "Дмитрий Соколов"]
    path = tmp_path / "clients.csv"
    rows = "".join(f"+7 916 123-45-{i:02d},{name}\r\n" for i, name in enumerate(names))
    path.write_bytes(("phone,name\r\n" + rows).encode("cp1251"))
    with open_table(path) as table:
        assert table.encoding == "cp1251"
        assert [row.values[1] for row in table.rows()] == names


def test_utf8_file_with_one_windows_1252_row_beyond_the_sample_still_reads(tmp_path):
    # Two exports glued together: a UTF-8 one, then a row from a Windows program.
    path = tmp_path / "glued.csv"
    utf8_rows = "".join(f"+1 212 555 {100 + i % 100:04d},Zoë {i},Haworth\n" for i in range(3000))
    path.write_bytes(b"phone,name,city\n" + utf8_rows.encode() + "+1 212 555 0199,Renée,Montréal\n".encode("cp1252"))
    with open_table(path) as table:
        rows = list(table.rows())
    assert table.encoding == "utf-8"
    assert rows[0].values[1] == "Zoë 0"
    assert rows[-1].values[1:] == ["Renée", "Montréal"]


# -- Delimiters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "delimiter"),
    [("utf8.csv", ","), ("semicolon.csv", ";"), ("tab.tsv", "\t"), ("pipe.txt", "|"), ("utf16.csv", "\t")],
)
def test_delimiter_is_sniffed(read_table, name, delimiter):
    table, rows = read_table(name)
    assert table.delimiter == delimiter
    assert len(table.headers) == 3
    assert all(row.problem is None and len(row.values) == 3 for row in rows)


def test_semicolon_file_with_decimal_commas_is_split_on_semicolons(read_table):
    table, rows = read_table("semicolon.csv")
    assert table.headers == ["telefono", "nombre", "importe"]
    assert rows[0].values == ["612 345 678", "Ana Peña", "12,50"]


def test_excel_sep_line_chooses_the_delimiter_and_is_not_a_row(read_table):
    table, rows = read_table("sep_line.csv")
    assert table.delimiter == ";"
    assert table.headers == ["phone", "name", "notes"]
    assert rows[0] == Row(2, ["+1 212 555 0100", "José Álvarez", "a, b, c"])


def test_single_column_file_of_numbers_is_read(tmp_path):
    path = tmp_path / "numbers.txt"
    path.write_text("phone\n+1 212 555 0100\n+1 212 555 0101\n")
    with open_table(path) as table:
        assert table.headers == ["phone"]
        assert [row.values for row in table.rows()] == [["+1 212 555 0100"], ["+1 212 555 0101"]]


# -- Quoting, blank lines, ragged rows ------------------------------------------------------------


def test_quoted_fields_keep_their_delimiters_quotes_and_newlines(read_table):
    _, rows = read_table("quoted_multiline.csv")
    assert rows[0].values == ["+1 212 555 0100", "Ann Lee", "12 Main St\nApt 4\nSpringfield, IL"]
    assert rows[1].values[2] == "1 Elm St, Suite 2"
    assert rows[2].values[:2] == ["+1 212 555 0102", 'Chloé "Coco" Martin, PhD']
    assert rows[3].values[2] == "line one\r\nline two"


def test_line_numbers_are_the_rows_a_spreadsheet_shows_even_when_a_cell_spans_lines(read_table):
    # Ann's address takes three lines of the file but one row of a spreadsheet.
    _, rows = read_table("quoted_multiline.csv")
    assert [(row.line_number, row.values[1]) for row in rows] == [
        (2, "Ann Lee"),
        (3, "Bob Stone"),
        (4, 'Chloé "Coco" Martin, PhD'),
        (5, "Dan Wu"),
    ]


def test_blank_lines_are_skipped_but_still_counted(read_table):
    _, rows = read_table("blank_lines_and_trailing_columns.csv")
    assert [row.line_number for row in rows] == [2, 4, 7]


def test_trailing_empty_columns_are_tolerated(read_table):
    table, rows = read_table("blank_lines_and_trailing_columns.csv")
    assert table.headers == ["phone", "name"]
    assert [row.values for row in rows] == [
        ["+1 212 555 0100", "Ann"],
        ["+1 212 555 0101", "Bob"],
        ["+1 212 555 0102", "Cy"],
    ]
    assert all(row.problem is None for row in rows)


def test_rows_with_too_many_or_too_few_fields_are_reported_and_reading_goes_on(read_table):
    _, rows = read_table("ragged_rows.csv")
    assert [(row.line_number, row.problem) for row in rows] == [
        (2, None),
        (3, "row has 5 fields, the header has 4"),
        (4, "row has 2 fields, the header has 4"),
        (5, "row has 6 fields, the header has 4"),
        (6, "row repeats the header row"),
        (7, None),
    ]
    assert rows[1].values == ["+1 212 555 0101", "Bob", "Boston", "SAVE10", "extra"]  # as found, for the report
    assert rows[-1].values == ["+1 212 555 0104", "Eve", "Austin", ""]


def test_an_unclosed_quote_rejects_the_file_and_names_the_row(sample):
    with pytest.raises(FileRejected, match=r'Row 2 opens a quote \(\"\) that is never closed'):
        with open_table(sample("unterminated_quote.csv")) as table:
            list(table.rows())


def test_an_unclosed_quote_in_a_big_file_is_rejected_too(tmp_path):
    # Python's csv module gives up on a cell over 128 KiB: the open quote swallowed the file.
    path = tmp_path / "big.csv"
    rest = "".join(f"+1 212 555 {100 + i % 100:04d},Customer {i}\n" for i in range(10000))
    path.write_text('phone,name\n+1 212 555 0100,Ann\n+1 212 555 0101,"Bob\n' + rest)
    with pytest.raises(FileRejected, match="Row 3 opens a quote"):
        with open_table(path) as table:
            list(table.rows())


def test_text_after_a_closing_quote_rejects_only_that_row(read_table):
    _, rows = read_table("malformed_quotes.csv")
    assert rows == [
        Row(2, [], 'row has a quoted field with text after its closing quote (")'),
        Row(3, ["+1 212 555 0101", "Bob"]),
    ]


def test_blank_and_repeated_headers_get_names_of_their_own(tmp_path):
    path = tmp_path / "headers.csv"
    path.write_text(" phone ,,Name,phone,name\n1,2,3,4,5\n")
    with open_table(path) as table:
        assert table.headers == ["phone", "column 2", "Name", "phone (2)", "name (2)"]


def test_names_that_look_like_markup_come_back_verbatim(read_table):
    # Stored as text, escaped where shown: the parser neither runs nor mangles them.
    _, rows = read_table("xss_names.csv")
    assert [row.values[1] for row in rows] == [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "Ann & Bob's \"Deli\"",
    ]


# -- Workbooks ------------------------------------------------------------------------------------


def test_xlsx_first_sheet_is_read_with_cells_as_text(read_table):
    table, rows = read_table("customers.xlsx")
    assert (table.encoding, table.delimiter) == (None, None)
    assert table.headers == ["Phone", "Name", "City", "Last order", "Spent"]
    assert rows == [
        Row(2, ["12125550100", "Ann Lee", "Boston", "2024-03-01", "12.5"]),
        Row(3, ["919988066776", "Ravi Kumar", "Pune", "2024-03-02 14:30:00", "1200"]),
        Row(4, ["+44 20 7946 0958", "Olivia Brown", "London", "", ""]),
        # Row 5 is blank; the sheet's trailing formatted cells add no rows or columns.
        Row(6, ["(212) 555-0101", "Bob Stone", "", "", "0.3"]),
        Row(7, ["TRUE", "Not a number", "Austin", "", ""]),
    ]


def test_xlsx_phone_stored_as_a_float_loses_no_digits_and_gains_no_decimal(read_table):
    _, rows = read_table("customers.xlsx")
    assert rows[1].values[0] == "919988066776"


def test_workbook_renamed_to_csv_is_read_as_a_workbook(sample, tmp_path, read_table):
    renamed = tmp_path / "export.csv"
    shutil.copy(sample("customers.xlsx"), renamed)
    table, rows = read_table(renamed)
    assert table.headers[0] == "Phone" and len(rows) == 5


@pytest.mark.parametrize("name", ["customers.xlsx", "utf8.csv"])
def test_upload_stored_under_another_name_is_read_by_the_name_it_was_uploaded_as(sample, tmp_path, read_table, name):
    stored = tmp_path / "upload-7f3a"
    shutil.copy(sample(name), stored)
    _, rows = read_table(stored, filename=name)
    assert rows[0].values[1] in ("Ann Lee", "José Álvarez")


# -- Files rejected as a whole --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "The file is empty: it has no header row and no data."),
        ("header_only.csv", "The file has a header row but no data rows."),
        ("binary.csv", "This file is not a text spreadsheet export: it contains binary data."),
        ("unsupported.pdf", ".pdf files can't be imported. Upload a .csv, .txt, .tsv or .xlsx file."),
        ("not_a_workbook.xlsx", "This .xlsx file is not a valid Excel workbook"),
        ("empty_first_sheet.xlsx", "The first sheet of this workbook (“Blank”) is empty."),
    ],
)
def test_bad_file_is_rejected_with_a_message_for_people(sample, name, message):
    with pytest.raises(FileRejected) as rejected:
        open_table(sample(name))
    assert str(rejected.value).startswith(message)


def damaged_workbooks(workbook: bytes) -> dict[str, bytes]:
    plain_zip, half_a_sheet = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(half_a_sheet, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item.filename, data[: len(data) // 2] if item.filename.endswith("sheet1.xml") else data)
    return {
        "truncated": workbook[: len(workbook) // 2],
        "a zip of something else": plain_zip.getvalue(),
        "a sheet cut in half": half_a_sheet.getvalue(),
    }


@pytest.mark.parametrize("damage", ["truncated", "a zip of something else", "a sheet cut in half"])
def test_damaged_workbook_is_rejected_as_not_a_valid_workbook(sample, tmp_path, damage):
    path = tmp_path / "customers.xlsx"
    path.write_bytes(damaged_workbooks(sample("customers.xlsx").read_bytes())[damage])
    with pytest.raises(FileRejected, match=r"This \.xlsx file is not a valid Excel workbook"):
        with open_table(path) as table:
            list(table.rows())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\r\n\r\n  \r\n", "The file is empty"),
        (b"\xef\xbb\xbf", "The file is empty"),
        (b"phone,name\n\n,,\n\n", "The file has a header row but no data rows."),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "This file is a PDF document, not a spreadsheet."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "This is an old-format Excel workbook (.xls)"),
        (bytes(range(1, 256)) * 40, "This file is not a text spreadsheet export"),
    ],
)
def test_file_named_csv_that_is_not_a_usable_csv_is_rejected(tmp_path, content, message):
    path = tmp_path / "customers.csv"
    path.write_bytes(content)
    with pytest.raises(FileRejected, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        open_table(path)


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("customers.xls", ".xls files can't be imported. Upload a .csv, .txt, .tsv or .xlsx file. Save it from your"),
        ("customers.numbers", ".numbers files can't be imported."),
        ("customers", "The file name has no extension, so its format is unknown. Upload a .csv, .txt, .tsv or .xlsx"),
    ],
)
def test_unsupported_extension_says_which_files_are_accepted(sample, filename, message):
    with pytest.raises(FileRejected) as rejected:
        open_table(sample("utf8.csv"), filename=filename)
    assert str(rejected.value).startswith(message)


def test_rejected_file_is_closed(sample, monkeypatch):
    opened = []
    real_open = type(sample("header_only.csv")).open

    def tracking_open(self, *args, **kwargs):
        file = real_open(self, *args, **kwargs)
        opened.append(file)
        return file

    monkeypatch.setattr(type(sample("header_only.csv")), "open", tracking_open)
    with pytest.raises(FileRejected):
        open_table(sample("header_only.csv"))
    assert opened and all(file.closed for file in opened)


# -- Streaming and progress -----------------------------------------------------------------------


def test_rows_stream_once(sample):
    with open_table(sample("utf8.csv")) as table:
        assert len(list(table.rows())) == 6
        with pytest.raises(RuntimeError):
            list(table.rows())


def test_estimated_rows_is_close_before_reading_and_exact_at_the_end(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("phone,name\n" + "".join(f"+1 212 555 {100 + i % 100:04d},Customer {i}\n" for i in range(20000)))
    with open_table(path) as table:
        before = table.estimated_rows()
        assert 0.8 * 20000 < before < 1.2 * 20000
        rows = table.rows()
        for _ in range(10000):
            next(rows)
        assert 0.9 * 20000 < table.estimated_rows() < 1.1 * 20000
        assert 0 < table.bytes_read() <= table.total_bytes
        assert sum(1 for _ in rows) == 10000
        assert table.estimated_rows() == 20000


def test_workbook_estimates_rows_from_its_declared_size(sample):
    with open_table(sample("customers.xlsx")) as table:
        assert table.estimated_rows() is not None and table.estimated_rows() >= 5
        assert table.bytes_read() is None
        assert len(list(table.rows())) == table.estimated_rows() == 5


def test_reading_a_50_mb_file_takes_constant_memory(tmp_path):
    path = tmp_path / "big.csv"
    note = '"' + "Prefers WhatsApp, orders on Fridays; " * 24 + '"'
    block = "".join(f"+1 212 555 {100 + i % 100:04d},Customer Núñez,Springfield,{note}\n" for i in range(1000))
    with path.open("w", encoding="utf-8") as file:
        file.write("phone,name,city,notes\n")
        while file.tell() < 50_000_000:
            file.write(block)

    tracemalloc.start()
    try:
        with open_table(path) as table:
            count = sum(1 for row in table.rows() if row.problem is None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count > 50_000
    assert peak < 5_000_000, f"reading took {peak / 1e6:.1f} MB"


# -- Guessing the columns -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "phone", "Phone Number", "PHONE_NO", "phoneNumber", "Mobile", "mobile number", "Cell", "cell phone",
        "WhatsApp", "whatsapp_number", "wa", "wa_id", "Number", "MSISDN", "Tel", "Tel.", "Telephone", "telefono",
        "Teléfono", "teléfono móvil", "Celular", "Móvil", "Telefonnummer", "Customer phone", "Número",
    ],
)
def test_phone_column_is_found_by_its_header(header):
    assert guess_columns(["Name", header, "City"]).phone == 1


@pytest.mark.parametrize(
    ("headers", "phone"),
    [
        (["home phone", "mobile"], 1),  # a WhatsApp number is a mobile
        (["phone", "whatsapp"], 1),
        (["order number", "phone"], 1),  # "number" alone only when it is the whole header
        (["hotel", "cancelled", "telephone"], 2),  # not "tel" in hotel, not "cell" in cancelled
        (["fax", "phone"], 1),
        (["phone", "phone 2"], 0),  # the leftmost of equals
        # Google Contacts' export: the number is in "Value", its kind in "Type" (or "Label"), and no "Phonetic"
        (["Name", "Phone 1 - Type", "Phone 1 - Value", "Phone 2 - Type", "Phone 2 - Value"], 2),
        (["First Name", "Phonetic First Name", "Phone 1 - Label", "Phone 1 - Value"], 3),
        (["Default Address Phone", "Phone", "Accepts SMS Marketing"], 1),  # Shopify: the customer's own phone
        (["WhatsApp opt-in", "Phone verified", "Phone"], 2),
        (["Phone country code", "Phone Number (with country code)"], 1),
    ],
)
def test_phone_column_prefers_the_most_telling_header(headers, phone):
    assert guess_columns(headers).phone == phone


@pytest.mark.parametrize(
    ("headers", "name"),
    [
        (["phone", "Name"], 1),
        (["phone", "Full Name"], 1),
        (["phone", "customer"], 1),
        (["phone", "nombre"], 1),
        (["phone", "Nome"], 1),
        (["company name", "phone", "contact name"], 2),
        (["username", "phone", "name"], 2),
        (["phone", "coupon"], None),
    ],
)
def test_name_column_is_found_by_its_header(headers, name):
    assert guess_columns(headers).name == name


def test_first_and_last_name_columns_are_joined():
    guess = guess_columns(["First Name", "Last Name", "Mobile"])
    assert guess == ColumnGuess(phone=2, name=0, last_name=1)
    assert guess.name_in(["Ann", "Lee", "+1 212 555 0100"]) == "Ann Lee"
    assert guess.name_in(["Ann", "", "+1 212 555 0100"]) == "Ann"


@pytest.mark.parametrize(("headers", "guess"), [
    (["Nombre", "Apellidos", "Teléfono móvil"], ColumnGuess(phone=2, name=0, last_name=1)),
    (["Name", "Surname", "Phone"], ColumnGuess(phone=2, name=0, last_name=1)),
    # Google Contacts: "Name" is the whole name, beside its given and family parts
    (["Name", "Given Name", "Family Name", "Phone 1 - Value"], ColumnGuess(phone=3, name=0, last_name=None)),
    (["Full Name", "Last Name", "Phone"], ColumnGuess(phone=2, name=0, last_name=None)),
])
def test_a_name_beside_a_surname_is_joined_with_it_unless_the_file_has_first_names_too(headers, guess):
    assert guess_columns(headers) == guess


def test_without_a_phone_header_the_column_of_phone_numbers_is_chosen(read_table):
    table, rows = read_table("unlabelled_phone_column.csv")
    guess = guess_columns(table.headers, [row.values for row in rows])
    assert guess == ColumnGuess(phone=1, name=0)  # not the column of dates


def test_a_column_of_excel_mangled_numbers_is_still_the_phone_column(read_table):
    table, rows = read_table("excel_scientific.csv")
    assert guess_columns(["a", "b"], [row.values for row in rows]).phone == 0


def test_without_any_phone_column_the_guess_is_none_and_the_person_chooses(read_table):
    table, rows = read_table("no_phone_column.csv")
    assert guess_columns(table.headers, [row.values for row in rows]) == ColumnGuess(phone=None, name=0)
