"""The OpenAPI document: valid OpenAPI 3.1, and every operation's answer checked against it (see conftest.py)."""
from __future__ import annotations

from openapi_spec_validator import validate
from sqlalchemy import select

from tests import factories
from tests.api.conftest import SEEN
from webapp.api.views import api as declared
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.inbox.models import Conversation
from webapp.timestamps import utcnow


def test_the_document_is_valid_openapi_3_1_and_public(client):
    response = client.get("/api/v1/openapi.json")

    document = response.get_json()
    assert response.status_code == 200 and document["openapi"] == "3.1.0"
    validate(document)
    assert len({op["operationId"] for path in document["paths"].values() for op in path.values()}) == \
        len(declared.operations)
    create = document["paths"]["/broadcasts"]["post"]
    assert create["x-scope"] == "broadcasts:send"
    assert set(create["responses"]) >= {"201", "202", "400", "401", "403", "409", "413", "422", "429"}
    assert "Retry-After" in create["responses"]["429"]["headers"]
    assert {"/contacts", "/contacts/{contact}", "/contacts/{contact}/tags", "/contacts/{contact}/tags/{tag}", "/tags",
            "/segments", "/segments/{segment_id}", "/segments/{segment_id}/count", "/segments/count"} <= \
        set(document["paths"])
    assert document["paths"]["/contacts"]["post"]["x-scope"] == "contacts:write"
    assert "413" in document["paths"]["/contacts"]["post"]["responses"]


def test_every_operation_answers_as_the_document_says(api, templates, sender):
    """One successful call of each endpoint, in the order a client would make them; conftest checks each answer."""
    customers = factories.contact_list("Customers", [("+14155550100", "Ana", {})])
    done = factories.campaign(status="sending", sender=sender, phones=["+14155550109"], started_at=utcnow())
    ana = db.session.scalar(select(Contact).where(Contact.phone == "+14155550100"))
    db.session.add(Conversation(contact_id=ana.id, last_message_at=utcnow(), last_customer_message_at=utcnow()))
    db.session.commit()
    SEEN.clear()

    list_id = api.post("/lists", {"name": "VIP", "recipients": ["+14155550101"]}).get_json()["data"]["id"]
    api.get("/lists")
    api.get(f"/lists/{list_id}")
    api.patch(f"/lists/{list_id}", {"name": "VIPs"})
    api.post(f"/lists/{list_id}/recipients", {"recipients": ["+14155550102"]})
    api.delete(f"/lists/{list_id}/recipients/+14155550102")
    api.post(f"/lists/{customers.id}/send", {"template_name": "order_update", "template_parameters": ["a", "b"]})
    api.post(f"/lists/{customers.id}/send", {"template_name": "order_update", "template_parameters": ["a", "b"],
                                             "schedule_at": "2099-01-01T00:00:00Z"})
    api.delete(f"/lists/{list_id}")
    draft = api.post("/broadcasts", {"template_name": "order_update"}).get_json()["data"]["id"]
    api.post("/broadcasts", {"template_name": "order_update", "template_parameters": ["a", "b"],
                             "recipients": ["+14155550103"], "send": True})
    api.patch(f"/broadcasts/{draft}", {"name": "Renamed"})
    api.post(f"/broadcasts/{draft}/recipients", {"recipients": [{"phone_number": "+14155550104",
                                                                 "template_parameters": ["a", "b"]}]})
    api.get(f"/broadcasts/{draft}")
    api.get("/broadcasts")
    row = api.get(f"/broadcasts/{draft}/recipients").get_json()["data"][0]["id"]
    api.get(f"/broadcasts/{draft}/recipients/{row}")
    api.get(f"/broadcasts/{draft}/clicks")
    api.get("/recipients", phone_number="+14155550104")
    api.post(f"/broadcasts/{draft}/send")
    api.post(f"/broadcasts/{done.id}/pause")
    api.post(f"/broadcasts/{done.id}/resume")
    api.post(f"/broadcasts/{done.id}/cancel")
    other = api.post("/broadcasts", {"template_name": "order_update"}).get_json()["data"]["id"]
    api.delete(f"/broadcasts/{other}")
    api.get("/dashboard")
    api.get("/dashboard/report", days=7, group="week")
    api.get("/conversations")
    api.post("/messages", {"to": "+14155550100", "type": "text", "text": "Yes, in blue"})
    api.get("/conversations/+14155550100/messages")
    api.post(f"/lists/{customers.id}/messages", {"type": "text", "text": "We open at 9"})
    api.post("/contacts", {"contacts": [{"phone_number": "+14155550105", "tags": ["vip"]}]})
    api.get("/contacts")
    api.get("/contacts/+14155550105")
    api.post("/contacts/+14155550105/tags", {"tags": ["gold"]})
    api.delete("/contacts/+14155550105/tags/gold")
    api.get("/tags")
    segment = api.post("/segments", {"name": "VIP", "definition": {"conditions": [
        {"field": "tag", "op": "has", "value": "vip"}]}}).get_json()["data"]["id"]
    api.get("/segments")
    api.get(f"/segments/{segment}")
    api.patch(f"/segments/{segment}", {"name": "VIPs"})
    api.get(f"/segments/{segment}/count")
    api.post("/segments/count", {"definition": {"match": "any", "conditions": []}})
    api.post("/broadcasts", {"template_name": "order_update", "template_parameters": ["a", "b"],
                             "segment_id": segment})
    api.delete(f"/segments/{segment}")
    api.get("/senders")
    api.get("/templates")
    api.get("/openapi.json", key=None)

    answered = {name for name, status in SEEN if status < 300}
    assert answered == {op.name for op in declared.operations}
    every_success = {(op.name, status) for op in declared.operations for status in op.statuses if status < 300}
    assert every_success <= SEEN
