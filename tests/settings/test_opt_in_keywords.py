"""Settings → opt-in keywords: the words with which a customer who opted out opts back in."""
from __future__ import annotations

from tests.conftest import post
from webapp.extensions import db
from webapp.workspace.models import DEFAULT_OPT_IN_KEYWORDS, WorkspaceSettings


def _workspace(**fields) -> dict:
    return {"business_name": "Shop", "default_country": "US", "timezone": "UTC", "attribution_hours": "72",
            "send_attempts": "5", "opt_out_keywords": "STOP, BAJA", **fields}


def test_a_workspace_starts_with_the_usual_opt_in_words_and_saves_its_own(admin_client):
    page = admin_client.get("/settings/").get_data(as_text=True)
    assert "Opt-in keywords" in page and DEFAULT_OPT_IN_KEYWORDS in page
    assert post(admin_client, "/settings/", _workspace(opt_in_keywords="ALTA, volver")).status_code == 302
    db.session.expire_all()
    assert WorkspaceSettings.get().opt_in_keywords == "ALTA, volver"


def test_a_word_in_both_lists_is_refused_and_nothing_is_saved(admin_client):
    page = post(admin_client, "/settings/", _workspace(business_name="Renamed", opt_in_keywords="START, baja"))
    assert page.status_code == 200
    assert "“BAJA” is an opt-out keyword too: keep it in one list." in page.get_data(as_text=True)
    db.session.expire_all()
    settings = WorkspaceSettings.get()
    assert (settings.business_name, settings.opt_in_keywords) == ("My business", DEFAULT_OPT_IN_KEYWORDS)
