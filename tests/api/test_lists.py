"""Lists through the API: create with numbers (bad ones reported by index), read, page, rename, replace, delete."""
from __future__ import annotations

from sqlalchemy import select

from tests import factories
from webapp.contacts.models import Contact, ContactList, ListMember
from webapp.extensions import db


def _members(list_id: int) -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(select(Contact.phone).join(ListMember, ListMember.contact_id == Contact.id)
                                  .where(ListMember.list_id == list_id)))


def test_create_normalises_numbers_and_reports_each_bad_one_by_index(api):
    response = api.post("/lists", {"name": "VIP", "recipients": [
        "+1 415 555 0100", {"phone_number": "(415) 555-0101", "name": "Ana"}, "12", "+14155550100", "call me"]})

    assert response.status_code == 201
    body = response.get_json()["data"]
    assert (body["name"], body["recipient_count"], body["added"], body["duplicates"]) == ("VIP", 2, 2, 1)
    assert [(e["index"], e["recipient"]) for e in body["errors"]] == [(2, "12"), (4, "call me")]
    assert "short" in body["errors"][0]["reason"] and "letters" in body["errors"][1]["reason"]
    assert _members(body["id"]) == {"+14155550100", "+14155550101"}


def test_a_recipient_of_the_wrong_shape_is_an_error_for_its_index_not_the_request(api):
    response = api.post("/lists", {"name": "VIP", "recipients": ["+14155550100", {"name": "no number"}, 7]})

    assert response.status_code == 201
    errors = response.get_json()["data"]["errors"]
    assert [e["index"] for e in errors] == [1, 2]
    assert "phone_number" in errors[0]["reason"]


def test_a_taken_name_is_409_and_a_blank_one_400(api):
    factories.contact_list("Customers")

    taken = api.post("/lists", {"name": "customers"})
    blank = api.post("/lists", {"name": ""})

    assert (taken.status_code, taken.get_json()["error"]["code"]) == (409, "conflict")
    assert (blank.status_code, blank.get_json()["error"]["details"][0]["field"]) == (400, "name")


def test_lists_are_paged_with_counts_and_creation_time(api):
    for i in range(3):
        factories.contact_list(f"List {i}", [f"+1415555010{i}", "+14155550199"])

    first = api.get("/lists", per_page=2).get_json()
    second = api.get("/lists", per_page=2, page=2).get_json()

    assert [row["name"] for row in first["data"]] == ["List 0", "List 1"]
    assert first["meta"] == {"page": 1, "per_page": 2, "total": 3, "pages": 2}
    assert [(row["name"], row["recipient_count"]) for row in second["data"]] == [("List 2", 2)]
    assert second["data"][0]["created_at"].endswith("Z")


def test_one_list_with_a_page_of_its_members(api):
    people = [(f"+1415555{i:04d}", f"Customer {i}", {"city": "Lima"}) for i in range(60)]
    customers = factories.contact_list("Customers", people)

    first = api.get(f"/lists/{customers.id}").get_json()
    second = api.get(f"/lists/{customers.id}", page=2).get_json()
    found = api.get(f"/lists/{customers.id}", q="Customer 59").get_json()

    assert first["data"]["recipient_count"] == 60 and len(first["data"]["recipients"]) == 50
    assert first["data"]["recipients"][0] == {"phone_number": "+14155550000", "name": "Customer 0", "country": "US",
                                              "opted_out": False, "attributes": {"city": "Lima"}}
    assert len(second["data"]["recipients"]) == 10 and first["meta"]["pages"] == 2
    assert [m["name"] for m in found["data"]["recipients"]] == ["Customer 59"]


def test_a_missing_list_is_404(api):
    for response in (api.get("/lists/999"), api.patch("/lists/999", {"name": "x"}), api.delete("/lists/999"),
                     api.post("/lists/999/recipients", {"recipients": ["+14155550100"]})):
        assert (response.status_code, response.get_json()["error"]["code"]) == (404, "not_found")


def test_update_renames_and_replaces_the_members(api):
    customers = factories.contact_list("Customers", ["+14155550100", "+14155550101"])

    response = api.patch(f"/lists/{customers.id}", {"name": "Regulars",
                                                    "recipients": ["+14155550101", "+14155550102", "nope"]})

    body = response.get_json()["data"]
    assert response.status_code == 200
    assert (body["name"], body["added"], body["removed"], body["recipient_count"]) == ("Regulars", 1, 1, 2)
    assert [e["index"] for e in body["errors"]] == [2]
    assert _members(customers.id) == {"+14155550101", "+14155550102"}
    assert db.session.scalar(select(Contact.id).where(Contact.phone == "+14155550100")) is not None


def test_add_numbers_counts_those_already_in_the_list_as_duplicates(api):
    customers = factories.contact_list("Customers", ["+14155550100"])

    body = api.post(f"/lists/{customers.id}/recipients",
                    {"recipients": ["+14155550100", "+14155550101"]}).get_json()["data"]

    assert (body["added"], body["duplicates"], body["recipient_count"]) == (1, 1, 2)


def test_remove_one_number_and_404_for_one_not_in_the_list(api):
    customers = factories.contact_list("Customers", ["+14155550100", "+14155550101"])

    removed = api.delete(f"/lists/{customers.id}/recipients/+1 (415) 555-0100")
    again = api.delete(f"/lists/{customers.id}/recipients/+14155550100")

    assert removed.status_code == 200 and removed.get_json()["data"]["removed"] == 1
    assert again.status_code == 404
    assert _members(customers.id) == {"+14155550101"}


def test_delete_keeps_the_contacts(api):
    list_id = factories.contact_list("Customers", ["+14155550100"]).id

    response = api.delete(f"/lists/{list_id}")

    assert response.get_json() == {"data": {"id": list_id, "deleted": True}}
    db.session.expire_all()
    assert db.session.get(ContactList, list_id) is None
    assert db.session.scalar(select(Contact.id).where(Contact.phone == "+14155550100")) is not None
