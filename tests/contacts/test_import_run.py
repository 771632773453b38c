"""The import run, in-process: every sample file, de-duplication, updates, reports, and failures that change nothing."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select, update

from tests import factories
from tests.contacts.conftest import write_csv
from webapp.audience.conditions import compile_filter
from webapp.contacts import fields, import_run, imports
from webapp.contacts.columns import Columns
from webapp.contacts.models import Contact, ContactList, Import, ImportRejection, ImportRow, ListMember
from webapp.contacts.phones import SPREADSHEET_MANGLED
from webapp.extensions import db
from webapp.timestamps import utcnow


def matching(name: str, op: str, value: str) -> list[str]:
    """The phones an attribute filter finds (webapp/audience/conditions.py reads what the import stored for it)."""
    condition = {"field": "attribute", "name": name, "op": op, "value": value}
    where = compile_filter(db.session, {"conditions": [condition]}).where
    return sorted(db.session.scalars(select(Contact.phone).where(where)))


def members(list_name: str = "Customers") -> dict[str, Contact]:
    """The list's contacts by phone, read fresh from the database."""
    rows = db.session.scalars(select(Contact).join(ListMember, ListMember.contact_id == Contact.id)
                              .join(ContactList, ContactList.id == ListMember.list_id)
                              .where(ContactList.name == list_name)
                              .execution_options(populate_existing=True))
    return {contact.phone: contact for contact in rows}


def counts(record: Import) -> dict[str, int]:
    report = imports.report(db.session, record)
    return {key: report[key] for key in ("rows", "added", "updated", "already_in_list", "duplicates", "invalid")}


def rejected(record: Import) -> list[tuple[int, str, str]]:
    return [(r.line, r.value, r.reason) for r in imports.rejections(db.session, record.id)]


# --- Every format -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["utf8.csv", "utf8_bom.csv", "utf16.csv", "tab.tsv", "pipe.txt"])
def test_text_exports_in_any_encoding_and_delimiter_import_whole(imported, name):
    record = imported(name)

    assert record.status == "done"
    people = members()
    assert len(people) == (6 if name.startswith("utf") else 4)
    assert counts(record)["added"] == len(people) and counts(record)["invalid"] == 0
    assert people["+12125550100"].name == "José Álvarez"
    assert people["+12125550101"].attributes == {"city": "Montréal"}
    assert people["+12125550100"].country == "US"


def test_a_windows_1252_export_keeps_its_accents_curly_quotes_and_euro_sign(imported):
    imported("cp1252.csv")
    people = members()
    assert people["+12125550103"].name == "Zoë “Zee” Brontë"
    assert people["+12125550103"].attributes == {"city": "Haworth €"}


def test_a_spanish_excel_export_reads_national_numbers_in_the_chosen_country(imported):
    record = imported("semicolon.csv", country="ES")
    people = members()
    assert set(people) == {"+34612345678", "+34612345679", "+34612345680"}
    assert people["+34612345678"].attributes == {"importe": "12,50"}
    assert people["+34612345678"].country == "ES" and counts(record)["invalid"] == 0


def test_excels_sep_line_and_quoted_fields_with_delimiters_and_newlines(imported):
    imported("sep_line.csv", "Hinted")
    assert {c.attributes["notes"] for c in members("Hinted").values()} == {"a, b, c"}
    imported("quoted_multiline.csv", "Quoted")
    people = members("Quoted")
    assert people["+12125550100"].attributes["address"] == "12 Main St\nApt 4\nSpringfield, IL"
    assert people["+12125550102"].name == 'Chloé "Coco" Martin, PhD'


def test_blank_lines_and_trailing_empty_columns_are_not_rows(imported):
    record = imported("blank_lines_and_trailing_columns.csv")
    assert counts(record) == {"rows": 3, "added": 3, "updated": 0, "already_in_list": 0, "duplicates": 0,
                              "invalid": 0}
    assert all(contact.attributes == {} for contact in members().values())  # blank cells are not values


