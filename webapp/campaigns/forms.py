"""The forms of the campaign pages: compose (with the template's variables), schedule, and send a test."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField, Field, RadioField, SelectChoice, SelectField, SelectMultipleField, StringField, TelField,
    URLField,
)
from wtforms.utils import unset_value
from wtforms.validators import InputRequired, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.campaigns import presenters
from webapp.campaigns.audience import COMPOSE_OUTCOMES
from webapp.campaigns.errors import CampaignError
from webapp.campaigns.models import EDITABLE_STATES, Campaign
from webapp.campaigns.services import Draft
from webapp.campaigns.variables import NAME_SOURCES
from webapp.campaigns.windows import clock
from webapp.extensions import db
from webapp.form_parts import optional_int, strip
from webapp.senders.models import Template
from webapp.workspace.zone import workspace_zone

VARIABLE_PREFIX = "var:"  # inputs are named var:<slot key>:source, var:<slot key>:value, var:<slot key>:fallback
VARIABLE_PARTS = ("source", "value", "fallback", "track")  # track: the "Track clicks" box (campaigns/links.py)
PAYLOAD_PREFIX = "payload:"  # inputs are named payload:<button index>


class TemplateInputsField(Field):
    """Values from inputs the chosen template decides (named with a prefix), gathered by `read(formdata)`."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        self.raw_data = None
        self.data = {} if data is unset_value or data is None else dict(data)
        self.object_data = self.data
        if formdata is not None:
            self.data = self.read(formdata)


def variables_from(formdata) -> dict:
    """The template's variable mapping, {slot key: {"source", "value", "fallback", "track"?}}, from the var:… inputs."""
    found: dict[str, dict] = {}
    for name, value in formdata.items(multi=True):
        if not name.startswith(VARIABLE_PREFIX) or ":" not in name[len(VARIABLE_PREFIX):]:
            continue
        key, part = name[len(VARIABLE_PREFIX):].rsplit(":", 1)
        if part in VARIABLE_PARTS and value.strip():
            found.setdefault(key, {})[part] = value.strip()
    for spec in found.values():
        if spec.get("source") in NAME_SOURCES:
            spec.pop("value", None)  # the contact's name needs no value; keep no stale one
        if "track" in spec:
            spec["track"] = True
    return found


def payloads_from(formdata) -> dict:
    """The quick-reply buttons' payloads, {button index: payload}, from the payload:… inputs."""
    return {name[len(PAYLOAD_PREFIX):]: value.strip() for name, value in formdata.items(multi=True)
            if name.startswith(PAYLOAD_PREFIX) and value.strip()}


class VariablesField(TemplateInputsField):
    read = staticmethod(variables_from)


class ButtonPayloadsField(TemplateInputsField):
    read = staticmethod(payloads_from)


