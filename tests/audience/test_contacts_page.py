"""The Contacts page: every contact across lists, found by name or by a number typed any way, filtered, sorted,
paged by keyset, and changed in bulk — the ticked ones or all matching — with nothing changed on bad input."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select, update

from tests import factories
from tests.conftest import post
from webapp.contacts import tags
from webapp.contacts.models import AttributeField, Contact, ContactEvent, ContactTag, ListMember
from webapp.extensions import db
from webapp.workspace.models import WorkspaceSettings

pytestmark = pytest.mark.only_on("sqlite")

PEOPLE = [
    ("+33612345601", "Ana", {"City": "Lyon", "age": "34"}),
    ("+33612345602", "bea", {"city": "lyon", "age": "19"}),
    ("+33612345603", "Cid", {"City": "Paris", "age": "52"}),
    ("+5511987654301", "Dan", {"City": "São Paulo"}),
    ("+12125550105", "Eve", {}),
]


@pytest.fixture
def people(app):
    factories.contact_list("Customers", PEOPLE)
    factories.contact_list("Newsletter", ["+12125550105"])
    return {phone: db.session.scalar(select(Contact.id).where(Contact.phone == phone)) for phone, *_ in PEOPLE}


def _phones(page: str) -> list[str]:
    return re.findall(r'<td class="mono nowrap" data-label="Phone"><a [^>]*>(\+\d+)</a>', page)


def _page(client, **args) -> str:
    response = client.get("/contacts/", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def test_the_page_lists_every_contact_across_lists_with_its_count_and_is_in_the_menu(staff_client, people):
    page = _page(staff_client)
    assert sorted(_phones(page)) == sorted(people)
    assert "<strong>5</strong> contacts match" in page
    assert '<a href="/contacts/"' in page and ">Contacts</a>" in page


def test_a_number_typed_any_way_finds_its_contact(staff_client, people):
    WorkspaceSettings.get().default_country = "FR"
    db.session.commit()
    for typed in ("+33 6 12 34 56 01", "06 12 34 56 01", "0612345601", "33612345601"):
        assert _phones(_page(staff_client, q=typed)) == ["+33612345601"], typed
    assert _phones(_page(staff_client, q="BEA")) == ["+33612345602"]
    assert sorted(_phones(_page(staff_client, q="061234560"))) == sorted(p for p in people if p.startswith("+336"))


def test_filters_by_list_tag_country_opt_out_and_attribute(staff_client, people):
    newsletter = db.session.scalar(select(ListMember.list_id).where(ListMember.contact_id == people["+12125550105"])
                                   .order_by(ListMember.list_id.desc()))
    tags.add(db.session, select(Contact.id).where(Contact.phone.in_(["+33612345601", "+5511987654301"])), ["VIP"])
    db.session.execute(update(Contact).where(Contact.phone == "+33612345603").values(opted_out_at=func.now()))
    db.session.commit()

    assert _phones(_page(staff_client, list=newsletter)) == ["+12125550105"]
    assert sorted(_phones(_page(staff_client, tag="vip"))) == ["+33612345601", "+5511987654301"]
    assert _phones(_page(staff_client, country="br")) == ["+5511987654301"]
    assert _phones(_page(staff_client, opted_out="yes")) == ["+33612345603"]
    assert sorted(_phones(_page(staff_client, attribute="city", op="equals", value="LYON"))) == \
        ["+33612345601", "+33612345602"]
    assert _phones(_page(staff_client, attribute="age", op="greater_than", value="40")) == ["+33612345603"]
    assert _phones(_page(staff_client, attribute="city", value="Lyon", tag="vip")) == ["+33612345601"]


def test_a_bad_filter_says_what_is_wrong_and_a_filter_on_nothing_known_says_so(staff_client, people):
    response = staff_client.get("/contacts/", query_string={"attribute": "age", "op": "greater_than", "value": "old"})
    assert response.status_code == 422
    assert "“age” is a number; “old” is not a number." in response.get_data(as_text=True)
    page = _page(staff_client, tag="nobody-has-it")
    assert "<strong>0</strong> contacts match" in page and "No contact has the tag “nobody-has-it”." in page


def test_sorts_by_name_number_added_and_updated_both_ways(staff_client, people):
    assert _phones(_page(staff_client, sort="name")) == \
        ["+33612345601", "+33612345602", "+33612345603", "+5511987654301", "+12125550105"]  # any case: bea second
    assert _phones(_page(staff_client, sort="phone", order="desc")) == sorted(people, reverse=True)
    db.session.execute(update(Contact).where(Contact.phone == "+33612345603").values(name="Cyd"))
    db.session.commit()
    assert _phones(_page(staff_client, sort="updated", order="desc"))[0] == "+33612345603"
    assert _phones(_page(staff_client, sort="added")) == _phones(_page(staff_client, sort="added", order="desc"))[::-1]


def test_keyset_pages_walk_forward_and_back_through_equal_sort_values_without_loss_or_repeat(staff_client, app):
    factories.contact_list("Many", [(f"+1212555{i:04d}", "Same", {}) for i in range(120)])  # one name: ties only
    seen, url = [], "/contacts/?sort=name"
    pages = []
    while url:
        page = staff_client.get(url).get_data(as_text=True)
        pages.append(_phones(page))
        seen += pages[-1]
        found = re.search(r'href="(/contacts/\?after=[^"]+)"', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert [len(p) for p in pages] == [50, 50, 20]
    assert len(seen) == len(set(seen)) == 120
    previous = re.search(r'href="(/contacts/\?before=[^"]+)"', page).group(1).replace("&amp;", "&")
    assert _phones(staff_client.get(previous).get_data(as_text=True)) == pages[1]


def _bulk(client, buffered: bool = False, **form):
    return post(client, "/contacts/bulk", form, buffered=buffered)


def _tagged(name: str) -> set[str]:
    return set(db.session.scalars(select(Contact.phone).join(ContactTag, ContactTag.contact_id == Contact.id)
                                  .where(ContactTag.tag_id.in_([t.id for t in tags.ensure(db.session, [name])]))))


def test_tagging_the_ticked_contacts_or_all_matching_the_filter(staff_client, people):
    response = _bulk(staff_client, action="tag", scope="selected", tags="vip; Summer",
                     ids=[people["+33612345601"], people["+12125550105"]])
    assert response.status_code == 302
    assert _tagged("vip") == _tagged("summer") == {"+33612345601", "+12125550105"}

    response = _bulk(staff_client, action="tag", scope="all", tags="lyon", attribute="city", op="equals", value="Lyon")
    assert _tagged("lyon") == {"+33612345601", "+33612345602"}
    assert "2 tags added." in staff_client.get(response.location).get_data(as_text=True)
    assert "value=Lyon" in response.location  # back to the same filter

    _bulk(staff_client, action="untag", scope="all", tags="vip")
    assert _tagged("vip") == set()


def test_adding_all_matching_to_a_list_says_how_many_joined_it(staff_client, people):
    target = factories.contact_list("Lyon people")
    response = _bulk(staff_client, action="add_to_list", scope="all", list_id=target.id, q="lyon-nobody")
    assert db.session.scalar(select(func.count()).where(ListMember.list_id == target.id)) == 0
    _bulk(staff_client, action="add_to_list", scope="all", list_id=target.id, country="FR")
    assert db.session.scalar(select(func.count()).where(ListMember.list_id == target.id)) == 3
    response = _bulk(staff_client, action="add_to_list", scope="all", list_id=target.id)
    assert "2 contacts added to the list." in staff_client.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize(("form", "message"), [
    ({"action": "add_to_list", "list_id": "99999"}, "Choose a list (that one may have been deleted)."),
    ({"action": "tag", "tags": "x" * 61}, "A tag has at most 60 characters"),
    ({"action": "tag", "tags": " , ; "}, "Write the tags, separated by commas."),
    ({"action": "tag", "tags": "vip", "attribute": "age", "op": "greater_than", "value": "old"}, "is not a number"),
    ({"action": "launch"}, "Choose what to do with the contacts."),
])
def test_bad_input_changes_nothing_and_says_why(staff_client, people, form, message):
    before = db.session.scalar(select(func.count()).select_from(ListMember)), _tagged("vip")
    response = _bulk(staff_client, scope="all", **form)
    page = staff_client.get(response.location).get_data(as_text=True)
    assert "Nothing was changed:" in page and message in page
    assert (db.session.scalar(select(func.count()).select_from(ListMember)), _tagged("vip")) == before


def test_nothing_ticked_is_refused(staff_client, people):
    response = _bulk(staff_client, action="tag", scope="selected", tags="vip")
    assert "Tick the contacts to change" in staff_client.get(response.location).get_data(as_text=True)
    assert _tagged("vip") == set()


def test_staff_may_not_opt_out_in_bulk(staff_client, people):
    assert _bulk(staff_client, action="opt_out", scope="all", reason="spam").status_code == 403
    assert db.session.scalar(select(func.count()).where(Contact.opted_out_at.is_not(None))) == 0
    assert "Opt out (admins)" not in _page(staff_client)


def test_an_admin_opts_out_all_matching_with_a_reason_kept_in_each_history(admin_client, people):
    response = _bulk(admin_client, action="opt_out", scope="all", reason="")
    assert "Say why these contacts are opted out" in admin_client.get(response.location).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(Contact.opted_out_at.is_not(None))) == 0

    response = _bulk(admin_client, action="opt_out", scope="all", reason="Asked by email", country="FR")
    assert "3 contacts opted out" in admin_client.get(response.location).get_data(as_text=True)
    opted = db.session.scalars(select(Contact).where(Contact.opted_out_at.is_not(None))
                               .execution_options(populate_existing=True)).all()
    assert {c.phone for c in opted} == {p for p in people if p.startswith("+33")}
    assert {c.opt_out_reason for c in opted} == {"Asked by email (by admin@example.com)"}
    events = db.session.scalars(select(ContactEvent)).all()
    assert len(events) == 3 and {e.kind for e in events} == {"opted_out"}


def test_opting_out_in_bulk_also_opts_out_the_other_form_meta_reports_the_number_by(admin_client, app):
    factories.contact_list("São Paulo", ["+5511987654321", "+551187654321", "+5511987650000"])
    db.session.execute(update(Contact).where(Contact.phone == "+5511987654321").values(wa_id="551187654321"))
    db.session.commit()
    ticked = db.session.scalar(select(Contact.id).where(Contact.phone == "+5511987654321"))
    response = _bulk(admin_client, action="opt_out", scope="selected", ids=[ticked], reason="Asked by phone")
    assert "2 contacts opted out" in admin_client.get(response.location).get_data(as_text=True)
    assert set(db.session.scalars(select(Contact.phone).where(Contact.opted_out_at.is_not(None)))) == \
        {"+5511987654321", "+551187654321"}


def test_export_streams_the_matching_contacts_as_safe_csv(staff_client, people):
    db.session.execute(update(Contact).where(Contact.phone == "+33612345601").values(name="=HYPERLINK(1)"))
    db.session.commit()
    response = _bulk(staff_client, action="export", scope="all", country="FR", buffered=True)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["phone", "name"] and "City" in rows[0]
    assert sorted(row[0] for row in rows[1:]) == sorted(p for p in people if p.startswith("+33"))
    assert "'=HYPERLINK(1)" in [row[1] for row in rows]


# --- The attributes page -------------------------------------------------------------------------------------------

def _row(page: str, name: str) -> str:
    return page.split(f'<td data-label="Attribute">{name}</td>')[1].split("</tr>")[0]


def test_the_attributes_page_lists_each_attribute_with_its_type_and_how_many_have_it(staff_client, people):
    page = staff_client.get("/contacts/attributes").get_data(as_text=True)
    assert "Number" in _row(page, "age") and '<td class="num" data-label="Contacts">3</td>' in _row(page, "age")
    assert "Text" in _row(page, "City") and '<td class="num" data-label="Contacts">4</td>' in _row(page, "City")
    assert "<select" not in page and "Only admins can change a type." in page
    assert post(staff_client, "/contacts/attributes/type", {"name": "age", "type": "text"}).status_code == 403
    assert db.session.get(AttributeField, "age").type == "number"


def test_an_admin_changes_a_type_and_filters_compare_by_it(admin_client, people):
    response = post(admin_client, "/contacts/attributes/type", {"name": "AGE", "type": "text"})
    assert "“age” is compared as text in filters" in admin_client.get(response.location).get_data(as_text=True)
    field = db.session.get(AttributeField, "age", populate_existing=True)
    assert (field.type, field.type_set_by_hand) == ("text", True)
    assert _phones(_page(admin_client, attribute="age", op="contains", value="9")) == ["+33612345602"]

    for form, message in (({"name": "age", "type": "colour"}, "“colour” is not a type"),
                          ({"name": "shoe size", "type": "number"}, "No contact has an attribute “shoe size”.")):
        response = post(admin_client, "/contacts/attributes/type", form)
        assert message in admin_client.get(response.location).get_data(as_text=True)
    assert db.session.get(AttributeField, "age", populate_existing=True).type == "text"
