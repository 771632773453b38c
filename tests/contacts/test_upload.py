"""Importing through the pages: the upload form, the column step, the progress fragment and the result."""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from rq.job import Job, JobStatus
from sqlalchemy import func, select

from jobs import imports as import_jobs
from tests import factories
from tests.conftest import post
from tests.contacts.conftest import FIXTURES, confirm, the_import, upload
from webapp.contacts import tags
from webapp.contacts.import_jobs import job_id
from webapp.contacts.models import Contact, ContactList, Import, ListMember
from webapp.extensions import db
from webapp.queues import queue, redis_client
from webapp.workspace.models import WorkspaceSettings


def uploads(app) -> set[str]:
    return set(os.listdir(app.config["UPLOAD_FOLDER"]))


def upload_and_run(client, name: str, **fields) -> Import:
    """Upload, keep the guessed columns, and run the queued job here (the worker tests run it for real)."""
    assert upload(client, name, **fields).status_code == 302
    record = the_import()
    form = client.get(f"/imports/{record.id}/columns").get_data(as_text=True)
    assert confirm(client, record, **_chosen(form)).status_code == 302
    import_jobs.run(record.id)
    return the_import()


def _chosen(form: str) -> dict:
    """The column form's values as the page sets them: selected options and checked boxes."""
    import re

    data: dict = {}
    for name in ("phone", "name", "last_name", "tags"):
        select_html = form.split(f'name="{name}"')[1].split("</select>")[0]
        match = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_html)
        data[name] = next((g for g in match.groups() if g is not None), "") if match else ""
    data["attributes"] = re.findall(r'checked id="attributes-\d+" name="attributes" type="checkbox" value="(\d+)"',
                                    form) or re.findall(r'name="attributes" type="checkbox" value="(\d+)" checked',
                                                        form)
    return data


# --- The upload form ----------------------------------------------------------------------------

def test_the_upload_form_defaults_to_the_workspace_country_and_the_list_in_the_address(staff_client):
    settings = WorkspaceSettings.get()
    settings.default_country = "CL"
    target = factories.contact_list("VIP")
    page = staff_client.get(f"/imports/new?list_id={target.id}").get_data(as_text=True)
    assert '<option selected value="CL">' in page or '<option value="CL" selected>' in page
    assert f'<option selected value="{target.id}">VIP</option>' in page or \
        f'<option value="{target.id}" selected>VIP</option>' in page


def test_an_upload_is_kept_under_a_random_name_and_creates_nothing_until_confirmed(staff_client, app):
    before = uploads(app)
    response = upload(staff_client, "utf8.csv", filename="../../etc/passwd.csv")
    record = the_import()

    assert response.status_code == 302 and response.headers["Location"] == f"/imports/{record.id}/columns"
    added = uploads(app) - before
    assert len(added) == 1 and "passwd" not in next(iter(added))
    assert Path(record.stored_path).parent == Path(app.config["UPLOAD_FOLDER"])
    assert record.status == "uploaded" and record.filename == "passwd.csv"  # werkzeug keeps only the name
    assert db.session.scalar(select(func.count()).select_from(ContactList)) == 0


def test_the_column_step_shows_the_first_rows_and_the_guessed_columns(staff_client):
    upload(staff_client, "customers.xlsx")
    page = staff_client.get(f"/imports/{the_import().id}/columns").get_data(as_text=True)
    assert "<th scope=\"col\">Phone</th>" in page and "Ann Lee" in page and "Ravi Kumar" in page
    chosen = _chosen(page)
    assert (chosen["phone"], chosen["name"]) == ("0", "1")
    assert chosen["attributes"] == ["2", "3", "4"]  # every other column, checked


def test_confirming_queues_one_job_and_shows_progress_that_polls(staff_client):
    upload(staff_client, "utf8.csv", new_list="Spring")
    record = the_import()
    response = confirm(staff_client, record, phone="0", name="1", attributes=["2"])

    assert response.status_code == 302 and response.headers["Location"] == f"/imports/{record.id}"
    assert the_import().status == "queued"
    assert "a new list, “Spring”, made when the import finishes" in \
        staff_client.get(f"/imports/{record.id}").get_data(as_text=True)
    # On a queue of its own: a campaign's launch (on `default`) never waits behind an import.
    assert [job.id for job in queue("imports").get_jobs()] == [f"import-{record.id}"]
    assert queue("default").get_jobs() == []
    fragment = staff_client.get(f"/imports/{record.id}/progress").get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in fragment and "Waiting for a worker" in fragment
    assert confirm(staff_client, record, phone="0").status_code == 302  # a second click starts nothing
    assert len(queue("imports").get_jobs()) == 1


