"""Settings → Templates: sync from the Graph API (the real sandbox), see status and variables, or why it failed."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories
from tests.conftest import post
from webapp.extensions import db
from webapp.senders.models import Template

# Pages and forms: their queries are the services' that other tests run on both databases.
pytestmark = pytest.mark.only_on("sqlite")


def test_sync_fetches_the_accounts_templates_and_says_what_changed(admin_client, sandbox):
    sender = factories.sender(is_sandbox=True, label="Sandbox number")
    db.session.commit()

    response = post(admin_client, f"/settings/senders/{sender.id}/sync", follow_redirects=True)

    page = response.get_data(as_text=True)
    stored = db.session.scalars(select(Template)).all()
    assert len(stored) >= 10
    assert f"Templates of Sandbox number synced: {len(stored)} new, 0 updated, 0 no longer on Meta." in page
    again = post(admin_client, f"/settings/senders/{sender.id}/sync", follow_redirects=True)
    assert f"0 new, {len(stored)} updated" in again.get_data(as_text=True)


def test_templates_show_name_language_category_status_and_variables(admin_client, sandbox_sender):
    page = admin_client.get("/settings/templates").get_data(as_text=True)

    assert "seasonal_promo" in page and ">es<" in page and ">en<" in page
    assert "Marketing" in page and "Utility" in page
    assert '<span class="badge badge-done">Approved</span>' in page
    assert '<span class="badge badge-pending">Pending</span>' in page
    assert '<span class="badge badge-failed">Rejected</span>' in page
    assert "<code>{{first_name}}</code>" in page
    assert "<code>Image header</code>" in page
    assert "<code>Button 1 link ending</code>" in page


def test_a_wrong_token_is_explained_and_changes_nothing(admin_client, sandbox):
    sender = factories.sender(is_sandbox=True, label="Sandbox number", access_token="not-the-token")
    db.session.commit()

    response = post(admin_client, f"/settings/senders/{sender.id}/sync", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert "Meta refused the access token of Sandbox number (error 190)" in page
    assert "wrong or has expired" in page
    assert db.session.scalars(select(Template)).all() == []


def test_an_unreachable_graph_api_is_explained(admin_client, app):
    app.config["SANDBOX_URL"] = "http://127.0.0.1:9"  # nothing listens there
    sender = factories.sender(is_sandbox=True, label="Sandbox number")
    db.session.commit()

    response = post(admin_client, f"/settings/senders/{sender.id}/sync", follow_redirects=True)

    assert "Could not reach the Graph API for Sandbox number" in response.get_data(as_text=True)


def test_templates_page_without_senders_says_to_add_one(admin_client):
    page = admin_client.get("/settings/templates").get_data(as_text=True)

    assert "Add a sender number first" in page
