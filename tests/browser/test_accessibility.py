"""Every page, in a real Chromium at a desk's size (1280×800) and a phone's (390×844): axe-core finds no serious or
critical violation, nothing makes the page scroll sideways, and every field wears the page's style. Then, on the
phone, the keyboard alone opens the menu and follows a link, the skip link reaches the content, each member of a
list keeps its Remove button in view, and each row of a listing fits the screen; in Settings, a new API key starts
with no scope and is copied with its button.

The data is built once for the module by the factories (not by clicking), the person logs in once per size, and
each page is a test of its own, so a failure names the page, the size and axe's rule ids.
"""
from __future__ import annotations

import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from tests import factories
from tests.campaigns.conftest import sending_sandbox  # noqa: F401 - fixture
from tests.conftest import PASSWORD, _config, _empty_tables
from tests.services import free_port
from webapp.api.models import SCOPES
from webapp.campaigns.daily import rebuild
from webapp.campaigns.lifecycle import add_counts, report
from webapp.campaigns.models import Recipient
from webapp.contacts.models import Contact
from webapp.inbox.models import Conversation
from webapp.meta_errors import MetaError
from webapp.timestamps import utcnow
from webapp.webhooks.inbound import apply_messages, opt_out_answers
from webapp.webhooks.payloads import Inbound

pytestmark = [pytest.mark.browser, pytest.mark.pages_only]  # no worker, no timing: the parallel pass runs it

SIZES = {"1280x800": {"width": 1280, "height": 800}, "390x844": {"width": 390, "height": 844}}
SERIOUS = {"serious", "critical"}
PHONES = [f"+1555010{i:04d}" for i in range(12)]


# name → the address, given the module's data (`world`); a page's fragments are loaded before it is checked.
PAGES = {
    "dashboard": lambda w: "/",
    "campaigns": lambda w: "/campaigns/",
    "compose": lambda w: "/campaigns/new",
    "draft campaign": lambda w: f"/campaigns/{w['draft']}",
    "completed campaign": lambda w: f"/campaigns/{w['completed']}",
    "lists": lambda w: "/lists/",
    "a list": lambda w: f"/lists/{w['list']}",
    "a contact": lambda w: f"/contacts/{w['contact']}",
    "contacts": lambda w: "/contacts/",
    "contact attributes": lambda w: "/contacts/attributes",
    "segment builder": lambda w: "/segments/new",
    "import upload": lambda w: "/imports/new",
    "import columns": lambda w: f"/imports/{w['uploaded']}/columns",
    "import result": lambda w: f"/imports/{w['imported']}",
    "inbox": lambda w: "/inbox/",
    "reports": lambda w: "/reports/?days=7",
    "a conversation": lambda w: f"/inbox/{w['conversation']}",
    "quick answers": lambda w: "/inbox/quick-answers",
    "settings": lambda w: "/settings/",
    "pricing": lambda w: "/settings/pricing",
    "outbound events": lambda w: "/settings/events",
    "users": lambda w: "/settings/users",
    "sender numbers": lambda w: "/settings/senders",
    "new sender number": lambda w: "/settings/senders/new",
    "templates": lambda w: "/settings/templates",
    "api keys": lambda w: "/settings/api-keys",
    "api reference": lambda w: "/api/v1/docs/",
    "change password": lambda w: "/account/password",
    "sandbox phone": lambda w: f"/sandbox/phone?number={w['tested'].replace('+', '%2B')}",
    "not found": lambda w: "/no-such-page",
}
# Where axe looks, when not the whole page: the API reference repeats one section per endpoint (3,000 elements,
# 20 s of axe on this machine); the first endpoint stands for the others, and the tables of schemas use the same
# macro as the bodies of requests.
AXE_CONTEXT = {"api reference": {"include": [["header"], ["main > :not(section)"], ["main > section:nth-of-type(-n+2)"]]}}


@pytest.fixture(scope="module")
def world(migrated, redis_url, session_folder, sending_sandbox):  # noqa: F811
    """The app over HTTP for the whole module, on the test database and the sandbox; emptied at the end."""
    from webapp import create_app
    from webapp.extensions import db
    from webapp.senders.services import _client

    sending_sandbox.reset()
    app = create_app({**_config(migrated, redis_url, session_folder), "SANDBOX_ENABLED": True,
                      "SANDBOX_URL": sending_sandbox.base_url})
    app.extensions["redis"].flushdb()
    _client.cache_clear()
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with app.app_context():
        try:
            yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app}  # `built` adds the data
        finally:
            server.shutdown()
            db.session.remove()
            _empty_tables(db)
            db.engine.dispose()
            _client.cache_clear()