def test_the_result_shows_the_counts_the_rejected_rows_and_stops_polling(staff_client):
    record = upload_and_run(staff_client, "messy_numbers.csv")
    page = staff_client.get(f"/imports/{record.id}").get_data(as_text=True)
    fragment = staff_client.get(f"/imports/{record.id}/progress").get_data(as_text=True)

    assert record.status == "done"
    assert "hx-trigger" not in fragment and "hx-get" not in fragment
    assert "Import done" in page and "Added to the list" in page
    for label, value in (("Added", 12), ("Invalid", 12), ("Duplicates", 0)):
        assert f'aria-label="{label}"' in page and f'<div class="value">{value}</div>' in page
    assert "the number is too short" in page
    assert f'href="/imports/{record.id}/rejections.csv"' in page
    assert f'href="/lists/{record.list_id}"' in page


def _rejections(client, record: Import) -> list[list[str]]:
    response = client.get(f"/imports/{record.id}/rejections.csv", buffered=True)
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_rejected_rows_download_with_every_column_of_the_file_then_line_and_reason(staff_client):
    record = upload_and_run(staff_client, "ragged_rows.csv")
    rows = _rejections(staff_client, record)
    assert rows[0] == ["phone", "name", "city", "coupon", "line", "reason"]
    assert [row[4] for row in rows[1:]] == ["3", "4", "5", "6"]
    assert rows[2] == ["'+1 212 555 0102", "Cy", "", "", "4", "row has 2 fields, the header has 4"]
    # A row wider than the header keeps its extra cells, after the reason.
    assert rows[3] == ["'+1 212 555 0103", "Dee", "Austin", "SAVE5", "5", "row has 6 fields, the header has 4", "",
                       "x"]


def _upload_text_and_run(client, filename: str, text: str, new_list: str) -> Import:
    """Upload a file as a person would (the guessed columns kept) and run its import here."""
    assert post(client, "/imports/new", {"list_id": "", "new_list": new_list, "country": "US",
                                         "existing": "update", "file": (io.BytesIO(text.encode()), filename)},
                content_type="multipart/form-data").status_code == 302
    record = db.session.scalars(select(Import).order_by(Import.id.desc()).limit(1)).one()
    form = client.get(f"/imports/{record.id}/columns").get_data(as_text=True)
    assert confirm(client, record, **_chosen(form)).status_code == 302
    import_jobs.run(record.id)
    return db.session.get(Import, record.id, populate_existing=True)


def test_the_rejected_rows_fixed_in_a_spreadsheet_import_again(staff_client):
    first = _upload_text_and_run(staff_client, "customers.csv", "phone,name,city,coupon\n"
                                 "+1 212 555 0100,Ann,Boston,SAVE10\n555-0175,Bob,Austin,-5%\n", "Customers")
    assert (first.added, first.invalid) == (1, 1)
    rows = _rejections(staff_client, first)
    assert rows[1][:4] == ["555-0175", "Bob", "Austin", "'-5%"] and rows[1][4] == "3"

    rows[1][0] = "+1 212 555 0175"  # the one bad value, fixed
    fixed = io.StringIO()
    csv.writer(fixed).writerows(rows)
    again = _upload_text_and_run(staff_client, "rejected-rows.csv", fixed.getvalue(), "Fixed")

    assert (again.added, again.invalid, again.status) == (1, 0, "done")
    bob = db.session.scalars(select(Contact).where(Contact.phone == "+12125550175")).one()
    assert (bob.name, bob.attributes) == ("Bob", {"city": "Austin", "coupon": "-5%"})  # line and reason left out


@pytest.mark.parametrize("name", ["utf8.csv", "utf8_bom.csv", "utf16.csv", "cp1252.csv", "tab.tsv", "pipe.txt",
                                  "sep_line.csv", "quoted_multiline.csv", "blank_lines_and_trailing_columns.csv",
                                  "customers.xlsx", "unlabelled_phone_column.csv", "excel_scientific.csv"])
def test_every_format_imports_through_the_pages(staff_client, name):
    record = upload_and_run(staff_client, name)
    assert record.status == "done" and record.added >= 1
    assert db.session.scalar(select(func.count()).select_from(ListMember)) == record.added


