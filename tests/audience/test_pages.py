"""The segments pages: build a segment without code (rows of field, operator and value), see its count and first
contacts as the filter changes, errors on their condition with nothing saved, the list, and delete."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories
from tests.conftest import post
from webapp.audience import segments
from webapp.audience.models import Segment
from webapp.contacts import tags
from webapp.contacts.models import Contact
from webapp.extensions import db

pytestmark = pytest.mark.only_on("sqlite")

PEOPLE = [("+33612345601", "Ana", {"city": "Lyon", "age": "34"}),
          ("+33612345602", "Bea", {"city": "Lyon", "age": "19"}),
          ("+33612345603", "Cid", {"city": "Paris", "age": "52"})]


@pytest.fixture
def people(app):
    factories.contact_list("Customers", PEOPLE)
    tags.add(db.session, select(Contact.id).where(Contact.name.in_(["Ana", "Cid"])), ["vip"])
    db.session.commit()


def _rows(*conditions, name="VIPs Lyon", match="all") -> dict:
    data = {"name": name, "match": match}
    for index, condition in enumerate(conditions):
        data.update({f"c-{index}-{part}": value for part, value in condition.items()})
    return data


CITY_LYON = {"field": "attribute", "name": "city", "op": "equals", "value": "Lyon"}
VIP = {"field": "tag", "op": "has", "value": "vip"}


def test_the_count_and_preview_follow_the_filter_as_it_changes(staff_client, people):
    one = post(staff_client, "/segments/count", _rows(CITY_LYON)).get_data(as_text=True)
    two = post(staff_client, "/segments/count", _rows(CITY_LYON, VIP)).get_data(as_text=True)

    assert "<strong>2</strong> contacts" in one and "Bea" in one
    assert "<strong>1</strong> contact<" in two and "Ana" in two and "Bea" not in two
    assert "<th>city</th>" in two and "<td>Lyon</td>" in two  # the attribute the conditions read


def test_a_number_compared_with_text_shows_on_its_condition_and_nothing_is_saved(staff_client, people):
    bad_age = {"field": "attribute", "name": "age", "op": "greater_than", "value": "old"}

    counted = post(staff_client, "/segments/count", _rows(CITY_LYON, bad_age)).get_data(as_text=True)
    saved = post(staff_client, "/segments/new", _rows(CITY_LYON, bad_age))

    assert 'id="c-1-error" hx-swap-oob="true">“age” is a number; “old” is not a number.' in counted
    assert 'id="c-0-error" hx-swap-oob="true" hidden>' in counted  # the other row's slot is emptied
    assert saved.status_code == 422
    page = saved.get_data(as_text=True)
    assert "Condition 2: “age” is a number; “old” is not a number." in page
    assert db.session.scalars(select(Segment)).all() == []


def test_an_attribute_nobody_has_counts_zero_and_says_so(staff_client, people):
    shoe = {"field": "attribute", "name": "shoe size", "op": "equals", "value": "42"}

    page = post(staff_client, "/segments/count", _rows(shoe)).get_data(as_text=True)

    assert "<strong>0</strong> contacts" in page
    assert "No contact has an attribute “shoe size”: a condition on it matches nobody." in page


def test_a_segment_is_built_row_by_row_without_javascript_and_saved(staff_client, people):
    page = staff_client.get("/segments/new").get_data(as_text=True)
    assert "city (text)" in page and "age (number)" in page  # attributes with their types

    added = post(staff_client, "/segments/new", {**_rows(CITY_LYON), "add": "1"}).get_data(as_text=True)
    assert 'name="c-1-field"' in added and not db.session.scalars(select(Segment)).all()
    removed = post(staff_client, "/segments/new", {**_rows(CITY_LYON, VIP), "remove": "0"}).get_data(as_text=True)
    assert 'name="c-1-field"' not in removed  # one row left, the tag's, numbered 1 as shown
    assert '<option value="tag" selected>' in removed and 'value="vip"' in removed

    response = post(staff_client, "/segments/new", _rows(CITY_LYON, VIP))

    assert response.status_code == 302
    listing = staff_client.get("/segments/").get_data(as_text=True)
    assert "VIPs Lyon" in listing and "city is “Lyon” and has tag “vip”" in listing
    segment = db.session.scalars(select(Segment)).one()
    assert staff_client.get(f"/segments/{segment.id}/count").get_data(as_text=True).strip() == "1"


def test_changing_a_rows_field_draws_the_inputs_that_fit_it(staff_client, people):
    days = staff_client.get("/segments/row", query_string={"c-3-field": "received", "c-3-op": "equals"})
    date = staff_client.get("/segments/row", query_string={"c-3-field": "attribute", "c-3-name": "age",
                                                          "c-3-op": "contains"}).get_data(as_text=True)

    html = days.get_data(as_text=True)
    assert 'value="within_days" selected' in html and 'type="number" id="c-3-value"' in html
    assert days.headers["HX-Trigger-After-Settle"] == "segment-changed"
    assert 'value="greater_than"' in date and 'value="contains"' not in date  # a number's operators


def test_a_taken_name_is_refused_on_the_name_field(staff_client, people):
    segments.create(db.session, "VIPs Lyon", {"conditions": [VIP]}, None)
    db.session.commit()

    response = post(staff_client, "/segments/new", _rows(CITY_LYON, name="vips lyon"))

    assert response.status_code == 422
    assert 'id="name-error">There is already a segment called “vips lyon”.' in response.get_data(as_text=True)


def test_staff_delete_only_their_own_segments_admins_any(client, staff, admin, people):
    from tests.conftest import login

    theirs = segments.create(db.session, "Admin's", {"conditions": [VIP]}, admin.id)
    mine = segments.create(db.session, "Mine", {"conditions": [VIP]}, staff.id)
    db.session.commit()
    login(client, staff.email)

    assert post(client, f"/segments/{theirs.id}/delete").status_code == 403
    assert "Delete “Mine”?" in client.get(f"/segments/{mine.id}/delete").get_data(as_text=True)
    assert post(client, f"/segments/{mine.id}/delete").status_code == 302
    post(client, "/logout")
    login(client, admin.email)
    assert post(client, f"/segments/{theirs.id}/delete").status_code == 302
    assert db.session.scalars(select(Segment)).all() == []
