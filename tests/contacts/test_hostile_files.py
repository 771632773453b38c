"""Files made to hurt the importer: workbooks that unpack to gigabytes, files far too wide, text without line
ends. Each is refused with a message for people, in little memory and time, by the web request and the job alike.

The bombs are read in a forked child, as a worker reads them, and its peak memory is measured there.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from tests.contacts import bombs
from webapp.contacts.columns import inspect
from webapp.contacts.tabular import MAX_COLUMNS, _name_headers, open_table

PEAK_MB = 300
FIRST_ROWS = [(bombs.header("phone", "name"), 1),
              ('<row r="2"><c r="A2" t="inlineStr"><is><t>+12125550100</t></is></c></row>', 1)]
# What a spreadsheet program writes when formatting was dragged down far below the list: rows of nothing.
FORMATTED_ROWS = '<row s="1" customFormat="1" ht="15" customHeight="1"/>' * 1000
ONE_KB_STRINGS = ("<si><t>" + "x" * 1000 + "</t></si>") * 1000


def column_step(path):
    return lambda: inspect(path, path.name).headers


def whole_read(path):
    def read():
        with open_table(path, path.name) as table:
            return sum(1 for _ in table.rows())
    return read


@pytest.fixture(params=[column_step, whole_read], ids=["column step", "import job"])
def reading(request):
    return request.param


def test_a_small_workbook_of_millions_of_formatted_rows_is_refused_unread(tmp_path, reading):
    path = bombs.workbook(tmp_path / "customers.xlsx", [*FIRST_ROWS, (FORMATTED_ROWS, 3000)])  # 3,000,000 rows
    assert path.stat().st_size < 1_000_000

    outcome, peak, seconds = bombs.in_a_child(reading(path))
    assert outcome.startswith("refused: This .xlsx file unpacks to ") and "times its size" in outcome, outcome
    assert peak < PEAK_MB and seconds < 10, (peak, seconds)


def test_a_shared_strings_bomb_is_refused_unread(tmp_path, reading):
    path = bombs.workbook(tmp_path / "customers.xlsx", FIRST_ROWS, shared_strings=[(ONE_KB_STRINGS, 500)])  # 500 MB

    outcome, peak, seconds = bombs.in_a_child(reading(path))
    assert outcome.startswith("refused: This .xlsx file unpacks to"), outcome
    assert peak < PEAK_MB and seconds < 10, (peak, seconds)


def test_a_sheet_longer_than_a_spreadsheet_holds_is_refused(tmp_path, reading):
    path = bombs.workbook(tmp_path / "customers.xlsx", [*FIRST_ROWS, ('<row r="1048577"/>', 1)])
    outcome, _, _ = bombs.in_a_child(reading(path))
    assert outcome == "refused: The first sheet has more than 1,048,576 rows, more than a spreadsheet holds."


def test_a_cell_longer_than_a_spreadsheet_holds_is_refused_before_it_is_read_whole(tmp_path, reading):
    huge_cell = [('<row r="3"><c t="inlineStr"><is><t>', 1), ("x" * 1000, 60_000), ("</t></is></c></row>", 1)]
    path = bombs.workbook(tmp_path / "customers.xlsx", [*FIRST_ROWS, *huge_cell])  # a 60 MB cell
    outcome, peak, _ = bombs.in_a_child(reading(path))
    assert outcome.startswith("refused: The workbook has a cell longer than 32,767 characters"), outcome
    assert peak < 50, peak


def test_the_column_step_reads_only_the_start_of_a_workbook(tmp_path):
    # Rows formatted over the whole width of the sheet above the list, packed like any workbook: the page
    # answers at once (openpyxl read all 16,384 cells of every row, and a 50 MB upload of them for minutes).
    styles = random.Random(13)
    wide_formatting = "<row>" + "".join(f'<c s="{styles.randrange(65536)}"/>' for _ in range(16_384)) + "</row>"
    path = bombs.workbook(tmp_path / "customers.xlsx", [(wide_formatting, 40), *FIRST_ROWS])
    outcome, peak, seconds = bombs.in_a_child(column_step(path))
    assert outcome == ("refused: No header row in the first 4 MB of the sheet of the file. Delete the empty rows "
                       "above the list, and any formatting that runs down the whole sheet, then upload it again.")
    assert seconds < 5 and peak < PEAK_MB, (seconds, peak)


def test_a_workbook_keeps_its_rows_below_formatting_only_cells(tmp_path):
    formatted = '<row r="3"><c r="A3" s="1"/><c r="XFD3" s="1"/></row>'
    path = bombs.workbook(tmp_path / "customers.xlsx", [*FIRST_ROWS, (formatted, 1),
                          ('<row r="4"><c r="B4" t="inlineStr"><is><t>Ann</t></is></c>'
                           '<c r="A4"><v>12125550101</v></c></row>', 1)])
    with open_table(path) as table:
        rows = list(table.rows())
    assert table.headers == ["phone", "name"]
    assert [(row.line_number, row.values) for row in rows] == [(2, ["+12125550100", ""]),
                                                              (4, ["12125550101", "Ann"])]


# -- Text files -------------------------------------------------------------------------------------


def test_a_text_file_without_line_ends_is_refused_in_little_memory(tmp_path, reading):
    path = tmp_path / "customers.csv"
    path.write_text("phone" + "0123456789" * 500_000)  # 5 MB, one line
    outcome, peak, _ = bombs.in_a_child(reading(path))
    assert outcome == ("refused: Row 1 is more than 1,000,000 characters long, so this is not a list with one "
                       "customer per line. Export it again from your spreadsheet program as CSV.")
    assert peak < 50, peak


def test_the_column_step_reads_only_the_start_of_a_text_file(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("\n" * 5_000_000 + "phone,name\n+12125550100,Ann\n")
    started = time.monotonic()
    with pytest.raises(Exception, match=r"^No header row in the first 10,000 rows of the file\. "):
        inspect(path, path.name)
    assert time.monotonic() - started < 2


# -- Wide files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [MAX_COLUMNS + 1, 250_000])
def test_a_file_wider_than_500_columns_is_refused_with_its_width(tmp_path, reading, width):
    path = tmp_path / "customers.csv"
    path.write_text(",".join(["h"] * width) + "\n" + ",".join(["1"] * width) + "\n")
    outcome, peak, seconds = bombs.in_a_child(reading(path))
    assert outcome == (f"refused: The file has {width:,} columns; at most 500 can be imported. Delete the columns "
                       "you don't need (or copy the ones you do to a new sheet) and upload it again.")
    assert seconds < 5 and peak < PEAK_MB, (seconds, peak)


def test_a_file_of_500_columns_is_read(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(",".join(["phone"] * 500) + "\n" + ",".join(["+12125550100"] * 500) + "\n")
    with open_table(path) as table:
        assert len(table.headers) == 500 and len(next(table.rows()).values) == 500


def test_renaming_thousands_of_repeated_headers_takes_linear_time():
    started = time.monotonic()
    names = _name_headers(["phone"] * 30_000 + ["Phone (2)", ""])
    assert time.monotonic() - started < 1
    assert names[:3] == ["phone", "phone (2)", "phone (3)"] and names[-3:] == ["phone (30000)", "Phone (2) (2)",
                                                                               "column 30002"]
    assert len({name.casefold() for name in names}) == len(names)


def test_the_upload_page_shows_why_a_bomb_was_refused_and_keeps_nothing(staff_client, app, tmp_path):
    from tests.conftest import post
    from webapp.contacts.models import Import
    from webapp.extensions import db

    bomb = bombs.workbook(tmp_path / "customers.xlsx", [*FIRST_ROWS, (FORMATTED_ROWS, 3000)])
    uploads = Path(app.config["UPLOAD_FOLDER"])
    before = set(uploads.iterdir())
    with bomb.open("rb") as file:
        response = post(staff_client, "/imports/new", {"list_id": "", "new_list": "Customers", "country": "US",
                                                       "existing": "update", "file": (file, "customers.xlsx")},
                        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "This .xlsx file unpacks to" in response.get_data(as_text=True)
    assert db.session.query(Import).count() == 0
    assert set(uploads.iterdir()) == before


# -- The import job's memory -----------------------------------------------------------------------


def test_an_import_job_takes_no_more_memory_than_its_cap_and_then_gets_it_back():
    from jobs.imports import memory_cap

    def allocate() -> str:
        try:
            with memory_cap(64):
                bytearray(256 * 1024 * 1024)
        except MemoryError:
            bytearray(256 * 1024 * 1024)  # the cap is lifted with the block
            return "refused within the cap, allowed after it"
        return "allowed within the cap"

    outcome, _, _ = bombs.in_a_child(allocate)
    assert outcome == "ok: refused within the cap, allowed after it"
