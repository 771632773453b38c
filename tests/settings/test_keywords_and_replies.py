"""Settings → opt-in keywords and the replies to a keyword: what a customer who opts out or back in is told."""
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


def test_the_replies_to_an_opt_out_and_an_opt_in_are_saved_and_a_too_long_one_is_refused(admin_client):
    page = admin_client.get("/settings/").get_data(as_text=True)
    assert "Reply to an opt-out" in page and "Reply to an opt-in" in page
    saved = post(admin_client, "/settings/", _workspace(opt_out_reply="Done: no more offers.", opt_in_reply="Hi again!"))
    assert saved.status_code == 302
    too_long = post(admin_client, "/settings/", _workspace(opt_out_reply="x" * 1025))
    assert too_long.status_code == 200 and "Field cannot be longer than 1024 characters." in too_long.get_data(as_text=True)
    db.session.expire_all()
    settings = WorkspaceSettings.get()
    assert (settings.opt_out_reply, settings.opt_in_reply) == ("Done: no more offers.", "Hi again!")