def test_an_excel_workbook_imports_its_first_sheet_with_numbers_as_typed(imported):
    record = imported("customers.xlsx")
    people = members()
    assert set(people) == {"+12125550100", "+919988066776", "+442079460958", "+12125550101"}
    assert people["+12125550100"].attributes == {"City": "Boston", "Last order": "2024-03-01", "Spent": "12.5"}
    assert rejected(record) == [(7, "TRUE", "the number contains letters")]


def test_messy_numbers_are_normalised_or_rejected_with_their_line_value_and_reason(imported, read_table):
    record = imported("messy_numbers.csv")
    _, rows = read_table("messy_numbers.csv")
    expected = {row.values[2] for row in rows if row.values[2] != "rejected"}

    assert set(members()) == expected
    report = counts(record)
    assert report["added"] == len(expected) == 12 and report["invalid"] == 12
    reasons = {line: (value, reason) for line, value, reason in rejected(record)}
    assert reasons[14] == ("9.19988E+11", SPREADSHEET_MANGLED)
    assert reasons[16] == ("", "the phone number is empty")
    assert reasons[17] == ("555-CALL-NOW", "the number contains letters")
    assert reasons[20] == ("+1 212 555 0107 0000 0000 0", "the number is too long")


def test_excels_scientific_notation_is_rejected_with_advice(imported):
    record = imported("excel_scientific.csv")
    assert set(members()) == {"+919988066776"}
    assert [(line, reason) for line, _, reason in rejected(record)] == [(2, SPREADSHEET_MANGLED),
                                                                        (3, SPREADSHEET_MANGLED)]


def test_ragged_rows_are_reported_one_by_one_and_the_others_imported(imported):
    record = imported("ragged_rows.csv")
    assert set(members()) == {"+12125550100", "+12125550104"}
    assert rejected(record) == [
        (3, "+1 212 555 0101,Bob,Boston,SAVE10,extra", "row has 5 fields, the header has 4"),
        (4, "+1 212 555 0102,Cy", "row has 2 fields, the header has 4"),
        (5, "+1 212 555 0103,Dee,Austin,SAVE5,,x", "row has 6 fields, the header has 4"),
        (6, "phone,name,city,coupon", "row repeats the header row"),
    ]


def test_a_row_with_broken_quotes_is_rejected_and_the_next_one_imported(imported):
    record = imported("malformed_quotes.csv")
    assert set(members()) == {"+12125550101"}
    assert [line for line, _, _ in rejected(record)] == [2]


def test_markup_in_names_is_stored_as_the_text_it_is(imported):
    imported("xss_names.csv")
    people = members()
    assert people["+12125550100"].name == "<script>alert(1)</script>"
    assert people["+12125550101"].attributes["notes"] == '=HYPERLINK("http://example.com")'


def test_a_phone_column_without_a_phone_header_is_found_by_its_values(imported):
    imported("unlabelled_phone_column.csv")
    people = members()
    assert set(people) == {"+12125550100", "+12125550101", "+12125550102"}
    assert people["+12125550100"].name == "Ann Lee"
    assert people["+12125550100"].attributes == {"joined": "2024-03-01"}


def test_the_chosen_columns_decide_name_and_attributes(imported, tmp_path):
    path = write_csv(tmp_path / "split.csv", ["First", "Last", "Mobile", "City", "Notes"],
                     [["Ann", "Lee", "+1 212 555 0100", "Boston", "call after 5"]])
    imported(path, columns=Columns(phone=2, name=0, last_name=1, attributes=(3,)))
    contact = members()["+12125550100"]
    assert (contact.name, contact.attributes) == ("Ann Lee", {"City": "Boston"})


# --- Duplicates, existing contacts, the list ----------------------------------------------------------

def test_the_same_number_twice_is_a_duplicate_of_its_first_row_even_across_chunks(imported, tmp_path):
    path = write_csv(tmp_path / "twice.csv", ["phone", "name"], [
        ["+1 212 555 0100", "Ann"], ["212.555.0101", "Bob"], ["(212) 555-0100", "Ann again"],
        ["2125550101", "Bob again"], ["+1 212 555 0102", "Cy"]])
    record = imported(path, chunk_rows=2)  # rows 2-3, 4-5, 6: one duplicate within a chunk, one across

    assert counts(record) == {"rows": 5, "added": 3, "updated": 0, "already_in_list": 0, "duplicates": 2,
                              "invalid": 0}
    assert members()["+12125550100"].name == "Ann"  # the first row wins
    assert rejected(record) == [(4, "(212) 555-0100", "the same number as row 2"),
                                (5, "2125550101", "the same number as row 3")]


