"""Settings → API keys as an admin meets it: no scope granted for them, the scopes a group of checkboxes, and after
creating a key its tab still lit and a Copy button beside the secret."""
from __future__ import annotations

import re

import pytest

from tests.conftest import post
from webapp.api.models import SCOPES

# Pages and forms: their queries are the services' that other tests run on both databases.
pytestmark = pytest.mark.only_on("sqlite")


def _checkboxes(page: str) -> list[str]:
    return re.findall(r'<input[^>]*type="checkbox"[^>]*name="scopes"[^>]*>|<input[^>]*name="scopes"[^>]*type="checkbox"[^>]*>',
                      page)


def test_no_scope_is_checked_and_the_scopes_are_a_group(admin_client):
    page = admin_client.get("/settings/api-keys").get_data(as_text=True)

    boxes = _checkboxes(page)
    assert [re.search(r'value="([^"]+)"', box).group(1) for box in boxes] == list(SCOPES)  # one box per scope
    assert not [box for box in boxes if "checked" in box]
    assert re.search(r'<fieldset class="field checkbox-group[^"]*"[^>]*>\s*<legend>Scopes</legend>', page)
    assert "<ul" not in page.split("<legend>Scopes</legend>", 1)[1].split("</fieldset>", 1)[0]


def test_after_creating_a_key_its_tab_is_lit_and_a_copy_button_copies_the_secret(admin_client):
    page = post(admin_client, "/settings/api-keys", {"name": "Shop backend", "scopes": ["lists:read"],
                                                     "rate_per_minute": "60"}).get_data(as_text=True)

    assert re.search(r'<a class="btn btn-small btn-primary" href="/settings/api-keys" aria-current="page">API keys</a>',
                     page)
    assert re.search(r'<button[^>]*data-copy="new-key"[^>]*>Copy</button>', page)
    assert re.search(r'<code id="new-key">bk_', page)
    assert not [box for box in _checkboxes(page) if "checked" in box]  # the next key starts from none again


def test_disabling_a_user_asks_first(admin_client, staff):
    page = admin_client.get("/settings/users").get_data(as_text=True)

    assert re.search(r'data-confirm="Disable staff@example.com\?[^"]*">\s*<input[^>]*>\s*<button[^>]*btn-danger[^>]*>Disable',
                     page)