def _data(world: dict) -> dict:
    """A bit of everything, built the way the product builds it: users, lists and contacts, an import waiting for
    its columns and one done, a draft and a completed campaign with its log and replies, a sandbox conversation."""
    from webapp.auth.services import create_user
    from webapp.campaigns import services
    from webapp.contacts import imports
    from webapp.extensions import db
    from webapp.senders.models import Template
    from webapp.senders.services import sync_templates

    admin = create_user("ada@example.com", PASSWORD, role="admin", name="Ada Admin")
    create_user("sam@example.com", PASSWORD, role="staff", name="Sam Staff")
    sender = factories.sender(is_sandbox=True, throughput=50)
    sync_templates(sender)
    db.session.commit()
    customers = factories.contact_list("Customers", [(p, f"Customer {i}", {"city": "Boston", "order": f"#{i}"})
                                                     for i, p in enumerate(PHONES)])
    template = db.session.scalar(select(Template).where(Template.name == "order_shipped"))
    variables = {"body:1": {"source": "name", "fallback": "there"},
                 "body:2": {"source": "attribute", "value": "order", "fallback": "#0"},
                 "body:3": {"source": "constant", "value": "Friday"}}
    draft = services.save_draft(services.Draft("Autumn shipping", sender.id, template.id, [customers.id],
                                                variables=variables))
    db.session.commit()
    tested = "+12025550175"
    services.send_test(draft, tested)

    completed = factories.campaign("sent", PHONES, name="Summer sale", sender=sender,
                                   completed_at=utcnow())
    _fill_the_log(completed.id)

    folder = Path(world["app"].config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(imports.EXAMPLE_FILE, folder / "a11y.upload")
    uploaded, _ = imports.begin_import(db.session, folder / "a11y.upload", "shop-export.csv", list_id=None,
                                       new_list="Shop customers", country="US", update_existing=True,
                                       user_id=admin.id)
    db.session.commit()
    imported = imports.import_file(db.session, imports.EXAMPLE_FILE, list_name="Example customers", country="US",
                                   phone_column=None, update_existing=True, user_id=admin.id)
    db.session.commit()
    contact = db.session.scalar(select(Contact.id).where(Contact.phone == PHONES[2]))
    conversation = db.session.scalar(select(Conversation.id).where(Conversation.contact_id == contact))
    return {"conversation": conversation, "admin": admin.email, "draft": draft.id, "completed": completed.id, "list": customers.id,
            "contact": contact, "uploaded": uploaded.id, "imported": imported.id, "tested": tested}


def _fill_the_log(campaign_id: int) -> None:
    """The completed campaign's rows as Meta's webhooks left them: sent, delivered, read, failed; replies (one a
    STOP) come in as inbound messages."""
    from webapp.extensions import db

    rows = db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign_id)
                              .order_by(Recipient.id)).all()
    start = utcnow() - timedelta(minutes=3)
    failure = MetaError(131026, "Message undeliverable",
                        "Unable to deliver message. Reasons can include: the recipient phone number is not a "
                        "WhatsApp phone number; the recipient has not accepted our new Terms of Service.")
    for i, row in enumerate(rows):
        deltas = report(row, "accepted", start + timedelta(seconds=i), wamid=f"wamid.a11y{i}")
        if i % 4 == 3:
            deltas += report(row, "failed", start + timedelta(seconds=i + 1), failure=failure)
        else:
            for step, stage in enumerate(("sent", "delivered", "read")[: 1 + i % 4], start=1):
                deltas += report(row, stage, start + timedelta(seconds=i + step))
        add_counts(db.session, campaign_id, deltas)
    db.session.commit()
    apply_messages(db.session, [(None, Inbound(f"wamid.in{i}", row.phone, row.name, "text",
                                               "STOP" if i == 2 else "Thanks! Is it still available in blue?",
                                               "", "", row.wamid, start + timedelta(seconds=i + 9)))
                                for i, row in enumerate(rows) if i % 4 == 2])
    rebuild(db.session, opt_out_answers())  # rows moved by lifecycle.report directly: the Reports page's figures
    db.session.commit()


@pytest.fixture(scope="module")
def built(world, before_login):
    world.update(_data(world))  # after the setup page was seen: it is gone once a user exists
    return world


@pytest.fixture(scope="module")
def pages(world, browser: Browser):
    """One browser page per size for the module, with axe-core in every document it loads."""
    opened = {}
    for size, viewport in SIZES.items():
        context = browser.new_context(viewport=viewport)
        context.add_init_script(AXE_SCRIPT)
        opened[size] = context.new_page()
    yield opened
    for page in opened.values():
        page.context.close()


@pytest.fixture(scope="module")
def before_login(world, pages):
    """What is wrong on the setup page (seen before the first user exists) and the login page, at each size."""
    findings = {}
    for size, page in pages.items():
        page.goto(f"{world['url']}/setup")
        expect(page.get_by_role("heading", name="Welcome to Broadcaster")).to_be_visible()
        findings[("setup", size)] = _findings(page)
    return findings


@pytest.fixture(scope="module")
def logged_in(built, pages, before_login):
    """The pages of the module, logged in as the admin."""
    for size, page in pages.items():
        page.goto(f"{built['url']}/login")
        before_login[("login", size)] = _findings(page)
        page.get_by_label("Email").fill(built["admin"])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    return pages


