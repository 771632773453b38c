"""Segments through the API — saved, read, changed, deleted, counted (saved or not), a bad condition refused with its
index — and broadcasts to a segment or to contact ids."""
from __future__ import annotations

from sqlalchemy import func, select

from tests import factories
from webapp.audience.models import Segment
from webapp.campaigns.launch import snapshot
from webapp.campaigns.models import Campaign, Recipient
from webapp.contacts import tags
from webapp.contacts.models import Contact, ContactList
from webapp.extensions import db

PEOPLE = [("+15550100001", "Ana", {"city": "Lyon"}), ("+15550100002", "Ben", {"city": "Lyon"}),
          ("+15550100003", "Cy", {"city": "Paris"})]
LYON_VIP = {"match": "all", "conditions": [{"field": "attribute", "name": "CITY", "op": "equals", "value": "lyon"},
                                           {"field": "tag", "op": "has", "value": "vip"}]}


def _people():
    factories.contact_list("Customers", PEOPLE)
    tags.add(db.session, select(Contact.id).where(Contact.name.in_(["Ana", "Cy"])), ["vip"])
    db.session.commit()


def _id(phone: str) -> int:
    return db.session.scalar(select(Contact.id).where(Contact.phone == phone))


def _rows(campaign_id: int) -> list[tuple[str, str]]:
    db.session.expire_all()
    return sorted(tuple(row) for row in db.session.execute(select(Recipient.phone, Recipient.status)
                                                           .where(Recipient.campaign_id == campaign_id)))


def test_a_segment_is_saved_read_counted_changed_and_deleted(api):
    _people()

    created = api.post("/segments", {"name": "Lyon VIPs", "definition": LYON_VIP})
    segment = created.get_json()["data"]
    count = api.get(f"/segments/{segment['id']}/count").get_json()["data"]
    changed = api.patch(f"/segments/{segment['id']}", {"definition": {"conditions": [LYON_VIP["conditions"][0]]}})
    listed = api.get("/segments").get_json()["data"]
    deleted = api.delete(f"/segments/{segment['id']}")

    assert created.status_code == 201
    assert segment["definition"]["conditions"][0] == {"field": "attribute", "name": "city", "type": "text",
                                                      "op": "equals", "value": "lyon"}
    assert segment["described"] == ["city is “lyon”", "has tag “vip”"]
    assert (count["count"], count["notes"]) == (1, [])
    assert changed.get_json()["data"]["name"] == "Lyon VIPs"
    assert api.get(f"/segments/{segment['id']}/count").status_code == 404
    assert [s["name"] for s in listed] == ["Lyon VIPs"]
    assert deleted.get_json() == {"data": {"id": segment["id"], "deleted": True}}
    assert api.get(f"/segments/{segment['id']}").status_code == 404


def test_an_unsaved_definition_is_counted_with_its_notes(api):
    _people()

    lyon = api.post("/segments/count", {"definition": {"conditions": [LYON_VIP["conditions"][0]]}}).get_json()
    nobody = api.post("/segments/count", {"definition": {"match": "any", "conditions": [
        {"field": "attribute", "name": "shoe size", "op": "equals", "value": "42"}]}}).get_json()

    assert lyon["data"]["count"] == 2
    assert nobody["data"]["count"] == 0 and "shoe size" in nobody["data"]["notes"][0]
    assert db.session.scalar(select(Segment.id)) is None


def test_a_bad_condition_is_422_with_its_index_and_saves_nothing(api):
    _people()
    factories.contact_list("Scores", [("+15550100009", "Zed", {"age": "40"})])

    wrong_type = api.post("/segments", {"name": "Old", "definition": {"conditions": [
        LYON_VIP["conditions"][1], {"field": "attribute", "name": "age", "op": "greater_than", "value": "old"}]}})
    no_list = api.post("/segments/count", {"definition": {"conditions": [{"field": "list", "op": "in",
                                                                          "value": 999}]}})
    unknown_op = api.post("/segments/count", {"definition": {"conditions": [{"field": "tag", "op": "is"}]}})
    not_a_list = api.post("/segments/count", {"definition": {"conditions": "tag vip"}})

    assert (wrong_type.status_code, wrong_type.get_json()["error"]["details"]) == (422, {"condition": 1})
    assert "“age” is a number" in wrong_type.get_json()["error"]["message"]
    assert (no_list.status_code, no_list.get_json()["error"]["details"]) == (422, {"condition": 0})
    assert (unknown_op.status_code, unknown_op.get_json()["error"]["details"]) == (422, {"condition": 0})
    assert (not_a_list.status_code, not_a_list.get_json()["error"]["details"][0]["field"]) == \
        (400, "definition.conditions")
    assert db.session.scalar(select(Segment.id)) is None


