"""Compose: staff pick a sender, an approved template, an audience and the variables, see the live preview,
and save a draft; every refusal lands on the field it is about, and nothing is saved half-way."""
from __future__ import annotations

from flask import render_template
from sqlalchemy import func, insert, select

from tests import factories
from tests.conftest import post
from webapp.campaigns.lifecycle import add_counts
from webapp.campaigns.models import Campaign, Recipient
from webapp.contacts.models import Contact, ContactList
from webapp.extensions import db
from webapp.timestamps import utcnow

PEOPLE = [("+15550100001", "Ana", {"order": "#1", "city": "Lima"}), ("+15550100002", "Ben", {"order": "#2"}),
          ("+15550100003", "Cy", {"order": "#3"}), ("+15550100004", "Dee", {"order": "#4"})]
IMAGE_TEMPLATE = [{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Hi {{1}}, new arrivals!"}]
NAMED_TEMPLATE = [{"type": "BODY", "text": "Hi {{first_name}}, see you on {{date}}."}]
QUICK_REPLY_TEMPLATE = [{"type": "BODY", "text": "Hi {{1}}, 20% off all week."},
                        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Yes please"},
                                                        {"type": "QUICK_REPLY", "text": "Stop promotions"}]}]


def _setup(people=PEOPLE):
    sender = factories.sender()
    template = factories.template()
    customers = factories.contact_list("Customers", people)
    return sender, template, customers