def test_a_google_contacts_export_imports_its_numbers_names_groups_and_only_its_filled_columns(staff_client):
    upload(staff_client, "google_contacts.csv")
    headers = next(csv.reader((FIXTURES / "google_contacts.csv").open(encoding="utf-8")))
    chosen = _chosen(staff_client.get(f"/imports/{the_import().id}/columns").get_data(as_text=True))
    named = {field: headers[int(chosen[field])] if chosen[field] else None for field in ("phone", "name", "last_name",
                                                                                         "tags")}
    assert named == {"phone": "Phone 1 - Value", "name": "Name", "last_name": None, "tags": "Group Membership"}
    assert [headers[int(i)] for i in chosen["attributes"]] == [  # not the 26 columns empty in every row
        "Given Name", "Family Name", "Birthday", "Notes", "Phone 1 - Type", "Phone 2 - Type", "Phone 2 - Value"]

    assert confirm(staff_client, the_import(), **chosen).status_code == 302
    import_jobs.run(the_import().id)
    record = the_import()
    assert (record.added, record.invalid) == (2, 1)  # Mia's cell holds two numbers
    ann = db.session.scalars(select(Contact).where(Contact.phone == "+12125550100")).one()
    assert (ann.name, ann.attributes["Notes"]) == ("Ann Lee", "Likes croissants")
    assert [tag.name for tag in tags.of_contact(db.session, ann.id)] == ["Regulars"]  # not Google's "* myContacts"


def test_a_spanish_export_imports_with_spain_as_the_country(staff_client):
    record = upload_and_run(staff_client, "semicolon.csv", country="ES")
    assert (record.status, record.added, record.invalid) == ("done", 3, 0)


def test_the_example_file_imports_into_a_new_list_in_one_click(staff_client):
    response = post(staff_client, "/lists/example")
    record = the_import()
    assert response.status_code == 302 and response.headers["Location"] == f"/imports/{record.id}"
    import_jobs.run(record.id)
    record = the_import()

    assert record.status == "done" and record.added >= 25 and record.invalid >= 1
    assert db.session.scalar(select(ContactList.name)) == "Example customers"
    post(staff_client, "/lists/example")
    import_jobs.run(db.session.scalar(select(func.max(Import.id))))
    assert set(db.session.scalars(select(ContactList.name))) == {"Example customers", "Example customers (2)"}


# --- Bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, message", [
    ("empty.csv", "The file is empty"),
    ("header_only.csv", "The file has a header row but no data rows."),
    ("binary.csv", "it contains binary data"),
    ("unsupported.pdf", ".pdf files can&#39;t be imported"),
    ("not_a_workbook.xlsx", "is not a valid Excel workbook"),
    ("empty_first_sheet.xlsx", "The first sheet of this workbook (“Blank”) is empty."),
    ("unterminated_quote.csv", "opens a quote (&#34;) that is never closed"),
])
def test_a_file_rejected_as_a_whole_says_why_on_the_form_and_creates_nothing(staff_client, app, name, message):
    before = uploads(app)
    response = upload(staff_client, name)
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert 'id="file-error"' in page and message in page
    assert db.session.scalar(select(func.count()).select_from(Import)) == 0
    assert db.session.scalar(select(func.count()).select_from(ContactList)) == 0
    assert uploads(app) == before


def test_an_old_excel_file_is_refused_with_advice(staff_client, app):
    response = upload(staff_client, "utf8.csv", filename="customers.xls")
    assert response.status_code == 422
    assert ".xls files can&#39;t be imported" in response.get_data(as_text=True)
    assert "Save it from your spreadsheet program as .xlsx or CSV." in response.get_data(as_text=True)


def test_a_file_over_the_upload_limit_gets_a_readable_page(staff_client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    big = io.BytesIO(b"phone,name\n" + b"+1 212 555 0100,Ann\n" * 200)
    response = post(staff_client, "/imports/new", {"file": (big, "big.csv"), "new_list": "Big", "country": "US"},
                    content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "<html" in page and "File too large" in page and "larger than the upload limit" in page
    assert db.session.scalar(select(func.count()).select_from(Import)) == 0


def test_a_new_list_needs_a_name_that_is_free(staff_client):
    factories.contact_list("Customers")
    taken = upload(staff_client, "utf8.csv", new_list="customers")
    assert taken.status_code == 422 and "There is already a list called “customers”" in taken.get_data(as_text=True)
    unnamed = upload(staff_client, "utf8.csv", new_list="")
    assert unnamed.status_code == 422 and "Name the new list, or choose an existing one." in \
        unnamed.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Import)) == 0