def test_a_taken_name_is_409_and_a_change_refused_changes_nothing(api):
    first = api.post("/segments", {"name": "VIP", "definition": LYON_VIP}).get_json()["data"]
    other = api.post("/segments", {"name": "Others", "definition": {"conditions": []}}).get_json()["data"]

    taken = api.post("/segments", {"name": "vip", "definition": LYON_VIP})
    renamed = api.patch(f"/segments/{other['id']}", {"name": "VIP "})
    bad = api.patch(f"/segments/{first['id']}", {"name": "New", "definition": {"conditions": [{"field": "nope"}]}})

    assert (taken.status_code, taken.get_json()["error"]["details"]) == (409, {"field": "name"})
    assert renamed.status_code == 409
    assert bad.status_code == 422
    assert api.get(f"/segments/{first['id']}").get_json()["data"]["name"] == "VIP"


def test_segments_need_their_scopes(api_as, new_key):
    reader = api_as(new_key(["segments:read"]))

    assert reader.get("/segments").status_code == 200
    assert reader.post("/segments/count", {"definition": {"conditions": []}}).status_code == 200
    refused = reader.post("/segments", {"name": "x", "definition": {"conditions": []}})
    assert (refused.status_code, refused.get_json()["error"]["details"]["required"]) == (403, "segments:write")
    assert api_as(new_key(["contacts:write"])).get("/segments").status_code == 403


def test_a_broadcast_to_a_segment_sends_to_its_contacts_at_launch(api, templates):
    _people()
    segment = api.post("/segments", {"name": "Lyon VIPs", "definition": LYON_VIP}).get_json()["data"]

    created = api.post("/broadcasts", {"template_name": "order_update", "segment_id": segment["id"],
                                       "variables": {"body:1": {"source": "name"},
                                                     "body:2": {"source": "constant", "value": "#1"}},
                                       "send": True})

    body = created.get_json()
    assert created.status_code == 202
    assert body["data"]["audience"]["segment"] == {"id": segment["id"], "name": "Lyon VIPs", "deleted": False}
    assert (body["forecast"]["total"], body["accepted"]) == (1, 1)
    assert snapshot(body["data"]["id"]) == "sending"
    assert _rows(body["data"]["id"]) == [("+15550100001", "pending")]
    api.delete(f"/segments/{segment['id']}")
    assert api.get(f"/broadcasts/{body['data']['id']}").get_json()["data"]["audience"]["segment"]["deleted"]


def test_a_broadcasts_audience_is_one_kind_and_an_unknown_segment_is_422(api, templates):
    _people()
    customers = db.session.scalar(select(ContactList.id))
    segment = api.post("/segments", {"name": "Lyon VIPs", "definition": LYON_VIP}).get_json()["data"]
    draft = api.post("/broadcasts", {"template_name": "order_update", "list_ids": [customers],
                                     "template_parameters": ["a", "b"]}).get_json()["data"]

    both = api.post("/broadcasts", {"template_name": "order_update", "list_ids": [customers],
                                    "segment_id": segment["id"]})
    unknown = api.post("/broadcasts", {"template_name": "order_update", "segment_id": 999})
    switched = api.patch(f"/broadcasts/{draft['id']}", {"segment_id": segment["id"]}).get_json()["data"]

    assert (both.status_code, both.get_json()["error"]["details"][0]["field"]) == (400, "segment_id")
    assert (unknown.status_code, unknown.get_json()["error"]["details"]) == (422, {"field": "segment_id"})
    assert (switched["audience"]["lists"], switched["audience"]["segment"]["id"]) == ([], segment["id"])
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 1


def test_recipients_given_as_contact_ids_with_unknown_ones_reported_by_index(api, templates):
    _people()
    ana, cy = _id("+15550100001"), _id("+15550100003")

    created = api.post("/broadcasts", {"template_name": "order_update", "template_parameters": ["a", "b"],
                                       "recipients": [ana, {"contact_id": cy, "template_parameters": ["Cy", "#2"]},
                                                      999999, "+14155550100", {"name": "neither"}, ana]})

    report = created.get_json()["recipients"]
    assert (report["added"], report["duplicates"]) == (3, 1)
    assert [(e["index"], e["reason"]) for e in report["errors"]] == [
        (2, "There is no contact 999999."), (4, "Give phone_number or contact_id (one of them).")]
    rows = _rows(created.get_json()["data"]["id"])
    assert rows == [("+14155550100", "pending"), ("+15550100001", "pending"), ("+15550100003", "pending")]
    params = db.session.scalar(select(Recipient.params).where(Recipient.phone == "+15550100003"))
    assert "Cy" in str(params)