def _form(sender, chosen, lists, **fields) -> dict:
    data = {"name": "Spring sale", "sender": str(sender.id), "template": str(chosen.id), "audience": "lists",
            "lists": [str(lst.id) for lst in lists],
            "var:body:1:source": "name", "var:body:1:fallback": "friend",
            "var:body:2:source": "attribute", "var:body:2:value": "order"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def _campaigns() -> int:
    return db.session.scalar(select(func.count()).select_from(Campaign))


def test_staff_compose_and_save_a_draft_then_land_on_its_page(staff_client):
    sender, template, customers = _setup()

    response = post(staff_client, "/campaigns/new", _form(sender, template, [customers]))

    campaign = db.session.scalars(select(Campaign)).one()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/campaigns/{campaign.id}"
    assert (campaign.status, campaign.name, campaign.audience) == ("draft", "Spring sale", {"lists": [customers.id]})
    assert campaign.variables == {"body:1": {"source": "name", "fallback": "friend"},
                                  "body:2": {"source": "attribute", "value": "order"}}
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Spring sale" in page and "Draft" in page and "List Customers" in page


def test_the_form_offers_only_approved_templates_of_the_senders_account_grouped_by_name(staff_client):
    sender, _, _ = _setup()
    factories.template(name="order_update", language="es")
    factories.template(name="welcome_offer", status="PENDING")
    factories.template(name="other_account", waba_id="999")
    db.session.commit()

    page = staff_client.get("/campaigns/new").get_data(as_text=True)

    assert '<optgroup label="order_update">' in page
    assert "order_update (en_US)" in page and "order_update (es)" in page
    assert "welcome_offer" not in page and "other_account" not in page
    assert "Customers <span class=\"muted small\">(4 contacts)</span>" in page


def test_without_a_template_the_error_is_on_the_template_field_and_nothing_is_saved(staff_client):
    sender, template, customers = _setup()

    response = post(staff_client, "/campaigns/new", _form(sender, template, [customers], template=""))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="template-error">Choose a template of this sender&#39;s WhatsApp account.</p>' in page
    assert _campaigns() == 0


def test_without_a_name_the_error_is_on_the_name(staff_client):
    sender, template, customers = _setup()

    response = post(staff_client, "/campaigns/new", _form(sender, template, [customers], name="  "))

    assert 'id="name-error">Give the campaign a name.</p>' in response.get_data(as_text=True)
    assert _campaigns() == 0


def test_without_a_list_the_error_is_on_the_audience(staff_client):
    sender, template, customers = _setup()

    response = post(staff_client, "/campaigns/new", _form(sender, template, []))

    assert response.status_code == 422
    assert "Choose at least one list." in response.get_data(as_text=True)
    assert _campaigns() == 0


def test_a_list_deleted_while_composing_is_refused(staff_client):
    sender, template, customers = _setup()
    gone = factories.contact_list("Old customers", ["+15550109999"])
    db.session.delete(db.session.get(ContactList, gone.id))
    db.session.commit()

    response = post(staff_client, "/campaigns/new", _form(sender, template, [customers, gone]))

    assert response.status_code == 422
    assert "One of the chosen lists no longer exists." in response.get_data(as_text=True)
    assert _campaigns() == 0


def test_a_pending_template_is_refused(staff_client):
    sender, _, customers = _setup()
    pending = factories.template(name="welcome_offer", status="PENDING")
    db.session.commit()

    response = post(staff_client, "/campaigns/new", _form(sender, pending, [customers]))

    assert response.status_code == 422
    assert "welcome_offer (en_US) is pending; only approved templates can be sent." in response.get_data(as_text=True)
    assert _campaigns() == 0


def test_a_constant_longer_than_meta_accepts_is_refused_on_its_variable(staff_client):
    sender, template, customers = _setup()

    response = post(staff_client, "/campaigns/new", _form(sender, template, [customers], **{
        "var:body:2:source": "constant", "var:body:2:value": "x" * 1025}))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="error" id="var-body-2-error">At most 1024 characters.</p>' in page
    assert _campaigns() == 0


def test_a_constant_that_makes_the_message_too_long_is_flagged_in_the_preview(staff_client):
    sender, template, customers = _setup()

    response = post(staff_client, "/campaigns/compose/preview", _form(sender, template, [customers], **{
        "var:body:2:source": "constant", "var:body:2:value": "x" * 1000}))

    assert "Meta would refuse this message as too long (error 132005): the message body would be" in \
        response.get_data(as_text=True)


def test_every_unmapped_variable_gets_its_own_message(staff_client):
    sender, template, customers = _setup()

    response = post(staff_client, "/campaigns/new", _form(sender, template, [customers], **{
        "var:body:1:source": "", "var:body:1:fallback": "", "var:body:2:value": ""}))

    page = response.get_data(as_text=True)
    assert '<p class="error" id="var-body-1-error">Choose where this value comes from.</p>' in page
    assert '<p class="error" id="var-body-2-error">Choose the attribute.</p>' in page


def test_a_media_header_needs_its_url(staff_client):
    sender, _, customers = _setup()
    image = factories.template(name="new_collection", components=IMAGE_TEMPLATE)
    db.session.commit()

    response = post(staff_client, "/campaigns/new", _form(sender, image, [customers]))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="header_media_url-error">Enter the https:// address of the header&#39;s media file.</p>' in page
    saved = post(staff_client, "/campaigns/new", _form(sender, image, [customers],
                                                        header_media_url="https://cdn.example.com/a.jpg"))
    assert saved.status_code == 302
    assert db.session.scalars(select(Campaign)).one().header_media_url == "https://cdn.example.com/a.jpg"


def test_retargeting_an_earlier_campaign_by_outcome(staff_client):
    sender, template, _ = _setup()
    earlier = factories.campaign(status="sent", sender=sender, name="Summer", phones=["+15550100001"])

    response = post(staff_client, "/campaigns/new", _form(sender, template, [], audience="retarget",
                                                          retarget_campaign=str(earlier.id),
                                                          retarget_outcome="delivered_not_read", **{
                                                              "var:body:2:source": "constant",
                                                              "var:body:2:value": "#1"}))

    assert response.status_code == 302
    campaign = db.session.scalars(select(Campaign).where(Campaign.name == "Spring sale")).one()
    assert campaign.audience == {"retarget": {"campaign_id": earlier.id, "outcome": "delivered_not_read"}}
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Delivered but not read recipients of “Summer”" in page


def test_retargeting_needs_the_earlier_campaign(staff_client):
    sender, template, _ = _setup()
    factories.campaign(status="sent", sender=sender, name="Summer")

    response = post(staff_client, "/campaigns/new", _form(sender, template, [], audience="retarget"))

    assert "Choose the earlier campaign whose recipients to send to." in response.get_data(as_text=True)
    assert _campaigns() == 1


def test_compose_offers_the_outcomes_staff_retarget_by(staff_client):
    sender, _, _ = _setup()
    factories.campaign(status="sent", sender=sender, name="Summer")

    page = staff_client.get("/campaigns/new").get_data(as_text=True)

    for outcome in ("Failed", "Not delivered", "Delivered but not read", "Read but not replied", "Replied"):
        assert f">{outcome}</option>" in page


def test_changing_the_template_swaps_in_its_variables(staff_client):
    sender, _, _ = _setup()
    named = factories.template(name="appointment", parameter_format="NAMED", components=NAMED_TEMPLATE)
    db.session.commit()

    response = staff_client.get(f"/campaigns/compose/variables?sender={sender.id}&template={named.id}",
                                headers={"HX-Request": "true"})

    page = response.get_data(as_text=True)
    assert '<fieldset id="variables">' in page
    assert "Source of {{first_name}}" in page and "Fallback for {{date}}" in page
    assert "<html" not in page
    assert response.headers["HX-Trigger-After-Settle"] == "compose-changed"


def test_changing_the_template_keeps_the_mapping_of_variables_it_shares(staff_client):
    sender, template, _ = _setup()

    page = staff_client.get(f"/campaigns/compose/variables?sender={sender.id}&template={template.id}"
                            "&var:body:2:source=constant&var:body:2:value=Friday").get_data(as_text=True)

    assert 'name="var:body:2:value" value="Friday"' in page


def test_changing_the_sender_offers_that_senders_templates(staff_client):
    _setup()
    other = factories.sender(label="Second", phone_number_id="100000000000002", waba_id="300")
    factories.template(name="second_only", waba_id="300")
    db.session.commit()

    page = staff_client.get(f"/campaigns/compose/message?sender={other.id}").get_data(as_text=True)

    assert "second_only (en_US)" in page and "order_update" not in page


def test_the_preview_shows_the_first_three_real_recipients_messages(staff_client):
    sender, template, customers = _setup()
    db.session.execute(db.update(Contact).where(Contact.phone == "+15550100001").values(opted_out_at=utcnow()))
    db.session.commit()

    page = post(staff_client, "/campaigns/compose/preview", _form(sender, template, [customers])).get_data(as_text=True)

    assert "Hi Ben, your order #2 is on its way." in page
    assert "Hi Cy, your order #3 is on its way." in page
    assert "Hi Dee, your order #4 is on its way." in page
    assert "Ana" not in page  # opted out: never previewed, never sent
    assert page.count('class="bubble"') == 3


def test_the_preview_shows_a_missing_value_as_its_variable(staff_client):
    sender, template, customers = _setup([("+15550100001", "Ana", {})])

    page = post(staff_client, "/campaigns/compose/preview", _form(sender, template, [customers])).get_data(as_text=True)

    assert "Hi Ana, your order {{2}} is on its way." in page
    assert "so they will be skipped" in page


def test_the_preview_of_a_variable_without_a_source_asks_for_one_rather_than_skipping_anyone(staff_client):
    sender, template, customers = _setup()

    page = post(staff_client, "/campaigns/compose/preview", _form(sender, template, [customers], **{
        "var:body:2:source": ""})).get_data(as_text=True)

    assert "Hi Ana, your order {{2}} is on its way." in page
    assert "Some variables have no source yet" in page and "will be skipped" not in page


def test_the_preview_escapes_what_customers_typed(staff_client):
    sender, template, customers = _setup([("+15550100001", "<script>alert(1)</script>", {"order": "<b>1</b>"})])

    page = post(staff_client, "/campaigns/compose/preview", _form(sender, template, [customers])).get_data(as_text=True)

    assert "<script>alert(1)</script>" not in page and "<b>1</b>" not in page
    assert "Hi &lt;script&gt;alert(1)&lt;/script&gt;, your order &lt;b&gt;1&lt;/b&gt;" in page


def test_the_forecast_says_who_is_skipped_why_how_long_and_whether_today_has_room(staff_client):
    people = [(f"+155501002{i:02d}", f"C{i}", {"order": f"#{i}"}) for i in range(10)] + \
             [("+15550100300", "No order", {})]
    sender, template, customers = _setup(people)
    sender.throughput, sender.messaging_limit = 4, 250
    db.session.execute(db.update(Contact).where(Contact.phone == "+15550100200").values(opted_out_at=utcnow()))
    db.session.commit()

    page = post(staff_client, "/campaigns/compose/preview", _form(sender, template, [customers])).get_data(as_text=True)

    assert "<dt>Recipients</dt><dd>11</dd>" in page
    assert "1 opted out" in page and "1 missing {{2}} with no fallback" in page
    assert "<dt>Will be sent</dt><dd>9</dd>" in page
    assert "About 3 s at 4 messages per second" in page
    assert "Leaves room: 250 more customers can be messaged today" in page


def test_the_forecast_warns_when_todays_limit_is_too_small(staff_client):
    sender, template, customers = _setup()
    sender.messaging_limit = 2
    db.session.commit()

    page = post(staff_client, "/campaigns/compose/preview", _form(sender, template, [customers])).get_data(as_text=True)

    assert "Room for 2 today: the rest wait" in page


def test_the_preview_offers_the_lists_attribute_names_with_how_many_contacts_have_each(staff_client):
    sender, template, customers = _setup()

    page = post(staff_client, "/campaigns/compose/preview", _form(sender, template, [customers])).get_data(as_text=True)

    assert '<div id="audience-attributes" hx-swap-oob="true">' in page
    assert '<option value="city">city — 1 of 4 contacts</option>' in page
    assert '<option value="order">order — 4 of 4 contacts</option>' in page


def test_the_preview_asks_for_what_is_missing_before_it_can_show_anything(staff_client):
    sender, template, _ = _setup()

    page = post(staff_client, "/campaigns/compose/preview", _form(sender, template, [])).get_data(as_text=True)

    assert "Choose a sender number, a template and an audience" in page


def test_edit_a_draft_changes_it(staff_client):
    sender, template, customers = _setup()
    post(staff_client, "/campaigns/new", _form(sender, template, [customers]))
    campaign = db.session.scalars(select(Campaign)).one()

    form_page = staff_client.get(f"/campaigns/{campaign.id}/edit").get_data(as_text=True)
    response = post(staff_client, f"/campaigns/{campaign.id}/edit", _form(sender, template, [customers],
                                                                            name="Autumn sale"))

    assert 'value="Spring sale"' in form_page and 'value="order"' in form_page
    assert response.status_code == 302
    db.session.refresh(campaign)
    assert campaign.name == "Autumn sale"


def test_only_draft_or_scheduled_campaigns_can_be_edited(staff_client):
    sender, template, customers = _setup()
    sending = factories.campaign(status="sending", sender=sender, name="Live one")

    page = staff_client.get(f"/campaigns/{sending.id}/edit", follow_redirects=True).get_data(as_text=True)
    response = post(staff_client, f"/campaigns/{sending.id}/edit", _form(sender, template, [customers]))

    assert "only draft or scheduled campaigns can be edited" in page
    assert response.status_code == 302
    db.session.refresh(sending)
    assert sending.name == "Live one"


def _quick_reply_setup():
    sender, _, customers = _setup()
    promo = factories.template(name="promo", category="MARKETING", components=QUICK_REPLY_TEMPLATE)
    db.session.commit()
    return sender, promo, customers


def _promo_form(sender, promo, customers, **fields) -> dict:
    return _form(sender, promo, [customers], **{"var:body:2:source": None, "var:body:2:value": None, **fields})


def test_each_quick_reply_button_gets_a_payload_that_defaults_to_its_text(staff_client):
    sender, promo, _ = _quick_reply_setup()

    page = staff_client.get(f"/campaigns/compose/variables?sender={sender.id}&template={promo.id}",
                            headers={"HX-Request": "true"}).get_data(as_text=True)

    assert '<label for="payload-0">Payload of “Yes please”</label>' in page
    assert 'name="payload:0" value="Yes please"' in page
    assert 'name="payload:1" value="Stop promotions"' in page


def test_the_chosen_payloads_are_kept_on_the_draft_and_the_preview_shows_the_buttons(staff_client):
    sender, promo, customers = _quick_reply_setup()

    response = post(staff_client, "/campaigns/new", _promo_form(sender, promo, customers, **{
        "payload:0": "Yes please", "payload:1": "  STOP_PROMOS "}))

    campaign = db.session.scalars(select(Campaign)).one()
    assert response.status_code == 302
    assert campaign.button_payloads == {"0": "Yes please", "1": "STOP_PROMOS"}
    page = staff_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert '<div class="buttons"><div>Yes please</div><div>Stop promotions</div></div>' in page
    assert 'name="payload:1" value="STOP_PROMOS"' in staff_client.get(f"/campaigns/{campaign.id}/edit").get_data(
        as_text=True)


def test_a_payload_longer_than_meta_accepts_is_refused_on_its_button(staff_client):
    sender, promo, customers = _quick_reply_setup()

    response = post(staff_client, "/campaigns/new", _promo_form(sender, promo, customers, **{"payload:1": "x" * 257}))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="error" id="payload-1-error">At most 256 characters.</p>' in page
    assert _campaigns() == 0


# --- Attributes, first names and fallbacks ------------------------------------------------------------

def test_an_attribute_no_contact_has_is_refused_naming_it_and_the_known_ones(staff_client):
    sender, template, customers = _setup()

    response = post(staff_client, "/campaigns/new", _form(sender, template, [customers], **{
        "var:body:2:value": "Citty", "var:body:2:fallback": "your city"}))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ('<p class="error" id="var-body-2-error">No contact in this list has an attribute “Citty”. '
            'Known: city, order.</p>') in page
    assert _campaigns() == 0


def test_an_attribute_is_matched_whatever_its_case_and_offered_once(staff_client):
    people = [("+15550100001", "Ana", {"City": "Lima"}), ("+15550100002", "Ben", {"city": "Quito"}),
              ("+15550100003", "Cy", {"city": ""})]
    sender, template, customers = _setup(people)
    form = _form(sender, template, [customers], **{"var:body:2:value": "CITY", "var:body:2:fallback": "town"})

    page = post(staff_client, "/campaigns/compose/preview", form).get_data(as_text=True)

    assert "Hi Ana, your order Lima is on its way." in page  # "City" in the file fills "CITY"
    assert "Hi Ben, your order Quito is on its way." in page
    assert page.count("<option value=") == 1 and '<option value="city">city — 2 of 3 contacts</option>' in page
    assert "1 will get the fallback “town” for {{2}}" in page
    assert post(staff_client, "/campaigns/new", form).status_code == 302


def test_first_name_is_a_source_of_its_own_and_the_default_of_a_first_name_variable(staff_client):
    sender, _, customers = _setup([("+15550100001", "Isaac Robinson", {}), ("+15550100002", "", {})])
    named = factories.template(name="appointment", parameter_format="NAMED", components=NAMED_TEMPLATE)
    db.session.commit()

    fields = staff_client.get(f"/campaigns/compose/variables?sender={sender.id}&template={named.id}")
    page = post(staff_client, "/campaigns/compose/preview", {
        "sender": str(sender.id), "template": str(named.id), "audience": "lists", "lists": [str(customers.id)],
        "var:body:first_name:source": "first_name", "var:body:first_name:fallback": "there",
        "var:body:date:source": "constant", "var:body:date:value": "Monday"}).get_data(as_text=True)

    assert '<option value="first_name" selected>' in fields.get_data(as_text=True)
    assert "Hi Isaac, see you on Monday." in page
    assert "Hi there, see you on Monday." in page


def test_the_preview_shows_someone_who_gets_a_fallback_and_says_which(staff_client):
    people = [(f"+1555010000{i}", f"Customer {i}", {"order": f"#{i}"}) for i in range(1, 6)]
    sender, template, customers = _setup(people + [("+15550100009", "", {"order": "#9"})])

    page = post(staff_client, "/campaigns/compose/preview", _form(sender, template, [customers])).get_data(as_text=True)

    assert page.count('class="bubble"') == 3
    assert "Hi Customer 1, your order #1" in page and "Hi Customer 2, your order #2" in page
    assert "Hi friend, your order #9 is on its way." in page  # the sixth contact, who has no name
    assert "Gets the fallback “friend” for {{1}}: this contact has no value of their own." in page


def test_the_forecast_counts_who_gets_each_fallback_and_never_says_none(staff_client):
    people = [("+15550100001", "Ana", {"order": "#1"}), ("+15550100002", "", {"order": "#2"}),
              ("+15550100003", " ", {"order": "#3"}), ("+15550100004", "", {})]
    sender, template, customers = _setup(people)

    page = post(staff_client, "/campaigns/compose/preview", _form(sender, template, [customers])).get_data(as_text=True)
    everyone = post(staff_client, "/campaigns/compose/preview", _form(sender, template, [customers], **{
        "var:body:2:fallback": "soon"})).get_data(as_text=True)

    assert "2 will get the fallback “friend” for {{1}}" in page  # the one skipped for {{2}} is not counted
    assert "1 missing {{2}} with no fallback" in page and "<dt>Will be sent</dt><dd>3</dd>" in page
    assert "None" not in page and "None" not in everyone
    assert "<dt>Will be skipped</dt>\n  <dd>Nobody</dd>" in everyone
    assert "3 will get the fallback “friend” for {{1}}; 1 will get the fallback “soon” for {{2}}" in everyone


def test_the_forecast_of_unmapped_variables_says_it_cannot_be_known_yet(staff_client):
    sender, template, customers = _setup()

    page = post(staff_client, "/campaigns/compose/preview", _form(sender, template, [customers], **{
        "var:body:1:source": "", "var:body:2:source": ""})).get_data(as_text=True)

    assert "Not known until every variable has a source: choose one for {{1}}, {{2}}" in page
    assert "None" not in page and "<dt>Will be skipped</dt>" not in page


def test_the_errors_are_summarised_at_the_top_each_linking_to_its_field(staff_client):
    sender, template, customers = _setup()

    response = post(staff_client, "/campaigns/new", _form(sender, template, [customers], **{
        "var:body:1:source": "", "var:body:2:value": "Citty"}))

    page = response.get_data(as_text=True)
    summary = page[page.index('<div class="error-summary"'):page.index("</div>", page.index('class="error-summary"'))]
    assert 'role="alert"' in summary and "autofocus" in summary
    assert "<h2 id=\"error-summary-heading\">Fix 2 problems</h2>" in summary
    assert '<a href="#var-body-1-source">{{1}}: Choose where this value comes from.</a>' in summary
    assert '<a href="#var-body-2-value">{{2}}: No contact in this list has an attribute “Citty”.' in summary
    assert page.index("error-summary") < page.index('id="name"')  # above the form's first field
    assert 'id="var-body-1-source" name="var:body:1:source" aria-invalid="true"' in page
    assert 'id="var-body-1-error">Choose where this value comes from.</p>' in page


# --- Send again to… ------------------------------------------------------------------------------------

def test_send_again_opens_compose_as_a_copy_aimed_at_the_chosen_outcome(app, staff_client):
    sender, template, customers = _setup()
    original = factories.campaign(status="sent", sender=sender, name="Spring sale", template_id=template.id,
                                  variables={"body:1": {"source": "first_name", "fallback": "there"},
                                             "body:2": {"source": "attribute", "value": "order"}})
    rows = [("+15550100001", "read", 4), ("+15550100002", "delivered", 3), ("+15550100003", "delivered", 3),
            ("+15550100004", "failed", 0)]
    contacts = dict(db.session.execute(select(Contact.phone, Contact.id)).all())
    db.session.execute(insert(Recipient), [{"campaign_id": original.id, "phone": phone, "contact_id": contacts[phone],
                                            "status": status, "reached": reached} for phone, status, reached in rows])
    add_counts(db.session, original.id, {"total": 4, "failed": 1, "accepted": 3, "sent": 3, "delivered": 3, "read": 1})
    db.session.commit()
    with app.test_request_context():
        menu = render_template("campaigns/partials/send_again.html", campaign=original)

    link = f"/campaigns/new?retarget={original.id}&amp;outcome=delivered_not_read"
    assert f'<a href="{link}">Delivered but not read <span class="muted">(2)</span></a>' in menu
    assert "Replied (0)" in menu and "Not delivered <span class=\"muted\">(1)</span>" in menu
    page = staff_client.get(link.replace("&amp;", "&")).get_data(as_text=True)

    assert 'value="Spring sale — retarget (not read)"' in page
    assert f'<option selected value="{sender.id}">' in page and f'<option selected value="{template.id}">' in page
    assert 'id="audience-1" name="audience" type="radio" value="retarget"' in page
    assert f'<option selected value="{original.id}">Spring sale</option>' in page
    assert '<option selected value="delivered_not_read">Delivered but not read</option>' in page
    assert '<option value="first_name" selected>' in page and 'name="var:body:2:value" value="order"' in page
    assert "Hi Ben, your order #2 is on its way." in page and "Hi Cy, your order #3 is on its way." in page
    assert "<dt>Recipients</dt><dd>2</dd>" in page and "<dt>Will be sent</dt><dd>2</dd>" in page
