"""Tags by import: a file's "tags" column (commas or semicolons) and a tag for every contact of the file, applied at
the merge to new and existing contacts alike; a row with a bad tag is rejected with why, and a bad file tag stops
nothing but the form."""
from __future__ import annotations

from sqlalchemy import select

from tests import factories
from tests.conftest import post
from tests.contacts.conftest import confirm, the_import, write_csv
from webapp.contacts import tags
from webapp.contacts.columns import Columns
from webapp.contacts.models import Contact, ImportRejection, ImportRow
from webapp.extensions import db

HEADER = ["phone", "name", "Tags", "city"]
ROWS = [
    ["+12125550100", "Ana", "VIP; lyon", "Lyon"],
    ["+12125550101", "Bea", "vip,newsletter", "Paris"],
    ["+12125550102", "Cid", "", "Nice"],
    ["+12125550103", "Dan", "x" * 61, "Lyon"],
]


def _tags_of(phone: str) -> list[str]:
    contact_id = db.session.scalar(select(Contact.id).where(Contact.phone == phone))
    return [tag.name for tag in tags.of_contact(db.session, contact_id)]


def test_a_tags_column_and_a_tag_for_the_whole_file_tag_every_contact_at_the_merge(app, imported, tmp_path):
    factories.contact_list("Earlier", [("+12125550101", "Bea", {})])  # an existing contact is tagged too
    path = write_csv(tmp_path / "fair.csv", HEADER, ROWS)
    record = imported(path, columns=Columns(0, 1, None, (3,), tags=2, file_tags=("Fair 2026",)), merge_rows=2)

    assert record.status == "done" and record.added == 3
    assert _tags_of("+12125550100") == ["Fair 2026", "lyon", "VIP"]
    assert _tags_of("+12125550101") == ["Fair 2026", "newsletter", "VIP"]  # one tag whatever its case
    assert _tags_of("+12125550102") == ["Fair 2026"]
    assert db.session.scalar(select(Contact.attributes).where(Contact.phone == "+12125550100")) == {"city": "Lyon"}
    rejection = db.session.scalars(select(ImportRejection).where(ImportRejection.import_id == record.id)).one()
    assert rejection.line == 5 and "A tag has at most 60 characters" in rejection.reason
    assert db.session.scalar(select(ImportRow.phone)) is None  # staging emptied


def test_a_column_named_tags_is_offered_as_tags_and_a_bad_file_tag_is_refused_on_its_field(admin_client, tmp_path):
    path = write_csv(tmp_path / "shop.csv", HEADER, ROWS[:2])
    with path.open("rb") as file:
        response = post(admin_client, "/imports/new", {"list_id": "", "new_list": "Shop", "country": "US",
                                                       "existing": "update", "file": (file, "shop.csv")},
                        content_type="multipart/form-data")
    record = the_import()
    page = admin_client.get(response.location).get_data(as_text=True)
    assert "Tag every contact of this file" in page
    assert '<option selected value="2">Tags</option>' in page.split('id="tags"')[1].split("</select>")[0]

    response = post(admin_client, f"/imports/{record.id}/columns",
                    {"phone": "0", "name": "1", "tags": "2", "file_tags": "ok, " + "y" * 70})
    assert response.status_code == 422 and "A tag has at most 60 characters" in response.get_data(as_text=True)
    assert the_import().status == "uploaded" and tags.in_use(db.session) == []

    response = confirm(admin_client, record, phone="0", name="1", tags="2", file_tags="shop")
    assert response.status_code == 302 and the_import().options["columns"]["file_tags"] == ["shop"]


def test_a_google_contacts_groups_cell_gives_its_groups_as_tags_but_not_the_group_everyone_is_in():
    assert tags.from_file("* myContacts ::: * starred ::: VIP;Lyon") == ["starred", "VIP", "Lyon"]
    assert tags.from_file("* myContacts") == []
    assert tags.from_file("vip, * starred, Vip") == ["vip", "starred"]
