"""The Lists pages: the index with its counts, creating, renaming and deleting lists, members, search and export."""
from __future__ import annotations

import csv
import io

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select, update

from tests import factories
from tests.conftest import post
from webapp.campaigns.models import Recipient
from webapp.contacts import export, services
from webapp.contacts.models import Contact, ContactList, ListMember
from webapp.extensions import db
from webapp.timestamps import utcnow
from webapp.workspace.models import WorkspaceSettings


def _people(count: int, start: int = 100, prefix: str = "+1212555"):
    return [(f"{prefix}{i:04d}", f"Customer {i}", {"tier": "gold"}) for i in range(start, start + count)]


def _opt_out(*phones: str) -> None:
    db.session.execute(db.update(Contact).where(Contact.phone.in_(phones))
                       .values(opted_out_at=utcnow(), opt_out_reason="STOP"))
    db.session.commit()


def _list_named(name: str) -> ContactList | None:
    return db.session.scalar(select(ContactList).where(ContactList.name == name)
                             .execution_options(populate_existing=True))


def _member_phones(list_id: int) -> set[str]:
    return set(db.session.scalars(select(Contact.phone).join(ListMember, ListMember.contact_id == Contact.id)
                                  .where(ListMember.list_id == list_id)))


# --- The index ---------------------------------------------------------------------------------------

def test_the_empty_lists_page_offers_the_example_file_in_one_click(staff_client):
    page = staff_client.get("/lists/").get_data(as_text=True)
    assert "No lists yet" in page
    assert 'action="/lists/example"' in page and "Try it with an example file" in page


def test_the_main_navigation_shows_lists(staff_client):
    assert 'href="/lists/"' in staff_client.get("/").get_data(as_text=True)


def test_the_index_shows_each_list_with_its_member_and_opted_out_counts(staff_client):
    factories.contact_list("Boston", _people(3))
    factories.contact_list("Austin", _people(2, start=200))
    factories.contact_list("Empty")
    _opt_out("+12125550100")

    summaries = {s.name: (s.members, s.opted_out) for s in services.list_summaries(db.session)}
    assert summaries == {"Austin": (2, 0), "Boston": (3, 1), "Empty": (0, 0)}
    page = staff_client.get("/lists/").get_data(as_text=True)
    assert page.index("Austin") < page.index("Boston") < page.index("Empty")


def test_the_index_runs_the_same_queries_for_one_list_or_twenty(staff_client, app):
    def queries_for_index() -> int:
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert staff_client.get("/lists/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    factories.contact_list("List 0", _people(2))
    one = queries_for_index()
    for number in range(1, 20):
        factories.contact_list(f"List {number}", _people(2, start=100 + 10 * number))
    assert queries_for_index() == one


# --- Create, rename, delete --------------------------------------------------------------------------

def test_create_a_list_and_land_on_it(staff_client):
    response = post(staff_client, "/lists/", {"name": "  Spring   buyers "})
    created = _list_named("Spring buyers")
    assert created is not None
    assert response.status_code == 302 and response.headers["Location"] == f"/lists/{created.id}"


def test_a_list_name_in_use_in_any_case_is_refused_on_the_field(staff_client):
    factories.contact_list("VIP")
    response = post(staff_client, "/lists/", {"name": "vip"})
    assert response.status_code == 422
    assert "There is already a list called “vip”." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ContactList)) == 1


def test_a_blank_list_name_is_refused(staff_client):
    response = post(staff_client, "/lists/", {"name": "   "})
    assert response.status_code == 422 and "Give the list a name." in response.get_data(as_text=True)


def test_rename_a_list(staff_client):
    target = factories.contact_list("Old")
    factories.contact_list("Taken")
    assert post(staff_client, f"/lists/{target.id}/rename", {"name": "Taken"}).status_code == 422
    response = post(staff_client, f"/lists/{target.id}/rename", {"name": "New"})
    assert response.status_code == 302 and _list_named("New") is not None and _list_named("Old") is None


