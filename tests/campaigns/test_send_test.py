"""Send test: the number is read exactly as an import reads a file's numbers, the message goes to the sandbox for
real, and the confirmation says in plain words where it went."""
from __future__ import annotations

from sqlalchemy import select

from tests import factories
from tests.campaigns.conftest import sandbox, sandbox_sender, sending_sandbox  # noqa: F401
from tests.conftest import post
from webapp.campaigns import services
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.senders.models import Template

VARIABLES = {"body:1": {"source": "name", "fallback": "friend"}, "body:2": {"source": "attribute", "value": "order"},
             "body:3": {"source": "constant", "value": "Friday"}}


def _shipping_draft(sender) -> Campaign:
    """A draft of the sandbox's order_shipped template for one customer."""
    template = db.session.scalar(select(Template).where(Template.name == "order_shipped"))
    customers = factories.contact_list("Customers", [("+15550100001", "Ana", {"order": "#7"})])
    campaign = services.save_draft(services.Draft("Shipping", sender.id, template.id, [customers.id],
                                                  variables=VARIABLES))
    db.session.commit()
    return campaign


def test_a_number_the_import_would_refuse_is_refused_with_the_imports_reason_and_nothing_is_sent(
        staff_client, sandbox, sandbox_sender):
    campaign = _shipping_draft(sandbox_sender)

    response = post(staff_client, f"/campaigns/{campaign.id}/test", {"test_phone": "555-0175"})

    assert response.status_code == 422
    assert ('id="test_phone-error">The number has no area code. Enter the number with its country code, '
            'e.g. +1 202 555 0175.</p>') in response.get_data(as_text=True)
    assert sandbox.messages() == []


def test_the_test_is_confirmed_in_plain_words_with_the_number_as_people_write_it(staff_client, sandbox,
                                                                                  sandbox_sender):
    campaign = _shipping_draft(sandbox_sender)

    # A national number, read in the workspace's country (US) as the import reads one.
    response = post(staff_client, f"/campaigns/{campaign.id}/test", {"test_phone": "(202) 555-0175"},
                    follow_redirects=True)

    page = response.get_data(as_text=True)
    assert ('Sent to +1 202-555-0175 — <a href="/sandbox/phone?number=%2B12025550175">open Sandbox phone</a> '
            'to see it.') in page
    assert "wamid" not in page and "Meta&#39;s message id" not in page
    [sent] = sandbox.messages()
    assert sent["to"] == "+12025550175" and "Hi Ana, your order #7 has shipped" in sent["text"]
    assert db.session.get(Campaign, campaign.id, populate_existing=True).status == "draft"


def test_a_test_that_meta_refuses_shows_why_on_its_field(staff_client, sandbox, sandbox_sender):
    campaign = _shipping_draft(sandbox_sender)
    sandbox_sender.access_token = "wrong-token"
    db.session.commit()

    response = post(staff_client, f"/campaigns/{campaign.id}/test", {"test_phone": "+1 202 555 0175"})

    assert response.status_code == 422
    assert 'id="test_phone-error">Meta refused the test (error 190)' in response.get_data(as_text=True)