class ComposeForm(FlaskForm):
    """Name, sender, template, audience and variables; the rules themselves live in campaigns.services."""

    name = StringField("Campaign name", filters=[strip])
    sender = SelectField("Sender number", coerce=optional_int, validate_choice=False)
    template = SelectField("Template and language", coerce=optional_int, validate_choice=False)
    audience = RadioField("Send to", default="lists", validate_choice=False,
                          choices=[SelectChoice("lists", "Contacts of one or more lists"),
                                   SelectChoice("retarget", "Recipients of an earlier campaign"),
                                   SelectChoice("segment", "Contacts of a segment")])
    segment = SelectField("Segment", coerce=optional_int, validate_choice=False)
    lists = SelectMultipleField("Lists", coerce=int, validate_choice=False,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    retarget_campaign = SelectField("Earlier campaign", coerce=optional_int, validate_choice=False)
    retarget_outcome = SelectField("Which of its recipients", validate_choice=False,
                                   choices=[SelectChoice(k, label) for k, label in presenters.outcome_choices()])
    variables = VariablesField()
    button_payloads = ButtonPayloadsField()
    header_media_url = URLField("Header media URL", filters=[strip])
    window_opens = StringField("Send only from", filters=[strip], render_kw={"placeholder": "09:00"})
    window_closes = StringField("to", filters=[strip], render_kw={"placeholder": "20:00"})

    def __init__(self, *args, kept_segment: dict | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kept_segment = kept_segment  # the copy an edited campaign kept of its segment
        self.variable_errors: dict[str, str] = {}  # by slot key, or payload:<button index>
        self.sender.choices = [SelectChoice("", "Choose a sender number…")] + [
            SelectChoice(str(s.id), f"{s.label} ({s.display_phone_number})" if s.display_phone_number else s.label)
            for s in presenters.senders()]
        self.templates = presenters.approved_templates(self.sender.data)
        self.template.choices = [SelectChoice("", "Choose a template…")] + [
            SelectChoice(str(t.id), f"{t.name} ({t.language})", optgroup=t.name) for t in self.templates]
        self.list_choices = presenters.list_choices()
        self.lists.choices = [SelectChoice(str(c.id), c.name) for c in self.list_choices]
        self.retarget_campaign.choices = [SelectChoice("", "Choose a campaign…")] + [
            SelectChoice(str(c.id), c.name) for c in presenters.retarget_choices()]
        self.segment.choices = [SelectChoice("", "Choose a segment…")] + [
            SelectChoice(str(segment_id), name) for segment_id, name in presenters.segment_choices(kept_segment)]

    @property
    def chosen_template(self) -> Template | None:
        """The chosen template when it is an approved one of the chosen sender's account."""
        return next((t for t in self.templates if t.id == self.template.data), None)

    @property
    def retargeting(self) -> bool:
        return self.audience.data == "retarget"

    @property
    def to_segment(self) -> bool:
        return self.audience.data == "segment"

    def validate_retarget_campaign(self, field) -> None:
        if self.retargeting and not field.data:
            raise ValidationError("Choose the earlier campaign whose recipients to send to.")

    def validate_segment(self, field) -> None:
        if self.to_segment and not field.data:
            raise ValidationError("Choose the segment whose contacts to send to.")

    def draft(self) -> Draft:
        return Draft(
            name=self.name.data or "", sender_id=self.sender.data, template_id=self.template.data,
            list_ids=[] if self.retargeting or self.to_segment else list(self.lists.data or []),
            retarget_campaign_id=self.retarget_campaign.data if self.retargeting else None,
            retarget_outcome=self.retarget_outcome.data if self.retargeting else None,
            segment_id=self.segment.data if self.to_segment else None, kept_segment=self.kept_segment,
            variables=self.variables.data, button_payloads=self.button_payloads.data,
            header_media_url=(self.header_media_url.data or "") if presenters.media_kind(self.chosen_template) else "",
            window_opens=self.window_opens.data or "", window_closes=self.window_closes.data or "",
        )

    def show(self, error: CampaignError) -> None:
        """Put a service's refusal on the field it names (every variable and payload problem on its own row)."""
        problems = dict(getattr(error, "problems", None) or {})
        if not problems and (error.field or "").startswith(VARIABLE_PREFIX):
            problems = {error.field[len(VARIABLE_PREFIX):]: error.message}
        if "header_media_url" in problems:
            self.header_media_url.errors = [*self.header_media_url.errors, problems.pop("header_media_url")]
        self.variable_errors = problems
        if problems or (error.field or "").startswith(VARIABLE_PREFIX):
            return
        field = self._fields.get(error.field or "")
        if field is None:
            self.form_errors.append(error.message)
        else:
            field.errors = [*field.errors, error.message]

    def error_items(self, slot_rows: list, button_rows: list) -> list[tuple[str, str]]:
        """Every problem of the form in the order of the page, as (id of the input to fix, what to fix)."""
        items = [("compose-form", message) for message in self.form_errors]
        order = [self.name, self.sender, self.template, self.audience, self.lists, self.retarget_campaign,
                 self.retarget_outcome, self.segment, self.window_opens, self.window_closes]
        for field in order:
            target = field.id
            if field is self.audience:
                target = "retarget_campaign" if self.retargeting else "segment" if self.to_segment else "lists-0"
            items += [(target, f"{field.label.text}: {message}") for message in field.errors]
        items += [(row.error_target, f"{row.slot.label}: {row.error}") for row in slot_rows if row.error]
        items += [(row.id, f"Payload of “{row.label}”: {row.error}") for row in button_rows if row.error]
        items += [(self.header_media_url.id, f"{self.header_media_url.label.text}: {message}")
                  for message in self.header_media_url.errors]
        return items


def initial(campaign: Campaign) -> dict:
    """A saved campaign as the compose form's data."""
    retarget = (campaign.audience or {}).get("retarget")
    segment = (campaign.audience or {}).get("segment")
    return {
        "name": campaign.name, "sender": campaign.sender_id, "template": campaign.template_id,
        "audience": "retarget" if retarget else "segment" if segment else "lists",
        "lists": (campaign.audience or {}).get("lists") or [], "segment": segment["id"] if segment else None,
        "retarget_campaign": retarget["campaign_id"] if retarget else None,
        "retarget_outcome": retarget["outcome"] if retarget else None,
        "variables": campaign.variables or {}, "header_media_url": campaign.header_media_url or "",
        "button_payloads": campaign.button_payloads or {},
        **{name: clock(minutes) for name, minutes in (("window_opens", campaign.window_opens),
                                                       ("window_closes", campaign.window_closes))
           if minutes is not None},
    }


def initial_new(retarget_campaign_id: int | None = None, outcome: str | None = None) -> dict:
    """A new campaign's form: the only sender preselected; or, started from a sent campaign's "Send again to…",
    a copy of it (sender, template, variables, payloads) aimed at those of its recipients with that outcome."""
    numbers = presenters.senders()
    data: dict = {"sender": numbers[0].id if len(numbers) == 1 else None}
    source = db.session.get(Campaign, retarget_campaign_id) if retarget_campaign_id else None
    if source is None or source.status in EDITABLE_STATES:
        return data
    outcome = outcome if outcome in COMPOSE_OUTCOMES else "failed"
    data.update(name=presenters.retarget_name(source, outcome), sender=source.sender_id or data["sender"],
                template=source.template_id, audience="retarget", retarget_campaign=source.id,
                retarget_outcome=outcome, variables=dict(source.variables or {}),
                button_payloads=dict(source.button_payloads or {}), header_media_url=source.header_media_url or "")
    return data


class ScheduleForm(FlaskForm):
    scheduled_at = DateTimeLocalField("Send at", format="%Y-%m-%dT%H:%M",
                                      validators=[InputRequired("Choose the date and time to send at.")])

    def when(self) -> datetime:
        """The chosen wall-clock time, read in the workspace's time zone, as UTC."""
        return self.scheduled_at.data.replace(tzinfo=workspace_zone()).astimezone(timezone.utc)


class TestSendForm(FlaskForm):
    """The number is read by the service (services.number_for_test), exactly as an import reads a file's."""

    test_phone = TelField("Send a test to", filters=[strip],
                          validators=[InputRequired("Enter the number to send the test to.")])