def test_deleting_asks_first_then_keeps_contacts_and_the_recipients_of_sent_campaigns(staff_client):
    target = factories.contact_list("Doomed", _people(3))
    other = factories.contact_list("Other", _people(1))
    sent = factories.campaign(status="sent", phones=[p for p, _, _ in _people(3)])

    confirm = staff_client.get(f"/lists/{target.id}/delete").get_data(as_text=True)
    assert "Delete “Doomed”?" in confirm and "3 memberships" in confirm and "keep their recipients" in confirm
    assert _list_named("Doomed") is not None  # a GET changes nothing

    response = post(staff_client, f"/lists/{target.id}/delete")
    assert response.status_code == 302 and response.headers["Location"] == "/lists/"
    assert _list_named("Doomed") is None
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 3
    assert _member_phones(other.id) == {"+12125550100"}
    assert db.session.scalar(select(func.count()).select_from(Recipient)
                             .where(Recipient.campaign_id == sent.id)) == 3


# --- The list page: search and pages ---------------------------------------------------------------

def test_the_list_page_shows_members_and_counts(staff_client):
    target = factories.contact_list("Boston", _people(3))
    _opt_out("+12125550101")
    page = staff_client.get(f"/lists/{target.id}").get_data(as_text=True)
    assert "3 contacts, 1 opted out" in page
    assert "+12125550100" in page and "Customer 102" in page and "Opted out" in page


def test_search_finds_members_by_name_or_by_number_as_people_type_it(staff_client):
    target = factories.contact_list("Mixed", [("+12125550100", "Ana Pérez", {}), ("+13105550199", "Bob", {}),
                                              ("+12125550142", "Carla", {})])
    by_name = staff_client.get(f"/lists/{target.id}?q=ana").get_data(as_text=True)
    assert "Ana Pérez" in by_name and "Bob" not in by_name and "Carla" not in by_name
    by_number = staff_client.get(f"/lists/{target.id}?q=(310) 555").get_data(as_text=True)
    assert "+13105550199" in by_number and "+12125550100" not in by_number
    nothing = staff_client.get(f"/lists/{target.id}?q=zzz").get_data(as_text=True)
    assert "No one in this list matches “zzz”." in nothing


def test_an_htmx_search_gets_just_the_members_and_the_answer_varies_by_it(staff_client):
    target = factories.contact_list("Boston", _people(3))
    headers = {"HX-Request": "true", "HX-Target": "members"}
    fragment = staff_client.get(f"/lists/{target.id}?q=Customer 101", headers=headers)
    page = staff_client.get(f"/lists/{target.id}?q=Customer 101")

    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="members">') and "<html" not in text
    assert "Customer 101" in text and "Customer 100" not in text
    assert "<html" in page.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"] and "HX-Request" in page.headers["Vary"]
    # The search box asks for the fragment and puts the search in the address bar.
    box = page.get_data(as_text=True).split('id="member-search"')[1].split(">")[0]
    assert 'hx-target="#members"' in box and 'hx-push-url="true"' in box and "input changed" in box


def test_pages_of_fifty_with_htmx_links_that_keep_the_search(staff_client):
    target = factories.contact_list("Big", _people(120))
    first = staff_client.get(f"/lists/{target.id}?q=Customer").get_data(as_text=True)
    assert "Page 1 of 3" in first and "Customer 149" in first and "Customer 150" not in first
    assert f'hx-get="/lists/{target.id}?q=Customer&amp;page=2"' in first

    last = staff_client.get(f"/lists/{target.id}?q=Customer&page=3",
                            headers={"HX-Request": "true", "HX-Target": "members"}).get_data(as_text=True)
    assert "Page 3 of 3" in last and "Customer 219" in last and "Customer 199" not in last
    assert "Previous" in last and "Next" not in last


# --- Members by hand -------------------------------------------------------------------------------

def test_add_someone_by_hand_with_a_national_number(staff_client):
    target = factories.contact_list("Boston")
    response = post(staff_client, f"/lists/{target.id}/members", {"phone": "(212) 555-0199", "name": "Zoe"})
    assert response.status_code == 302
    assert _member_phones(target.id) == {"+12125550199"}
    assert db.session.scalar(select(Contact.name).where(Contact.phone == "+12125550199")) == "Zoe"
    again = post(staff_client, f"/lists/{target.id}/members", {"phone": "+1 212 555 0199"}, follow_redirects=True)
    assert "+12125550199 was already in “Boston”." in again.get_data(as_text=True)


