"""`flask contacts import`: the same import from a shell, its report, --json, and its exit codes."""
from __future__ import annotations

import csv
import json

from sqlalchemy import func, select

from tests import factories
from tests.contacts.conftest import FIXTURES
from webapp.contacts.models import Contact, ContactList, Import, ListMember
from webapp.extensions import db


def flask_contacts(app, *args: str):
    return app.test_cli_runner().invoke(args=["contacts", "import", *args])


def _members(list_name: str) -> dict[str, Contact]:
    return {c.phone: c for c in db.session.scalars(
        select(Contact).join(ListMember, ListMember.contact_id == Contact.id)
        .join(ContactList, ContactList.id == ListMember.list_id).where(ContactList.name == list_name)
        .execution_options(populate_existing=True))}


def test_import_prints_the_report_and_the_first_rejected_rows(app):
    result = flask_contacts(app, str(FIXTURES / "messy_numbers.csv"), "--list", "Messy")

    assert result.exit_code == 0, result.output
    assert "Imported messy_numbers.csv into “Messy”" in result.output
    assert "added to the list" in result.output and "12" in result.output
    assert "row 19: '123': the number is too short" in result.output
    assert len(_members("Messy")) == 12


def test_json_gives_the_same_report_as_the_page(app):
    result = flask_contacts(app, str(FIXTURES / "ragged_rows.csv"), "--list", "Ragged", "--json")
    report = json.loads(result.output)

    assert result.exit_code == 0
    assert {key: report[key] for key in ("status", "list", "rows", "added", "invalid", "duplicates")} == \
        {"status": "done", "list": "Ragged", "rows": 6, "added": 2, "invalid": 4, "duplicates": 0}
    assert report["import_id"] == db.session.scalar(select(Import.id))


def test_a_file_rejected_as_a_whole_exits_1_and_creates_nothing(app):
    result = flask_contacts(app, str(FIXTURES / "header_only.csv"), "--list", "Nothing", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output) == {"status": "rejected", "file": "header_only.csv",
                                         "error": "The file has a header row but no data rows."}
    plain = flask_contacts(app, str(FIXTURES / "binary.csv"), "--list", "Nothing")
    assert plain.exit_code == 1 and "binary data" in plain.output
    assert db.session.scalar(select(func.count()).select_from(ContactList)) == 0
    assert db.session.scalar(select(func.count()).select_from(Import)) == 0


def test_without_a_phone_like_column_it_asks_for_phone_column(app):
    result = flask_contacts(app, str(FIXTURES / "no_phone_column.csv"), "--list", "People")
    assert result.exit_code == 2
    assert "No column looks like phone numbers; name it with --phone-column" in result.output
    assert "name, email, city" in result.output
    assert db.session.scalar(select(func.count()).select_from(ContactList)) == 0


def test_phone_column_by_name_or_number(app):
    by_name = flask_contacts(app, str(FIXTURES / "unlabelled_phone_column.csv"), "--list", "A",
                             "--phone-column", "Details")
    by_number = flask_contacts(app, str(FIXTURES / "unlabelled_phone_column.csv"), "--list", "B",
                               "--phone-column", "2")
    unknown = flask_contacts(app, str(FIXTURES / "utf8.csv"), "--list", "C", "--phone-column", "mobile")
    assert by_name.exit_code == 0 and by_number.exit_code == 0
    assert set(_members("A")) == set(_members("B")) == {"+12125550100", "+12125550101", "+12125550102"}
    assert unknown.exit_code == 2 and "The file has no column “mobile”" in unknown.output


def test_country_keep_and_an_existing_list(app):
    factories.contact_list("Spain", [("+34612345678", "Old name", {})])
    result = flask_contacts(app, str(FIXTURES / "semicolon.csv"), "--list", "spain", "--country", "es",
                            "--keep", "--json")
    report = json.loads(result.output)
    assert result.exit_code == 0
    assert (report["list"], report["added"], report["already_in_list"], report["updated"]) == ("Spain", 2, 1, 0)
    assert _members("Spain")["+34612345678"].name == "Old name"
    bad = flask_contacts(app, str(FIXTURES / "semicolon.csv"), "--list", "X", "--country", "XX")
    assert bad.exit_code == 2 and "Choose the country" in bad.output


def test_rejections_writes_every_rejected_row(app, tmp_path):
    out = tmp_path / "rejected.csv"
    result = flask_contacts(app, str(FIXTURES / "messy_numbers.csv"), "--list", "Messy", "--rejections", str(out))
    rows = list(csv.reader(out.open(encoding="utf-8-sig")))
    assert result.exit_code == 0
    assert rows[0] == ["phone", "note", "expected", "line", "reason"] and len(rows) == 13


def test_a_failed_import_exits_1_with_its_reason(app, tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_text("phone,name\n" + "".join(f"+1 212 555 {i:04d},N{i}\n" for i in range(100, 160))
                      + '+1 212 555 0999,"never closed\n', encoding="utf-8")
    result = flask_contacts(app, str(broken), "--list", "Broken")
    assert result.exit_code == 1 and "failed" in result.output and "never closed" in result.output
    assert _members("Broken") == {}