def test_existing_contacts_are_updated_only_where_the_file_changes_them(imported, tmp_path):
    factories.contact_list("Old friends", [("+12125550100", "Old name", {"city": "Paris", "vip": "yes"})])
    first = imported("utf8.csv")
    contact = members()["+12125550100"]

    assert counts(first)["added"] == 6 and counts(first)["updated"] == 1
    assert contact.name == "José Álvarez"
    assert contact.attributes == {"city": "Nueva York", "vip": "yes"}  # merged, not replaced
    assert "+12125550100" in matching("City", "equals", "nueva york") and not matching("city", "equals", "Paris")
    assert matching("vip", "is_yes", "") == ["+12125550100"]
    again = imported("utf8.csv")
    assert counts(again) == {"rows": 6, "added": 0, "updated": 0, "already_in_list": 6, "duplicates": 0,
                             "invalid": 0}


def test_attribute_types_are_inferred_from_the_whole_file_and_filters_compare_them(imported, tmp_path):
    path = write_csv(tmp_path / "typed.csv", ["phone", "Spent", "Joined", "Member", "Code"], [
        ["+12125550100", "1,250.50", "2024-02-01", "yes", "A1"],
        ["+12125550101", "80", "03/15/2025", "No", "42"],
        ["+12125550102", "", "", "", "7"]])
    imported(path, chunk_rows=2)  # the type of a column is read across chunks
    assert {key: field.type for key, field in fields.known(db.session).items()} == {
        "spent": "number", "joined": "date", "member": "yes_no", "code": "text"}
    assert matching("spent", "greater_than", "100") == ["+12125550100"]
    assert matching("joined", "after", "2025-01-01") == ["+12125550101"]
    assert matching("code", "equals", "a1") == ["+12125550100"]


def test_attributes_keep_every_character_and_a_repeated_value_still_counts_for_the_type(imported, tmp_path):
    # The import writes the attributes' JSON itself and reads each distinct value's types once: a column whose
    # values repeat is still typed by all of them, and quotes, backslashes, line breaks and emoji come back whole.
    odd = 'Zoë "Q" \\ 東京\n🙂'
    path = write_csv(tmp_path / "odd.csv", ["phone", "Note", "Visits", "Since"], [
        ["+12125550100", odd, "12", "2024-02-01"], ["+12125550101", "'=1+1", "12", "2024-02-01"],
        ["+12125550102", odd, "twelve", "2024-02-01"], ["+12125550103", "", "12", "2024-02-01"]])
    imported(path, chunk_rows=2)
    people = members()
    assert people["+12125550100"].attributes == {"Note": odd, "Visits": "12", "Since": "2024-02-01"}
    assert people["+12125550101"].attributes == {"Note": "=1+1", "Visits": "12", "Since": "2024-02-01"}
    assert people["+12125550103"].attributes == {"Visits": "12", "Since": "2024-02-01"}
    assert {key: field.type for key, field in fields.known(db.session).items()} == {
        "note": "text", "visits": "text", "since": "date"}
    assert matching("note", "equals", odd.casefold()) == ["+12125550100", "+12125550102"]
    assert matching("since", "before", "2025-01-01") == sorted(people)


def test_keep_leaves_existing_contacts_as_they_are_and_still_adds_them_to_the_list(imported):
    factories.contact_list("Old friends", [("+12125550100", "Old name", {"city": "Paris"})])
    record = imported("utf8.csv", update_existing=False)
    contact = members()["+12125550100"]
    assert (contact.name, contact.attributes) == ("Old name", {"city": "Paris"})
    assert matching("city", "equals", "Paris") == ["+12125550100"]
    assert counts(record)["added"] == 6 and counts(record)["updated"] == 0


def test_an_import_never_undoes_an_opt_out(imported):
    factories.contact_list("Old friends", ["+12125550100"])
    db.session.execute(db.update(Contact).values(opted_out_at=utcnow(), opt_out_reason="STOP"))
    db.session.commit()
    imported("utf8.csv")
    assert members()["+12125550100"].opted_out_at is not None


