"""The API maps list contacts' attributes by the compose page's rule: whatever their case, and never one that no
contact of the audience has."""
from __future__ import annotations

from sqlalchemy import func, select

from tests import factories
from webapp.campaigns.models import Campaign
from webapp.extensions import db


def test_an_attribute_no_contact_has_is_refused_with_a_json_error_naming_it(api, templates):
    customers = factories.contact_list("Customers", [("+14155550100", "Ana", {"City": "Lima"})])

    response = api.post("/broadcasts", {"template_name": "order_update", "list_ids": [customers.id], "variables": {
        "body:1": {"source": "first_name"}, "body:2": {"source": "attribute", "value": "Citty"}}})

    error = response.get_json()["error"]
    assert (response.status_code, error["code"]) == (422, "unprocessable")
    assert error["message"] == "No contact in this list has an attribute “Citty”. Known: City."
    assert error["details"]["field"] == "var:body:2"
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0
    taken = api.post("/broadcasts", {"template_name": "order_update", "list_ids": [customers.id], "variables": {
        "body:1": {"source": "first_name"}, "body:2": {"source": "attribute", "value": "city"}}})
    assert taken.status_code == 201 and taken.get_json()["forecast"]["sendable"] == 1
