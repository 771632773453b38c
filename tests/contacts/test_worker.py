"""Imports run by the real RQ worker process, as in production: a file through the pages, and one that fails."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import post
from tests.contacts.conftest import confirm, the_import, upload, write_csv
from tests.processes import ProcessSet, wait_until
from webapp.contacts.models import Contact, ContactList, ImportRejection, ImportRow, ListMember
from webapp.extensions import db

# PostgreSQL: the browser import test runs a real worker on SQLite.
pytestmark = [pytest.mark.slow, pytest.mark.flow, pytest.mark.only_on("postgresql")]


@pytest.fixture
def worker(app):
    processes = ProcessSet(app)
    processes.worker("imports")  # as the Procfile runs it
    yield processes
    processes.stop()


def _finished(worker: ProcessSet):
    def check():
        db.session.commit()  # a fresh snapshot each time
        record = the_import()
        return record if record.status in ("done", "failed") else None

    try:
        return wait_until(check, timeout=60, message="the import to finish")
    except AssertionError:
        print(worker.output())
        raise


def _member_phones(list_id: int) -> set[str]:
    return set(db.session.scalars(select(Contact.phone).join(ListMember, ListMember.contact_id == Contact.id)
                                  .where(ListMember.list_id == list_id)))


def test_a_workbook_uploaded_through_the_pages_is_imported_by_the_worker(staff_client, worker):
    upload(staff_client, "customers.xlsx", new_list="From Excel")
    confirm(staff_client, the_import(), phone="0", name="1", attributes=["2", "4"])
    record = _finished(worker)

    assert record.status == "done", record.error
    assert (record.added, record.invalid, record.total_rows) == (4, 1, 5)
    assert _member_phones(record.list_id) == {"+12125550100", "+919988066776", "+442079460958", "+12125550101"}
    ann = db.session.scalar(select(Contact).where(Contact.phone == "+12125550100"))
    assert ann.attributes == {"City": "Boston", "Spent": "12.5"}
    page = staff_client.get(f"/imports/{record.id}/progress").get_data(as_text=True)
    assert "Import done" in page and "hx-trigger" not in page


def test_the_example_file_is_imported_by_the_worker(staff_client, worker):
    post(staff_client, "/lists/example")
    record = _finished(worker)
    assert record.status == "done" and record.added >= 25
    assert db.session.scalar(select(ContactList.name)) == "Example customers"


def test_a_file_that_breaks_after_two_chunks_leaves_the_list_as_it_was(staff_client, worker, tmp_path):
    existing = factories.contact_list("Customers", [("+12125550100", "Kept", {"tier": "silver"}),
                                                    ("+13125550100", "Other", {})])
    path = write_csv(tmp_path / "big.csv", ["phone", "name", "tier"],
                     ([f"+1 646 555 {i % 10000:04d}" if i < 10000 else f"+1 917 555 {i % 10000:04d}",
                       f"Customer {i}", "gold"] for i in range(12_000)))
    with path.open("a", encoding="utf-8") as out:
        out.write('+1 212 555 0100,"Kept, unclosed\n+1 212 555 0101,x\n')
    with path.open("rb") as file:
        response = post(staff_client, "/imports/new", {"file": (file, "big.csv"), "list_id": str(existing.id),
                                                       "country": "US", "existing": "update"},
                        content_type="multipart/form-data")
    assert response.status_code == 302
    confirm(staff_client, the_import(), phone="0", name="1", attributes=["2"])
    record = _finished(worker)

    assert record.status == "failed" and "opens a quote" in record.error
    assert record.processed_rows >= 10_000  # two chunks of 5,000 had been staged
    assert _member_phones(existing.id) == {"+12125550100", "+13125550100"}
    kept = db.session.scalar(select(Contact).where(Contact.phone == "+12125550100"))
    assert (kept.name, kept.attributes) == ("Kept", {"tier": "silver"})
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 2
    assert db.session.scalar(select(func.count()).select_from(ImportRow)) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportRejection)) == 0
    page = staff_client.get(f"/imports/{record.id}").get_data(as_text=True)
    assert "The import failed" in page and "Nothing was imported: the list is as it was before." in page
