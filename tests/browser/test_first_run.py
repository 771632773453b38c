"""A newcomer's first minutes, in a real Chromium: setup, log out, log in, the dashboard."""
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_setup_logout_login_reaches_the_dashboard(page: Page, live_server):
    page.goto(live_server)
    expect(page.get_by_role("heading", name="Welcome to Broadcaster")).to_be_visible()
    page.get_by_label("Business name").fill("Panadería Sol")
    # The workspace's time zone starts as the browser's own (static/js/app.js).
    expect(page.get_by_label("Time zone")).to_have_value(
        page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone"))
    page.get_by_label("Your name").fill("Ana")
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create administrator").click()

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("Panadería Sol")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_role("heading", name="Log in to Broadcaster")).to_be_visible()
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("do not match an active account")).to_be_visible()

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("link", name="Settings")).to_be_visible()