def test_a_bad_number_by_hand_is_refused_on_its_field(staff_client):
    target = factories.contact_list("Boston")
    response = post(staff_client, f"/lists/{target.id}/members", {"phone": "123", "name": "Nobody"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="phone-error">The number is too short.</p>' in page
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0


def test_remove_a_member_keeps_the_contact(staff_client):
    target = factories.contact_list("Boston", _people(2))
    gone = db.session.scalar(select(Contact).where(Contact.phone == "+12125550100"))
    response = post(staff_client, f"/lists/{target.id}/members/{gone.id}/remove", {"q": "Customer", "page": "1"})
    assert response.status_code == 302 and response.headers["Location"] == f"/lists/{target.id}?q=Customer&page=1"
    assert _member_phones(target.id) == {"+12125550101"}
    assert db.session.get(Contact, gone.id) is not None


# --- Export ----------------------------------------------------------------------------------------

def test_export_streams_the_list_with_attributes_as_columns_and_neutralised_formulas(staff_client):
    target = factories.contact_list("Risky", [
        ("+12125550100", "=HYPERLINK(\"http://evil\")", {"city": "Boston", "note": "@SUM(A1)"}),
        ("+12125550101", "Bob", {"coupon": "-10%", "city": "\tTabbed"}),
        ("+12125550102", "Plain, with comma", {})])
    _opt_out("+12125550101")

    response = staff_client.get(f"/lists/{target.id}/export.csv", buffered=True)
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row[:6] for row in rows] == [
        ["phone", "name", "city", "note", "coupon", "opted_out"],
        ["+12125550100", "'=HYPERLINK(\"http://evil\")", "Boston", "'@SUM(A1)", "", "no"],
        ["+12125550101", "Bob", "'\tTabbed", "", "'-10%", "yes"],
        ["+12125550102", "Plain, with comma", "", "", "", "no"],
    ]
    assert rows[0][6:] == ["opted_out_at (UTC)", "added_at (UTC)"]


def test_export_times_are_in_the_workspaces_zone_named_with_its_offsets(staff_client):
    WorkspaceSettings.get().timezone = "America/New_York"
    target = factories.contact_list("Zoned", [("+12125550100", "Ann", {}), ("+12125550101", "Bob", {})])
    db.session.execute(update(ListMember).values(added_at=datetime(2026, 1, 15, 17, 30, 5, tzinfo=timezone.utc)))
    db.session.execute(update(Contact).where(Contact.phone == "+12125550101")
                       .values(opted_out_at=datetime(2026, 7, 4, 16, 0, tzinfo=timezone.utc)))
    db.session.commit()

    rows = list(csv.reader(io.StringIO(staff_client.get(f"/lists/{target.id}/export.csv", buffered=True)
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    # New York's times over the last year: winter's offset and summer's.
    assert rows[0][-2:] == ["opted_out_at (America/New_York, UTC−05:00/UTC−04:00)",
                            "added_at (America/New_York, UTC−05:00/UTC−04:00)"]
    assert rows[1][-2:] == ["", "2026-01-15 12:30:05"]
    assert rows[2][-2:] == ["2026-07-04 12:00:00", "2026-01-15 12:30:05"]


def test_export_is_streamed_in_batches_never_the_whole_list_at_once(app, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 20)  # as if 2,000 (the batches' logic, not their size, is under test)
    target = factories.contact_list("Big", _people(50, start=1000))
    pieces = list(export.list_csv(db.session, target.id, ZoneInfo("UTC")))
    assert len(pieces) == 4  # the header, then 20, 20 and 10 contacts
    assert sum(piece.count("\n") for piece in pieces) == 51


def test_an_exported_list_imports_back_as_it_was(staff_client, imported, tmp_path):
    target = factories.contact_list("Source", [("+12125550100", "\ufeff=cmd", {"city": "\u200b=1+1", "balance": "-5"}),
                                               ("+442079460958", "Olivia", {"city": "London"})])
    path = tmp_path / "export.csv"
    path.write_text("".join(export.list_csv(db.session, target.id, ZoneInfo("UTC"))), encoding="utf-8")

    record = imported(path, "Copy", columns=None)
    assert record.status == "done" and record.added == 2 and record.invalid == 0
    copy = db.session.scalars(select(Contact).join(ListMember, ListMember.contact_id == Contact.id)
                              .where(ListMember.list_id == record.list_id)
                              .execution_options(populate_existing=True)).all()
    assert {(c.phone, c.name, c.attributes["city"]) for c in copy} == {("+12125550100", "\ufeff=cmd", "\u200b=1+1"),
                                                                       ("+442079460958", "Olivia", "London")}
    # The export's own columns (opted out, its times) are not taken for the customers' attributes.
    assert {key for c in copy for key in c.attributes} == {"city", "balance"}
