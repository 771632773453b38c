"""Contacts through the API: every contact filtered a keyset page at a time, one contact, batches of up to 1,000
created or updated with a result per item, and tags."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from tests import factories
from webapp.contacts import optouts
from webapp.contacts.models import AttributeField, Contact, ContactValue
from webapp.extensions import db
from webapp.timestamps import utcnow


def _contact(phone: str) -> Contact:
    db.session.expire_all()
    return db.session.scalar(select(Contact).where(Contact.phone == phone))


def _phones(answer) -> list[str]:
    return [row["phone_number"] for row in answer.get_json()["data"]]


def test_a_batch_creates_and_updates_with_a_result_per_item_and_applies_the_good_ones(api):
    factories.contact_list("Customers", [("+14155550100", "Ana", {"City": "Lima", "plan": "gold"})])
    vip = factories.contact_list("VIP")

    answer = api.post("/contacts", {"contacts": [
        {"phone_number": "+1 415 555 0100", "attributes": {"city": "Lyon", "plan": "", "orders": 12}},
        {"phone_number": "(415) 555-0101", "name": "Ben", "tags": ["vip", "Newsletter"], "lists": [vip.id]},
        {"phone_number": "call me"},
        {"phone_number": "+14155550101", "name": "Ben again"},
        {"phone_number": "+14155550102", "lists": [999]},
        {"name": "no number"},
        {"phone_number": "06 12 34 56 78", "country": "FR"},
        {"phone_number": "06 12 34 56 79", "country": "XX"},
    ]})

    body = answer.get_json()["data"]
    assert answer.status_code == 200
    assert (body["created"], body["updated"], body["errors"]) == (2, 1, 5)
    assert [(r["index"], r["status"], (r["error"] or {}).get("code")) for r in body["results"]] == [
        (0, "updated", None), (1, "created", None), (2, "error", "invalid"), (3, "error", "duplicate"),
        (4, "error", "not_found"), (5, "error", "invalid"), (6, "created", None), (7, "error", "invalid")]
    assert "letters" in body["results"][2]["error"]["message"]
    assert "index 1" in body["results"][3]["error"]["message"]
    assert "phone_number" in body["results"][5]["error"]["message"]
    assert body["results"][6]["phone_number"] == "+33612345678"
    assert "XX is not a country code" in body["results"][7]["error"]["message"]
    ana, ben = _contact("+14155550100"), _contact("+14155550101")
    assert ana.attributes == {"City": "Lyon", "orders": "12"}  # merged, its spelling kept, a blank removed
    assert ben.name == "Ben"
    assert _contact("+14155550102") is None
    got = api.get("/contacts/+14155550101").get_json()["data"]
    assert (got["tags"], got["lists"]) == (["Newsletter", "vip"], [{"id": vip.id, "name": "VIP"}])


def test_attributes_written_are_what_filters_read_and_new_names_get_a_type(api):
    api.post("/contacts", {"contacts": [{"phone_number": "+14155550100", "attributes": {"Orders": 3, "city": "Lyon"}},
                                        {"phone_number": "+14155550101", "attributes": {"orders": "12.5"}}]})

    types = dict(db.session.execute(select(AttributeField.key, AttributeField.type)).all())
    big = api.get("/contacts", filter=json.dumps({"conditions": [
        {"field": "attribute", "name": "orders", "op": "greater_than", "value": 5}]}))
    lyon = api.get("/contacts", filter=json.dumps({"conditions": [
        {"field": "attribute", "name": "City", "op": "equals", "value": "LYON"}]}))

    assert types == {"orders": "number", "city": "text"}
    assert _phones(big) == ["+14155550101"]
    assert _phones(lyon) == ["+14155550100"]


def test_an_opted_out_contact_stays_opted_out(api):
    factories.contact_list("Customers", ["+14155550100"])
    optouts.opt_out(db.session, "+14155550100", utcnow(), "STOP")
    db.session.commit()

    result = api.post("/contacts", {"contacts": [{"phone_number": "+14155550100", "name": "Ana"}]}).get_json()

    assert result["data"]["results"][0]["status"] == "updated"
    assert _contact("+14155550100").opted_out and _contact("+14155550100").name == "Ana"


def test_a_batch_of_1001_or_with_an_unknown_country_is_refused_whole(api):
    answer = api.post("/contacts", {"contacts": [{"phone_number": f"+1415555{i:04d}"} for i in range(1001)]})

    unknown_country = api.post("/contacts", {"country": "XX", "contacts": [{"phone_number": "0612345678"}]})

    assert (answer.status_code, answer.get_json()["error"]["code"]) == (413, "payload_too_large")
    assert (unknown_country.status_code, unknown_country.get_json()["error"]["details"][0]["field"]) == \
        (400, "country")
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0


def test_a_retried_batch_with_its_idempotency_key_is_answered_again_and_writes_nothing_new(api):
    batch = {"contacts": [{"phone_number": "+14155550100", "tags": ["vip"]}]}
    first = api.post("/contacts", batch, headers={"Idempotency-Key": "import-7"})
    api.delete("/contacts/+14155550100/tags/vip")

    again = api.post("/contacts", batch, headers={"Idempotency-Key": "import-7"})

    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert api.get("/contacts/+14155550100").get_json()["data"]["tags"] == []


def test_an_item_naming_one_attribute_twice_is_refused_and_changes_nothing(api):
    answer = api.post("/contacts", {"contacts": [{"phone_number": "+14155550100",
                                                  "attributes": {"City": "Lyon", "city": "Paris"}}]})

    assert answer.get_json()["data"]["results"][0]["error"]["code"] == "invalid"
    assert _contact("+14155550100") is None
    assert db.session.scalar(select(func.count()).select_from(ContactValue)) == 0


def test_the_list_filters_and_pages_with_an_opaque_cursor(api):
    people = [(f"+1415555{i:04d}", f"Customer {i}", {"city": "Lyon" if i % 2 else "Lima"}) for i in range(5)]
    customers = factories.contact_list("Customers", people)
    factories.contact_list("Others", [("+33612345678", "Zoé", {})])
    api.post("/contacts/+14155550001/tags", {"tags": ["VIP"]})
    api.post("/contacts/+14155550003/tags", {"tags": ["vip"]})

    first = api.get("/contacts", per_page=2).get_json()
    second = api.get("/contacts", per_page=2, cursor=first["meta"]["next_cursor"]).get_json()
    lyon_vips = api.get("/contacts", list_id=customers.id, tag="vip",
                        filter=json.dumps({"conditions": [{"field": "attribute", "name": "city", "op": "equals",
                                                           "value": "lyon"}]}))

    assert [r["phone_number"] for r in first["data"]] == ["+14155550000", "+14155550001"]
    assert [r["phone_number"] for r in second["data"]] == ["+14155550002", "+14155550003"]
    assert _phones(lyon_vips) == ["+14155550001", "+14155550003"]
    assert _phones(api.get("/contacts", country="fr")) == ["+33612345678"]
    assert _phones(api.get("/contacts", q="Customer 4")) == ["+14155550004"]
    assert _phones(api.get("/contacts", q="555 0002")) == ["+14155550002"]
    assert len(api.get("/contacts", opted_out="no").get_json()["data"]) == 6
    last = api.get("/contacts", per_page=6).get_json()
    assert last["meta"]["next_cursor"] is None


def test_a_tag_nobody_has_matches_nobody_and_says_so(api):
    factories.contact_list("Customers", ["+14155550100"])

    answer = api.get("/contacts", tag="gold").get_json()

    assert answer["data"] == [] and answer["meta"]["notes"] == ["No contact has the tag “gold”."]


def test_bad_filters_are_refused_with_where(api):
    bad_condition = api.get("/contacts", filter=json.dumps({"conditions": [
        {"field": "tag", "op": "has", "value": "vip"}, {"field": "received", "op": "within_days", "value": "x"}]}))
    not_json = api.get("/contacts", filter="{city: Lyon")
    bad_cursor = api.get("/contacts", cursor="nonsense")
    no_list = api.get("/contacts", list_id=999)
    bad_country = api.get("/contacts", country="XX")

    assert (bad_condition.status_code, bad_condition.get_json()["error"]["details"]) == (422, {"condition": 1})
    assert "days" in bad_condition.get_json()["error"]["message"]
    assert (not_json.status_code, not_json.get_json()["error"]["details"][0]["field"]) == (400, "filter")
    assert (bad_cursor.status_code, bad_cursor.get_json()["error"]["details"][0]["field"]) == (400, "cursor")
    assert no_list.status_code == 404
    assert (bad_country.status_code, bad_country.get_json()["error"]["details"][0]["field"]) == (400, "country")


def test_one_contact_by_id_or_number_and_404_otherwise(api):
    factories.contact_list("Customers", [("+14155550100", "Ana", {"city": "Lima"})])
    ana = _contact("+14155550100")

    by_id = api.get(f"/contacts/{ana.id}").get_json()["data"]
    by_number = api.get("/contacts/+1 415 555 0100").get_json()["data"]

    assert by_id == by_number
    assert (by_id["name"], by_id["attributes"], by_id["opted_out"], by_id["lists"][0]["name"]) == \
        ("Ana", {"city": "Lima"}, False, "Customers")
    assert api.get("/contacts/999").status_code == 404
    assert api.get("/contacts/+14155550199").status_code == 404


def test_tags_are_added_taken_off_and_counted(api):
    factories.contact_list("Customers", ["+14155550100", "+14155550101"])

    tagged = api.post("/contacts/+14155550100/tags", {"tags": ["VIP", "newsletter", "vip"]})
    api.post("/contacts/+14155550101/tags", {"tags": ["vip"]})
    untagged = api.delete("/contacts/+14155550100/tags/Vip")
    again = api.delete("/contacts/+14155550100/tags/vip")
    too_long = api.post("/contacts/+14155550100/tags", {"tags": ["x" * 61]})

    assert tagged.get_json()["data"]["tags"] == ["newsletter", "VIP"]
    assert untagged.get_json()["data"]["tags"] == ["newsletter"]
    assert again.status_code == 404
    assert (too_long.status_code, too_long.get_json()["error"]["details"]) == (422, {"field": "tags"})
    counts = {t["name"]: t["contact_count"] for t in api.get("/tags").get_json()["data"]}
    assert counts == {"newsletter": 1, "VIP": 1}


def test_contacts_need_their_scopes(api_as, new_key):
    reader = api_as(new_key(["contacts:read"]))

    assert reader.get("/contacts").status_code == 200
    refused = reader.post("/contacts", {"contacts": [{"phone_number": "+14155550100"}]})
    assert (refused.status_code, refused.get_json()["error"]["details"]["required"]) == (403, "contacts:write")
    assert api_as(new_key(["lists:write"])).get("/contacts").status_code == 403
