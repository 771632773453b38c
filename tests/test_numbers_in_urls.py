"""Numbers in URLs beyond what a database column holds are a 404 or a 400 with a message, never a 500."""
from __future__ import annotations

import pytest

from tests import factories
from tests.api.conftest import ApiClient, make_key
from tests.conftest import ROOT_DIR, post

HUGE = "99999999999999999999"  # more than 2^64
OVER_INT64 = str(2**63)
INT64 = str(2**63 - 1)  # a whole number every database stores, but no row has this id
OVER_INT32 = str(2**31)  # more than PostgreSQL's INTEGER, the type of most ids
INT32 = str(2**31 - 1)  # the largest INTEGER id: the database is asked, and has no such row

IDS = (HUGE, OVER_INT64, INT64, OVER_INT32, INT32, "0")
PAGES = [  # (path, status) — {campaign} and {list} are real ones
    ("/campaigns/?page=1e30", 400), ("/campaigns/?page=abc", 400), ("/campaigns/?page=0", 400),
    (f"/campaigns/?page={HUGE}", 400), (f"/campaigns/?page={INT64}", 400), ("/campaigns/?page=2", 200),
    ("/lists/{list}?page=1e30", 400), (f"/lists/{{list}}?page={HUGE}", 400), (f"/lists/{{list}}?page={INT64}", 400),
    (f"/campaigns/{{campaign}}/log?after={HUGE}", 400), (f"/campaigns/{{campaign}}/log?before={INT64}", 200),
    (f"/campaigns/{{campaign}}/log?before={HUGE}", 400), ("/campaigns/{campaign}/log?after=-1", 400),
    (f"/inbox/?campaign={HUGE}", 400), (f"/inbox/?before={HUGE}-{HUGE}", 200), (f"/inbox/?before={INT64}-1", 200),
    (f"/campaigns/new?retarget={HUGE}", 400), (f"/imports/new?list_id={HUGE}", 400),
    (f"/contacts/?after={HUGE}", 400), (f"/contacts/?before={INT64}", 400), (f"/contacts/?after={INT32}", 200),
]
PAGES_WITH_IDS = ["/campaigns/{}", "/campaigns/{}/edit", "/campaigns/{}/log", "/campaigns/{}/log.csv",
                  "/campaigns/{}/live/counters", "/lists/{}", "/lists/{}/rename", "/lists/{}/export.csv",
                  "/contacts/{}", "/imports/{}", "/imports/{}/progress", "/imports/{}/columns",
                  "/settings/users/{}/password", "/settings/senders/{}/edit", "/inbox/{}", "/inbox/{}/messages",
                  "/inbox/files/{}"]
FORMS_WITH_IDS = ["/campaigns/{}/pause", "/campaigns/{}/delete", "/lists/{}/members/{}/remove",
                  "/contacts/{}/opt-out", "/settings/users/{}/toggle", "/settings/api-keys/{}/revoke",
                  "/inbox/{}/done", "/inbox/{}/answer", "/inbox/files/{}/retry", "/inbox/quick-answers/{}/delete",
                  "/contacts/{}/tags", "/contacts/{}/tags/remove", "/contacts/{}/attributes"]
API_IDS = ["/broadcasts/{}", "/broadcasts/{}/recipients", "/broadcasts/{campaign}/recipients/{}", "/lists/{}"]
API_QUERIES = [("/broadcasts", {"page": "1e30"}), ("/broadcasts", {"page": HUGE}), ("/broadcasts", {"page": INT64}),
               ("/lists", {"page": INT64}), ("/recipients", {"phone_number": "+15550001234", "after": HUGE}),
               ("/templates", {"sender_id": OVER_INT64}), ("/broadcasts/{campaign}/recipients", {"after": OVER_INT64}),
               ("/broadcasts/{campaign}/recipients", {"error_code": HUGE})]


@pytest.fixture
def found(app):
    return {"campaign": factories.campaign(status="sending").id, "list": factories.contact_list().id}


@pytest.mark.parametrize("number", IDS)
def test_an_id_too_large_for_any_row_is_not_found(admin_client, number):
    for path in PAGES_WITH_IDS:
        assert admin_client.get(path.format(number)).status_code == 404, path
    for path in FORMS_WITH_IDS:
        assert post(admin_client, path.format(number, number)).status_code == 404, path


@pytest.mark.parametrize("path, status", PAGES)
def test_page_and_cursor_numbers_out_of_range_are_refused_with_a_message(admin_client, found, path, status):
    response = admin_client.get(path.format(**found))
    assert response.status_code == status
    if status == 400:
        assert "Not understood" in response.get_data(as_text=True) and "whole number" in response.get_data(as_text=True)


def test_the_api_answers_out_of_range_numbers_with_its_json_errors(app, client, found):
    api = ApiClient(client, app, make_key())
    for number in IDS:
        for path in API_IDS:
            response = api.get(path.format(number, **found))
            assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found", path
    for path, query in API_QUERIES:
        response = api.get(path.format(**found), **query)
        assert response.status_code == 400, (path, query)
        assert response.get_json()["error"]["code"] == "invalid_request"
    response = api.post("/broadcasts", {"template_name": "order_update", "sender_id": int(OVER_INT32),
                                        "list_ids": [found["list"]]})
    assert response.status_code == 400 and "sender_id" in response.get_json()["error"]["message"]


def test_every_id_in_a_route_is_read_by_the_id_converter():
    """werkzeug's <int:…> reads any number, which the database then refuses with a 500."""
    routes = [path.name for path in (ROOT_DIR / "webapp").rglob("*.py") if "<int:" in path.read_text()]
    assert routes == []
