"""GET /{waba-id}/message_templates pages like the Graph API (cursors, next/previous URLs, fields,
filters); GET /{phone-number-id} describes the sender number."""
from __future__ import annotations

from tests.sandbox.harness import WABA_ID, PHONE_NUMBER_ID

FIELDS = "name,language,status,category,parameter_format,components"


def test_templates_come_in_pages_followed_by_their_next_url(sandbox):
    first = sandbox.get(f"{WABA_ID}/message_templates", fields=FIELDS, limit=5).json()
    assert len(first["data"]) == 5
    assert set(first["paging"]["cursors"]) == {"before", "after"}
    assert "previous" not in first["paging"]
    pages, page = [first], first
    while "next" in page["paging"]:
        page = sandbox.http.get(page["paging"]["next"], headers={"Authorization": "Bearer sandbox-token"}).json()
        pages.append(page)
    names = [(t["name"], t["language"]) for p in pages for t in p["data"]]
    assert len(names) == 13 == len(set(names))
    assert [len(p["data"]) for p in pages] == [5, 5, 3]
    assert "previous" in pages[1]["paging"]


def test_a_page_keeps_the_requested_fields_and_always_the_id(sandbox):
    [template] = sandbox.get(f"{WABA_ID}/message_templates", fields="name,status", limit=1).json()["data"]
    assert set(template) == {"name", "status", "id"}


def test_the_demo_set_covers_what_broadcaster_must_handle(sandbox):
    templates = sandbox.get(f"{WABA_ID}/message_templates", fields=FIELDS, limit=100).json()["data"]
    by_key = {(t["name"], t["language"]): t for t in templates}
    statuses = {t["status"] for t in templates}
    assert {"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"} <= statuses
    assert by_key[("seasonal_promo", "en")]["parameter_format"] == "NAMED"
    assert ("seasonal_promo", "es") in by_key
    header_formats = {c.get("format") for t in templates for c in t["components"] if c["type"] == "HEADER"}
    assert {"TEXT", "IMAGE", "DOCUMENT"} <= header_formats
    buttons = [b for t in templates for c in t["components"] if c["type"] == "BUTTONS" for b in c["buttons"]]
    assert any(b["type"] == "URL" and "{{1}}" in b["url"] for b in buttons)
    assert {"Yes please", "Stop promotions"} <= {b["text"] for b in buttons if b["type"] == "QUICK_REPLY"}


def test_status_filter_lists_only_approved_templates(sandbox):
    templates = sandbox.get(f"{WABA_ID}/message_templates", fields="name,status", status="APPROVED").json()["data"]
    assert templates and {t["status"] for t in templates} == {"APPROVED"}


def test_unknown_field_and_unknown_account_are_graph_errors(sandbox):
    response = sandbox.get(f"{WABA_ID}/message_templates", fields="name,colour")
    assert response.status_code == 400 and response.json()["error"]["code"] == 100
    response = sandbox.get("299999999999999/message_templates")
    assert response.status_code == 400 and response.json()["error"]["error_subcode"] == 33


def test_templates_need_the_token(sandbox):
    response = sandbox.http.get(sandbox.graph_url(f"{WABA_ID}/message_templates"))
    assert response.status_code == 401 and response.json()["error"]["code"] == 190


def test_the_phone_number_shows_its_display_number_and_throughput(sandbox):
    number = sandbox.get(PHONE_NUMBER_ID, fields="display_phone_number,throughput,quality_rating").json()
    assert number == {"display_phone_number": "+1 555-000-1234", "throughput": {"level": "STANDARD"},
                      "quality_rating": "GREEN", "id": PHONE_NUMBER_ID}
    listed = sandbox.get(f"{WABA_ID}/phone_numbers").json()["data"]
    assert PHONE_NUMBER_ID in {n["id"] for n in listed}
