"""Filters over all contacts: each kind of condition finds the contacts a person would expect, bad conditions are
refused naming what is wrong, and a condition on something nobody has matches nobody and says so."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from tests import factories
from webapp.audience.conditions import compile_filter, describe
from webapp.audience.errors import FilterError
from webapp.campaigns.models import Recipient
from webapp.contacts import fields, tags
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.inbox.models import Conversation
from webapp.timestamps import utcnow

PEOPLE = [
    ("+33612345601", "Ana", {"City": "Lyon", "age": "34", "joined": "2025-03-01", "vip": "yes"}),
    ("+33612345602", "Bea", {"city": "lyon", "age": "19", "joined": "2026-06-15", "vip": "no"}),
    ("+33612345603", "Cid", {"City": "Paris", "age": "52", "joined": "15/01/2024"}),
    ("+5511987654301", "Dan", {"City": "São Paulo"}),
    ("+15550000005", "Eve", {}),
]


@pytest.fixture
def people(app):
    customers = factories.contact_list("Customers", PEOPLE)
    return customers


def _phones(definition) -> list[str]:
    where = compile_filter(db.session, definition).where
    return sorted(db.session.scalars(select(Contact.phone).where(where)))


def _all(*conditions):
    return {"match": "all", "conditions": list(conditions)}


def _attribute(name, op, value=None):
    return {"field": "attribute", "name": name, "op": op, **({} if value is None else {"value": value})}


def test_the_types_are_inferred_and_the_names_are_one_whatever_their_case(people):
    known = fields.known(db.session)
    assert {key: field.type for key, field in known.items()} == {
        "city": "text", "age": "number", "joined": "date", "vip": "yes_no"}


@pytest.mark.parametrize(("condition", "expected"), [
    (_attribute("CITY", "equals", "LYON"), ["+33612345601", "+33612345602"]),
    (_attribute("city", "not_equals", "Lyon"), ["+15550000005", "+33612345603", "+5511987654301"]),
    (_attribute("city", "contains", "paul"), ["+5511987654301"]),
    (_attribute("city", "one_of", "paris, são paulo"), ["+33612345603", "+5511987654301"]),
    (_attribute("city", "is_empty"), ["+15550000005"]),
    (_attribute("age", "greater_than", "33"), ["+33612345601", "+33612345603"]),
    (_attribute("age", "less_than", "20"), ["+33612345602"]),
    (_attribute("age", "equals", "52"), ["+33612345603"]),
    (_attribute("joined", "before", "2025-06-01"), ["+33612345601", "+33612345603"]),
    (_attribute("joined", "after", "2025-06-01"), ["+33612345602"]),
    (_attribute("joined", "on", "2024-01-15"), ["+33612345603"]),
    (_attribute("vip", "is_yes"), ["+33612345601"]),
    (_attribute("vip", "is_no"), ["+33612345602"]),
    (_attribute("vip", "is_not_empty"), ["+33612345601", "+33612345602"]),
    ({"field": "country", "op": "one_of", "value": ["br", "US"]}, ["+15550000005", "+5511987654301"]),
    ({"field": "country", "op": "not_one_of", "value": "FR"}, ["+15550000005", "+5511987654301"]),
])
def test_each_attribute_and_country_condition_finds_whom_it_says(people, condition, expected):
    assert _phones(_all(condition)) == expected


def test_tags_lists_and_opt_out(people):
    tags.add(db.session, select(Contact.id).where(Contact.name.in_(["Ana", "Cid"])), ["VIP"])
    others = factories.contact_list("Newsletter", ["+33612345602", "+15550000005"])
    db.session.execute(Contact.__table__.update().where(Contact.name == "Eve").values(opted_out_at=utcnow()))
    assert _phones(_all({"field": "tag", "op": "has", "value": "vip"})) == ["+33612345601", "+33612345603"]
    assert _phones(_all({"field": "tag", "op": "has_not", "value": "Vip"})) == [
        "+15550000005", "+33612345602", "+5511987654301"]
    assert _phones(_all({"field": "list", "op": "in", "value": others.id},
                        {"field": "opted_out", "op": "no"})) == ["+33612345602"]
    assert _phones(_all({"field": "list", "op": "not_in", "value": others.id})) == [
        "+33612345601", "+33612345603", "+5511987654301"]
    assert _phones({"match": "any", "conditions": [{"field": "opted_out", "op": "yes"},
                                                   _attribute("city", "equals", "Paris")]}) == [
        "+15550000005", "+33612345603"]


def test_behaviour_received_replied_never_read_and_failed(people):
    ids = dict(db.session.execute(select(Contact.name, Contact.id)).all())
    campaign = factories.campaign(status="sent")
    now = utcnow()
    db.session.execute(insert(Recipient), [
        {"campaign_id": campaign.id, "contact_id": ids["Ana"], "phone": "+33612345601", "status": "sent",
         "reached": 4, "accepted_at": now - timedelta(days=2)},
        {"campaign_id": campaign.id, "contact_id": ids["Bea"], "phone": "+33612345602", "status": "sent",
         "reached": 3, "accepted_at": now - timedelta(days=10)},
        {"campaign_id": campaign.id, "contact_id": ids["Cid"], "phone": "+33612345603", "status": "failed",
         "reached": 1, "error_code": 131026, "accepted_at": now - timedelta(days=1)},
        # A recipient whose contact was deleted: a NOT EXISTS must not be blinded by its NULL.
        {"campaign_id": campaign.id, "contact_id": None, "phone": "+15550009999", "status": "sent",
         "reached": 1, "accepted_at": now},
    ])
    db.session.add(Conversation(contact_id=ids["Dan"], last_message_at=now, last_customer_message_at=now))
    db.session.flush()
    assert _phones(_all({"field": "received", "op": "within_days", "value": 7})) == [
        "+33612345601", "+33612345603"]
    assert _phones(_all({"field": "received", "op": "not_within_days", "value": 7})) == [
        "+15550000005", "+33612345602", "+5511987654301"]
    assert _phones(_all({"field": "replied", "op": "within_days", "value": "3"})) == ["+5511987654301"]
    assert _phones(_all({"field": "read", "op": "never"})) == ["+33612345602", "+33612345603"]
    assert _phones(_all({"field": "failed", "op": "with_code", "value": "131026"})) == ["+33612345603"]
    assert _phones(_all({"field": "failed", "op": "with_code", "value": 131049})) == []


def test_the_issues_segment_city_lyon_tag_vip_not_messaged_in_7_days(people):
    tags.add(db.session, select(Contact.id).where(Contact.name.in_(["Ana", "Bea"])), ["vip"])
    campaign = factories.campaign(status="sent")
    db.session.execute(insert(Recipient), [{"campaign_id": campaign.id, "phone": "+33612345601", "status": "sent",
                                            "contact_id": db.session.scalar(select(Contact.id).where(
                                                Contact.name == "Ana")), "reached": 1, "accepted_at": utcnow()}])
    segment = _all(_attribute("city", "equals", "Lyon"), {"field": "tag", "op": "has", "value": "vip"},
                   {"field": "received", "op": "not_within_days", "value": 7})
    assert _phones(segment) == ["+33612345602"]
    assert describe(db.session, compile_filter(db.session, segment).definition) == [
        "City is “Lyon”", "has tag “vip”", "received no campaign in the last 7 days"]


def test_no_condition_is_every_contact(people):
    assert len(_phones({"match": "all", "conditions": []})) == len(PEOPLE)


def test_what_nobody_has_is_allowed_matches_nobody_and_is_said(people):
    compiled = compile_filter(db.session, _all(_attribute("shoe size", "equals", "42"),
                                               {"field": "tag", "op": "has", "value": "gold"}))
    assert db.session.scalar(select(func.count()).select_from(Contact).where(compiled.where)) == 0
    assert compiled.notes == ["No contact has an attribute “shoe size”: a condition on it matches nobody.",
                              "No contact has the tag “gold”."]


@pytest.mark.parametrize(("condition", "message"), [
    (_attribute("age", "greater_than", "old"), "Condition 1: “age” is a number; “old” is not a number."),
    (_attribute("age", "contains", "3"), "Condition 1: “age” is a number: it can be compared with equals, "
                                         "is greater than, is less than, is empty, is not empty."),
    (_attribute("joined", "before", "next tuesday"),
     "Condition 1: “joined” is a date; “next tuesday” is not a date we can read: write it as 2026-03-31."),
    (_attribute("city", "equals", "  "), "Condition 1: give a value for “City” (or choose “is empty”)."),
    ({"field": "country", "op": "one_of", "value": "XX"},
     "Condition 1: XX: not a country code (two letters, like FR or BR)."),
    ({"field": "received", "op": "within_days", "value": "0"},
     "Condition 1: the number of days is between 1 and 3650."),
    ({"field": "list", "op": "in", "value": 999}, "Condition 1: that list does not exist (it may have been deleted)."),
    ({"field": "colour", "op": "is"}, "Condition 1: “colour” is not a field: use attribute, tag, list, opted_out, "
                                      "country, received, replied, read, failed, clicked."),
])
def test_a_bad_condition_is_refused_naming_it(people, condition, message):
    with pytest.raises(FilterError) as refused:
        compile_filter(db.session, _all(condition))
    assert refused.value.message == message
    assert refused.value.condition == 0


def test_a_type_changed_by_hand_is_compared_as_its_new_type(people):
    fields.set_type(db.session, "Age", "text")
    assert _phones(_all(_attribute("age", "contains", "9"))) == ["+33612345602"]
    assert fields.known(db.session)["age"].type_set_by_hand
