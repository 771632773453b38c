"""The workspace's time zone: picked from the IANA list or typed as a city, any case; an unknown one is refused with
a message naming it; setup starts from the browser's zone (UTC without JS)."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, post
from webapp.extensions import db
from webapp.workspace.models import WorkspaceSettings
from webapp.workspace.zone import UnknownZone, resolve_zone

# Pages and forms: their queries are the services' that other tests run on both databases.
pytestmark = pytest.mark.only_on("sqlite")


@pytest.mark.parametrize("typed, zone", [
    ("America/New_York", "America/New_York"),
    ("america/new_york", "America/New_York"),
    ("New York", "America/New_York"),
    ("  new   york ", "America/New_York"),
    ("São Paulo", "America/Sao_Paulo"),
    ("Buenos Aires", "America/Argentina/Buenos_Aires"),  # its older name links to the same zone
    ("utc", "UTC"),
])
def test_a_zone_is_understood_in_any_case_or_by_its_city(typed, zone):
    assert resolve_zone(typed) == zone


def test_an_unknown_zone_is_refused_with_a_message_naming_it():
    with pytest.raises(UnknownZone, match="“Narnia” is not a time zone we know"):
        resolve_zone("Narnia")


def _workspace(timezone: str) -> dict:
    return {"business_name": "Shop", "default_country": "US", "timezone": timezone, "attribution_hours": "72",
            "send_attempts": "5", "opt_out_keywords": "STOP"}


def test_the_settings_save_new_york_as_its_iana_name(admin_client):
    response = post(admin_client, "/settings/", _workspace("new york"))
    assert response.status_code == 302
    assert WorkspaceSettings.get().timezone == "America/New_York"


def test_the_settings_refuse_an_unknown_zone_and_keep_the_one_they_had(admin_client):
    WorkspaceSettings.get().timezone = "Europe/Madrid"
    db.session.commit()
    page = post(admin_client, "/settings/", _workspace("Mars/Olympus")).get_data(as_text=True)
    assert "“Mars/Olympus” is not a time zone we know" in page
    db.session.expire_all()
    assert WorkspaceSettings.get().timezone == "Europe/Madrid"


def test_the_zone_field_is_labelled_and_searchable_through_a_list_of_every_zone(admin_client):
    page = admin_client.get("/settings/").get_data(as_text=True)
    assert '<label for="timezone">Time zone</label>' in page
    assert 'list="timezone-zones"' in page and '<datalist id="timezone-zones">' in page
    assert '<option value="America/New_York">' in page and '<option value="Asia/Kolkata">' in page


def _setup(client, **fields):
    return post(client, "/setup", {"business_name": "Shop", "email": "ada@example.com", "password": PASSWORD,
                                   "confirm": PASSWORD, **fields})


def test_setup_offers_the_zone_for_the_browser_to_fill(client):
    page = client.get("/setup").get_data(as_text=True)
    assert 'data-browser-zone=""' in page and 'list="timezone-zones"' in page


def test_setup_keeps_the_zone_the_browser_filled_in(client):
    assert _setup(client, timezone="Asia/Tokyo").status_code == 302
    assert WorkspaceSettings.get().timezone == "Asia/Tokyo"


def test_setup_without_javascript_leaves_the_workspace_in_utc(client):
    assert _setup(client).status_code == 302
    assert WorkspaceSettings.get().timezone == "UTC"


def test_setup_refuses_an_unknown_zone(client):
    page = _setup(client, timezone="Atlantis").get_data(as_text=True)
    assert "“Atlantis” is not a time zone we know" in page


def test_two_processes_meeting_an_empty_workspace_both_get_its_one_row(app, monkeypatch):
    """A web process and a worker starting at once on a new database: the second's insert once failed (500)."""
    from sqlalchemy.orm import Session

    from webapp.extensions import db

    with Session(db.engine) as other_process:  # it read "no row" as we did, then inserted before us
        other_process.add(WorkspaceSettings(id=1, business_name="Shop"))
        other_process.commit()
    real_get, reads = db.session.get, []

    def read_before_the_other_inserted(*args, **kwargs):
        reads.append(args)
        return None if len(reads) == 1 else real_get(*args, **kwargs)

    monkeypatch.setattr(db.session, "get", read_before_the_other_inserted)
    assert WorkspaceSettings.get().business_name == "Shop"