def test_a_finished_import_leaves_no_staged_rows_and_deletes_the_uploaded_file(imported):
    record = imported("utf8.csv")
    assert db.session.scalar(select(func.count()).select_from(ImportRow)) == 0
    from pathlib import Path
    assert not Path(record.stored_path).exists()
    assert record.rows_read_at is not None and record.finished_at is not None


def test_a_repeated_job_does_nothing(imported):
    record = imported("utf8.csv")
    assert import_run.run_import(db.session, record.id) is None
    assert len(members()) == 6


# --- Failures change nothing ----------------------------------------------------------------------

def _big_file(tmp_path, rows: int, tail: str = ""):
    path = write_csv(tmp_path / "big.csv", ["phone", "name", "tier"],
                     ([f"+1 212 555 {i:04d}", f"Customer {i}", "gold"] for i in range(100, 100 + rows)))
    if tail:
        with path.open("a", encoding="utf-8") as out:
            out.write(tail)
    return path


@pytest.fixture
def existing_list():
    """A list that already has two members, one of whom the big file names again."""
    return factories.contact_list("Customers", [("+12125550100", "Kept", {"tier": "silver"}),
                                                ("+13125550100", "Other", {})])


def _unchanged(list_name: str = "Customers") -> None:
    people = members(list_name)
    assert set(people) == {"+12125550100", "+13125550100"}
    assert (people["+12125550100"].name, people["+12125550100"].attributes) == ("Kept", {"tier": "silver"})
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 2
    assert db.session.scalar(select(func.count()).select_from(ImportRow)) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportRejection)) == 0


def test_an_import_that_fails_half_way_leaves_the_list_as_it_was(imported, existing_list, tmp_path, monkeypatch):
    read = import_run._ChunkReader.read
    calls = []

    def failing(self, chunk):
        calls.append(len(chunk))
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return read(self, chunk)

    monkeypatch.setattr(import_run._ChunkReader, "read", failing)
    with pytest.raises(RuntimeError):
        imported(_big_file(tmp_path, 50), chunk_rows=10)

    record = db.session.scalars(select(Import)).one()
    db.session.refresh(record)
    assert record.status == "failed" and "RuntimeError" in record.error
    assert record.processed_rows == 20  # two chunks were read, and their progress committed
    _unchanged()


def test_an_import_that_fails_while_merging_rolls_every_change_back(imported, existing_list, tmp_path,
                                                                    monkeypatch):
    real_upsert = import_run.upsert

    def failing_upsert(session, table):
        if table is ListMember.__table__:  # after contacts were inserted and updated, in the same transaction
            raise RuntimeError("connection lost")
        return real_upsert(session, table)

    monkeypatch.setattr(import_run, "upsert", failing_upsert)
    with pytest.raises(RuntimeError):
        imported(_big_file(tmp_path, 30), chunk_rows=10)

    assert db.session.scalars(select(Import)).one().status == "failed"
    _unchanged()


def test_the_merge_commits_in_short_pieces_and_one_whose_worker_died_is_resumed_not_left_half_way(
        imported, existing_list, tmp_path, monkeypatch):
    from webapp.contacts.import_jobs import worker_died
    from webapp.queues import queue

    real_upsert, pieces = import_run.upsert, []

    def dying_in_the_second_piece(session, table):
        if table is ListMember.__table__:
            pieces.append(1)
            if len(pieces) == 2:
                raise RuntimeError("work-horse killed")
        return real_upsert(session, table)

    monkeypatch.setattr(import_run, "upsert", dying_in_the_second_piece)
    with pytest.raises(RuntimeError):
        imported(_big_file(tmp_path, 30), chunk_rows=10, merge_rows=10)
    record = db.session.scalars(select(Import)).one()
    db.session.refresh(record)
    # The first piece was committed on its own: other writers never waited for the whole merge.
    assert record.status == "running" and len(members()) == 2 + 9
    assert db.session.scalar(select(func.count()).select_from(ImportRow)) == 20  # what is left to merge

    monkeypatch.setattr(import_run, "upsert", real_upsert)
    worker_died(db.session, record.id)  # RQ's failure callback, or the page that watches the import
    assert [job.id for job in queue("imports").get_jobs()] == [f"import-{record.id}"]
    record = import_run.run_import(db.session, record.id, merge_rows=10)

    assert record.status == "done"
    assert len(members()) == 2 + 29
    assert counts(record) == {"rows": 30, "added": 29, "updated": 1, "already_in_list": 1, "duplicates": 0,
                              "invalid": 0}
    assert db.session.scalar(select(func.count()).select_from(ImportRow)) == 0