def _loaded(page: Page) -> None:
    """Wait until the fragments a page loads by itself (hx-trigger="load") have arrived."""
    page.wait_for_function("() => !document.querySelector('[hx-trigger=\"load\"], .htmx-request')")


def _findings(page: Page, context: dict | None = None) -> str:
    """What is wrong on the page, in a line each: axe's serious and critical rules, a sideways scroll, and a field
    the stylesheet missed (drawn as the browser's bare box among the page's rounded ones)."""
    results = page.evaluate("context => axe.run(context || document, {resultTypes: ['violations']})", context)
    lines = [f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(str(n['target']) for n in v['nodes'][:3])}"
             for v in results["violations"] if v["impact"] in SERIOUS]
    bare = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.offsetParent !== null && !['checkbox', 'radio', 'submit', 'button', 'range', 'color', 'image',
                                                  'reset'].includes(e.type))
        .filter(e => getComputedStyle(e).borderTopLeftRadius === '0px')
        .map(e => `${e.tagName.toLowerCase()}#${e.id || e.name} (${e.type})`)""")
    if bare:
        lines.append(f"fields without the page's style: {', '.join(bare)}")
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .filter(e => !e.parentElement.closest('.table-wrap, pre'))
            .slice(-3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')).join(', ')""")
        lines.append(f"scrolls sideways: {widths[0]} px wide in a {widths[1]} px window (widest: {wide})")
    return "\n".join(lines)


@pytest.mark.parametrize(("name", "size"), [(name, size) for name in PAGES for size in SIZES])
def test_the_page_passes_axe_and_does_not_scroll_sideways(logged_in, built, name, size):
    page = logged_in[size]
    page.goto(built["url"] + PAGES[name](built))
    _loaded(page)
    findings = _findings(page, AXE_CONTEXT.get(name))
    assert not findings, f"{name} at {size}:\n{findings}"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", ["setup", "login"])
def test_the_pages_before_login_pass_axe_and_do_not_scroll_sideways(logged_in, before_login, name, size):
    findings = before_login[(name, size)]
    assert not findings, f"{name} at {size}:\n{findings}"


def test_on_a_phone_the_keyboard_opens_the_menu_and_follows_a_link(logged_in, built):
    page = logged_in["390x844"]
    page.goto(f"{built['url']}/campaigns/")
    menu_button = page.get_by_role("button", name="Menu")
    lists_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Lists")
    expect(menu_button).to_have_attribute("aria-expanded", "false")
    expect(lists_link).to_be_hidden()

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")  # the brand, home
    page.keyboard.press("Tab")
    expect(menu_button).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu_button).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")  # Dashboard
    page.keyboard.press("Tab")
    expect(lists_link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Lists", exact=True)).to_be_visible()

    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link: the next Tab starts inside the content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_a_new_api_key_is_created_with_no_scope_chosen_for_you_and_copied_with_its_button(logged_in, built):
    page = logged_in["1280x800"]
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{built['url']}/settings/api-keys")
    scopes = page.get_by_role("group", name="Scopes")
    expect(scopes.get_by_role("checkbox")).to_have_count(len(SCOPES))
    for box in scopes.get_by_role("checkbox").all():
        expect(box).not_to_be_checked()

    page.get_by_label("Name").fill("Shop backend")
    scopes.get_by_role("checkbox", name="lists:read —").check()
    page.get_by_role("button", name="Create key").click()

    expect(page.get_by_role("heading", name="The key “Shop backend”")).to_be_visible()
    expect(page.get_by_role("navigation", name="Settings sections").get_by_role("link", name="API keys")) \
        .to_have_attribute("aria-current", "page")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    secret = page.locator("#new-key").inner_text()
    assert secret.startswith("bk_") and page.evaluate("navigator.clipboard.readText()") == secret
    assert not _findings(page), _findings(page)


def test_on_a_phone_each_member_of_a_list_has_its_remove_button_in_full_view(logged_in, built):
    page = logged_in["390x844"]
    page.goto(f"{built['url']}/lists/{built['list']}")
    for phone in (PHONES[0], PHONES[2]):  # the second one with its Opted out badge
        expect(page.get_by_role("button", name=f"Remove {phone}")).to_be_in_viewport(ratio=1)


@pytest.mark.parametrize("name", ["inbox", "lists", "templates"])
def test_on_a_phone_each_row_of_a_listing_fits_the_screen(logged_in, built, name):
    page = logged_in["390x844"]
    page.goto(built["url"] + {"inbox": "/inbox/?show=all"}.get(name, PAGES[name](built)))
    rows = page.locator("main table tbody tr")
    expect(rows.first).to_be_visible()
    for box in (row.bounding_box() for row in rows.all()):
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, f"{name}: a row {box['width']:.0f} px wide"
