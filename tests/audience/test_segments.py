"""Segments as a service (the pages and the API call it): saved under a unique name with their conditions
normalised, counted and previewed in SQL, refused with a clear error that changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories
from webapp.audience import segments
from webapp.audience.errors import FilterError
from webapp.audience.models import Segment
from webapp.contacts import tags
from webapp.contacts.models import Contact
from webapp.extensions import db

LYON_VIP = {"match": "all", "conditions": [
    {"field": "attribute", "name": "CITY", "op": "equals", "value": "lyon"},
    {"field": "tag", "op": "has", "value": "VIP"}]}


@pytest.fixture
def people(app):
    factories.contact_list("Customers", [
        ("+33612345601", "Ana", {"city": "Lyon", "age": "34"}),
        ("+33612345602", "Bea", {"city": "Lyon", "age": "19"}),
        ("+33612345603", "Cid", {"city": "Paris", "age": "52"}),
    ])
    tags.add(db.session, select(Contact.id).where(Contact.name.in_(["Ana", "Cid"])), ["vip"])
    db.session.commit()


def test_a_segment_is_saved_with_its_conditions_normalised_and_counts_its_contacts(people):
    segment = segments.create(db.session, "  VIPs   Lyon ", LYON_VIP, None)
    db.session.commit()
    assert segment.name == "VIPs Lyon"
    assert segment.definition["conditions"][0] == {"field": "attribute", "name": "city", "type": "text",
                                                   "op": "equals", "value": "lyon"}
    assert segment.definition["conditions"][1] == {"field": "tag", "op": "has", "value": "vip"}
    counted = segments.count(db.session, segment.definition)
    assert (counted.total, counted.notes) == (1, [])
    assert [c.name for c in segments.preview(db.session, {"conditions": []}, 2)] == ["Ana", "Bea"]


def test_a_name_taken_whatever_its_case_is_a_conflict_and_nothing_is_saved(people):
    segments.create(db.session, "VIPs Lyon", LYON_VIP, None)
    with pytest.raises(FilterError) as error:
        segments.create(db.session, "vips lyon", LYON_VIP, None)
    assert (error.value.code, error.value.field) == ("conflict", "name")
    assert "already a segment called “vips lyon”" in error.value.message
    other = segments.create(db.session, "Others", None, None)
    with pytest.raises(FilterError):
        segments.update(db.session, other.id, name="VIPS LYON")
    assert db.session.get(Segment, other.id).name == "Others"


def test_a_bad_condition_names_itself_and_an_update_keeps_the_old_conditions(people):
    segment = segments.create(db.session, "Adults", {"conditions": [
        {"field": "attribute", "name": "age", "op": "greater_than", "value": "18"}]}, None)
    with pytest.raises(FilterError) as error:
        segments.update(db.session, segment.id, name="Renamed", definition={"conditions": [
            {"field": "tag", "op": "has", "value": "vip"},
            {"field": "attribute", "name": "age", "op": "greater_than", "value": "old"}]})
    assert error.value.condition == 1
    assert "“age” is a number; “old” is not a number" in error.value.message
    assert (segment.name, segment.definition["conditions"][0]["value"]) == ("Adults", 18.0)


def test_an_unknown_segment_is_not_found(people):
    for call in (lambda: segments.update(db.session, 999, name="x"), lambda: segments.delete(db.session, 999),
                 lambda: segments.get(db.session, 999)):
        with pytest.raises(FilterError) as error:
            call()
        assert error.value.code == "not_found"


def test_a_condition_on_an_attribute_nobody_has_counts_zero_and_says_so(people):
    counted = segments.count(db.session, {"conditions": [
        {"field": "attribute", "name": "shoe size", "op": "equals", "value": "42"}]})
    assert counted.total == 0
    assert counted.notes == ["No contact has an attribute “shoe size”: a condition on it matches nobody."]


def test_the_campaigns_composed_for_a_segment_are_found(people):
    vip = segments.create(db.session, "VIPs", {"conditions": [{"field": "tag", "op": "has", "value": "vip"}]}, None)
    other = segments.create(db.session, "Others", None, None)
    sender = factories.sender()
    for name, segment in (("First", vip), ("Second", vip), ("Elsewhere", other)):
        factories.campaign("draft", name=name, sender=sender,
                           audience={"segment": {"id": segment.id, "name": segment.name, "definition": {}}})
    factories.campaign("draft", name="To a list", sender=sender, audience={"lists": [1]})

    used = segments.used_by(db.session, [vip.id, other.id])

    assert {key: [c.name for c in found] for key, found in used.items()} == {
        vip.id: ["Second", "First"], other.id: ["Elsewhere"]}


def test_a_filter_read_past_an_id_finds_the_same_contacts_past_it(people):
    from webapp.audience.conditions import compile_filter

    definition = {"match": "any", "conditions": [*LYON_VIP["conditions"],
                                                 {"field": "received", "op": "not_within_days", "value": 7}]}
    first = db.session.scalar(select(Contact.id).order_by(Contact.id))

    def names(after):
        where = compile_filter(db.session, definition, after).where
        return sorted(db.session.scalars(select(Contact.name).where(where, Contact.id > first)))

    assert names(first) == names(0) == ["Bea", "Cid"]


def test_a_number_or_a_date_left_blank_asks_for_a_value(people):
    for name in ("age", "city"):
        with pytest.raises(FilterError) as error:
            segments.count(db.session, {"conditions": [
                {"field": "attribute", "name": name, "op": "greater_than" if name == "age" else "equals",
                 "value": " "}]})
        assert error.value.message == f"Condition 1: give a value for “{name}” (or choose “is empty”)."