def test_a_file_without_a_phone_column_asks_which_column_it_is(staff_client):
    upload(staff_client, "no_phone_column.csv")
    record = the_import()
    page = staff_client.get(f"/imports/{record.id}/columns").get_data(as_text=True)
    assert "No column of this file looks like phone numbers" in page
    assert _chosen(page)["phone"] == ""

    refused = confirm(staff_client, record, name="0")
    assert refused.status_code == 422
    assert "Choose the column that holds the phone numbers." in refused.get_data(as_text=True)
    assert the_import().status == "uploaded"


def test_the_phone_column_cannot_also_be_the_name(staff_client):
    upload(staff_client, "utf8.csv")
    response = confirm(staff_client, the_import(), phone="0", name="0")
    assert response.status_code == 422 and "The phone column can&#39;t also be the name." in \
        response.get_data(as_text=True)


def test_markup_in_a_file_is_shown_as_text_on_every_page(staff_client):
    upload(staff_client, "xss_names.csv")
    record = the_import()
    columns_page = staff_client.get(f"/imports/{record.id}/columns").get_data(as_text=True)
    confirm(staff_client, record, phone="0", name="1", attributes=["2"])
    import_jobs.run(record.id)
    contact = db.session.scalar(select(Contact).where(Contact.phone == "+12125550100"))
    pages = [columns_page, staff_client.get(f"/lists/{record.list_id}").get_data(as_text=True),
             staff_client.get(f"/contacts/{contact.id}").get_data(as_text=True),
             staff_client.get(f"/lists/{record.list_id}?q=script",
                              headers={"HX-Request": "true", "HX-Target": "members"}).get_data(as_text=True)]
    for page in pages:
        assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- A failed import -----------------------------------------------------------------------------

def test_a_failed_import_says_what_happened_and_that_nothing_changed(staff_client, monkeypatch):
    from webapp.contacts import import_run

    monkeypatch.setattr(import_run, "_merge",
                        lambda session, record, merge_rows: (_ for _ in ()).throw(OSError("disk full")))
    assert upload(staff_client, "utf8.csv").status_code == 302
    record = the_import()
    confirm(staff_client, record, phone="0")
    with pytest.raises(OSError):
        import_jobs.run(record.id)

    fragment = staff_client.get(f"/imports/{record.id}/progress").get_data(as_text=True)
    assert "The import failed" in fragment and "OSError" in fragment
    assert "Nothing was imported: the list is as it was before." in fragment
    assert "hx-trigger" not in fragment


def test_a_failed_import_into_a_new_list_leaves_no_list_behind(staff_client, monkeypatch):
    from webapp.contacts import import_run

    real_upsert = import_run.upsert
    monkeypatch.setattr(import_run, "upsert", lambda session, table: (_ for _ in ()).throw(OSError("gone"))
                        if table is ListMember.__table__ else real_upsert(session, table))
    upload(staff_client, "utf8.csv", new_list="Spring")
    confirm(staff_client, the_import(), phone="0")
    with pytest.raises(OSError):
        import_jobs.run(the_import().id)

    assert the_import().status == "failed"
    assert db.session.scalar(select(func.count()).select_from(ContactList)) == 0
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
    assert "a new list, “Spring”, which was not made" in \
        staff_client.get(f"/imports/{the_import().id}").get_data(as_text=True)


def test_a_queued_import_whose_job_redis_lost_is_queued_again(staff_client, app):
    assert upload(staff_client, "utf8.csv").status_code == 302
    record = the_import()
    confirm(staff_client, record, phone="0")
    app.extensions["redis"].flushall()  # Redis restarted without its data

    fragment = staff_client.get(f"/imports/{record.id}/progress").get_data(as_text=True)
    assert "Waiting for a worker" in fragment
    assert [job.id for job in queue("imports").get_jobs()] == [f"import-{record.id}"]


def test_an_import_whose_worker_was_killed_is_shown_as_failed(staff_client):
    assert upload(staff_client, "utf8.csv").status_code == 302
    record = the_import()
    confirm(staff_client, record, phone="0")
    db.session.execute(db.update(Import).values(status="running"))
    db.session.commit()
    job = Job.fetch(job_id(record.id), connection=redis_client())
    job.set_status(JobStatus.FAILED)  # what RQ records when the work-horse dies under a job

    fragment = staff_client.get(f"/imports/{record.id}/progress").get_data(as_text=True)
    assert "The worker running this import stopped" in fragment and "hx-trigger" not in fragment
    assert the_import().status == "failed"