def test_a_file_that_turns_out_broken_half_way_fails_with_its_reason_and_changes_nothing(imported, existing_list,
                                                                                        tmp_path):
    path = _big_file(tmp_path, 200, tail='+1 212 555 9999,"Never closed\n+1 212 555 9998,x\n')
    record = imported(path, chunk_rows=10)

    assert record.status == "failed"
    assert "opens a quote" in record.error
    _unchanged()


def test_progress_is_committed_after_every_chunk(imported, tmp_path, monkeypatch):
    read = import_run._ChunkReader.read
    seen = []

    def watching(self, chunk):
        with db.engine.connect() as other:  # another connection sees only what was committed
            seen.append(other.scalar(select(Import.processed_rows)))
        return read(self, chunk)

    monkeypatch.setattr(import_run._ChunkReader, "read", watching)
    record = imported(_big_file(tmp_path, 25), chunk_rows=10)
    assert seen == [0, 10, 20]
    assert (record.processed_rows, record.total_rows) == (25, 25)


# --- Reports ----------------------------------------------------------------------------------------

def test_the_rejected_rows_csv_has_the_files_columns_line_and_reason_safe_for_spreadsheets(imported):
    record = imported("messy_numbers.csv")
    text = "".join(imports.rejections_csv(db.session, record.id))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["phone", "note", "expected", "line", "reason"]
    assert len(rows) == 13
    assert [row[3:] for row in rows if row[0] == "123"] == [["19", "the number is too short"]]
    assert [row[3:] for row in rows if row[0] == "'+999 123 4567"] == \
        [["21", "the number starts with a country code that does not exist"]]


def test_a_duplicate_row_is_rejected_with_all_its_cells(imported, tmp_path):
    path = write_csv(tmp_path / "twice.csv", ["phone", "name", "city"],
                     [["+1 212 555 0100", "Ann", "Boston"]] + [[f"+1 212 555 {i:04d}", "N", ""] for i in range(101, 130)]
                     + [["(212) 555-0100", "Ann again", "Austin"]])
    record = imported(path, chunk_rows=10)  # the first of the two is in an earlier chunk
    rows = list(csv.reader(io.StringIO("".join(imports.rejections_csv(db.session, record.id)).lstrip("\ufeff"))))
    assert rows[1:] == [["(212) 555-0100", "Ann again", "Austin", "32", "the same number as row 2"]]


def test_rows_rejected_before_their_cells_were_kept_show_their_value_in_the_phone_column(imported):
    record = imported("messy_numbers.csv")
    db.session.execute(update(ImportRejection).values(cells=None))
    db.session.commit()
    rows = list(csv.reader(io.StringIO("".join(imports.rejections_csv(db.session, record.id)).lstrip("\ufeff"))))
    assert ["123", "", "", "19", "the number is too short"] in rows


def test_progress_reports_rate_and_time_left():
    from datetime import timedelta

    now = utcnow()
    record = Import(status="running", started_at=now - timedelta(seconds=10), processed_rows=20_000,
                    total_rows=100_000)
    shown = imports.progress(record, now)
    assert shown.rows_per_second == 2000 and shown.seconds_left == 40 and shown.percent == 20.0
    assert not shown.merging


def test_a_small_file_read_in_under_a_second_shows_no_rate():
    from datetime import timedelta

    now = utcnow()
    record = Import(status="done", started_at=now - timedelta(seconds=0.35), rows_read_at=now, processed_rows=37,
                    total_rows=37)
    shown = imports.progress(record, now)
    assert shown.rows_per_second is None and shown.seconds_left is None and shown.percent == 100.0
