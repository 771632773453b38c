"""Page-only view-models for the campaign pages: choices, the message preview, and figures put into words."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select

from webapp.audience import segments
from webapp.audience.conditions import describe
from webapp.audience.models import Segment
from webapp.campaigns import services
from webapp.campaigns.audience import (
    CLICK_OUTCOMES, COMPOSE_OUTCOMES, OUTCOME_SHORT, OUTCOMES, Attribute, attributes, attributes_used, outcome_counts,
    segment_condition,
)
from webapp.campaigns.errors import CampaignError
from webapp.campaigns.lifecycle import counts
from webapp.campaigns.models import CAMPAIGN_LABELS, EDITABLE_STATES, Campaign
from webapp.campaigns.windows import HORIZON_DAYS, SendingWindow
from webapp.campaigns.links import REDIRECT_PATH, button_url, has_links, is_tracked, public_url, trackable
from webapp.campaigns.variables import Slot, default_source, media_header, slots, source_problems
from webapp.cloudapi import RenderedTemplate, render_template_parts, template_variables
from webapp.contacts.models import ContactList, ListMember
from webapp.extensions import db
from webapp.queues import redis_client
from webapp.ratelimit import Breaker
from webapp.senders.models import Sender, Template
from webapp.workspace.zone import localtime, workspace_zone

PER_PAGE = 25

# The status filter of the index, by the word staff read: "ongoing" → ("queued", "sending").
STATUS_FILTERS = {label.lower(): tuple(state for state, named in CAMPAIGN_LABELS.items() if named == label)
                  for label in dict.fromkeys(CAMPAIGN_LABELS.values())}


# --- The campaign page ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SlowedSending:
    rate_now: int  # messages a second the breaker allows while Meta fails
    rate: int  # the number's configured rate


def slowed_by_meta(campaign: Campaign) -> SlowedSending | None:
    """While a sending campaign's number is slowed because Meta fails (ratelimit.Breaker): how much."""
    sender = campaign.sender
    if campaign.status != "sending" or sender is None:
        return None
    breaker = Breaker(redis_client(), sender.phone_number_id, sender.throughput,
                      current_app.config["BREAKER_QUIET_SECONDS"])
    rate_now = breaker.rate_now()
    return SlowedSending(rate_now, sender.throughput) if rate_now < sender.throughput else None


# --- The index -----------------------------------------------------------------------------------

@dataclass
class CampaignRow:
    campaign: Campaign
    counts: dict[str, int]


@dataclass
class CampaignsPage:
    rows: list[CampaignRow]
    pagination: Pagination


def campaigns_page(status: str | None, page: int) -> CampaignsPage:
    """One page of campaigns, newest first, with their counters; `status` is a STATUS_FILTERS word."""
    query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    if status in STATUS_FILTERS:
        query = query.where(Campaign.status.in_(STATUS_FILTERS[status]))
    pagination = db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)
    return CampaignsPage([CampaignRow(c, counts(db.session, c.id)) for c in pagination.items], pagination)


@dataclass
class Readiness:
    """What a workspace has to compose with, so an empty page can say what to do first."""

    lists: int
    approved_templates: int


def readiness() -> Readiness:
    return Readiness(db.session.scalar(select(func.count()).select_from(ContactList)) or 0,
                     db.session.scalar(select(func.count()).select_from(Template)
                                       .where(Template.status == "APPROVED")) or 0)


# --- Compose choices -----------------------------------------------------------------------------

def senders() -> list[Sender]:
    return list(db.session.scalars(select(Sender).order_by(Sender.label, Sender.id)))


def approved_templates(sender_id: int | None) -> list[Template]:
    """The approved templates of a sender's WhatsApp account, by name then language."""
    sender = db.session.get(Sender, sender_id) if sender_id else None
    if sender is None:
        return []
    return list(db.session.scalars(select(Template).where(Template.waba_id == sender.waba_id,
                                                          Template.status == "APPROVED")
                                   .order_by(Template.name, Template.language)))


@dataclass(frozen=True)
class ListChoice:
    id: int
    name: str
    members: int


def list_choices() -> list[ListChoice]:
    """Every list with its member count, from one GROUP BY."""
    rows = db.session.execute(
        select(ContactList.id, ContactList.name, func.count(ListMember.contact_id))
        .outerjoin(ListMember, ListMember.list_id == ContactList.id)
        .group_by(ContactList.id, ContactList.name).order_by(ContactList.name)).all()
    return [ListChoice(*row) for row in rows]


def retarget_choices() -> list[Campaign]:
    """Campaigns that have been sent, newest first: the ones an audience can retarget."""
    return list(db.session.scalars(select(Campaign).where(Campaign.status.not_in(EDITABLE_STATES))
                                   .order_by(Campaign.id.desc()).limit(200)))


def segment_choices(kept: Mapping | None = None) -> list[tuple[int, str]]:
    """Every segment by name; and the segment an edited campaign kept a copy of, if it has been deleted since."""
    choices = [(segment.id, segment.name) for segment in segments.all_segments(db.session)]
    if kept and kept.get("id") not in {segment_id for segment_id, _ in choices}:
        choices.append((kept["id"], f"{kept.get('name')} (deleted: its conditions as they were)"))
    return choices


def outcome_choices() -> list[tuple[str, str]]:
    return [(key, OUTCOMES[key][0]) for key in COMPOSE_OUTCOMES]


def _chosen_audience(draft: services.Draft) -> dict | None:
    """The compose form's audience once it names someone to send to: lists, a segment whose conditions read, or an
    outcome of a campaign."""
    audience = services.audience_of(draft)
    if "retarget" in audience:
        if audience["retarget"]["outcome"] not in OUTCOMES or not db.session.get(Campaign, draft.retarget_campaign_id):
            return None
    elif "segment" in audience:
        if audience["segment"] is None:
            return None
        try:
            segment_condition(db.session, audience["segment"])
        except CampaignError:  # the form says why when it is saved
            return None
    elif not audience["lists"]:
        return None
    return audience


def audience_attributes(draft: services.Draft) -> list[Attribute]:
    """The attributes the compose form's audience has, each once whatever its case, with how many have it."""
    audience = _chosen_audience(draft)
    return attributes(db.session, audience) if audience else []


@dataclass(frozen=True)
class SendAgainChoice:
    outcome: str
    label: str
    count: int


def send_again_choices(campaign: Campaign) -> list[SendAgainChoice]:
    """What "Send again to…" offers on a finished campaign: each outcome, with how many it reaches (counters)."""
    found = outcome_counts(counts(db.session, campaign.id))
    offered = COMPOSE_OUTCOMES if has_links(db.session, campaign.id) else [
        key for key in COMPOSE_OUTCOMES if key not in CLICK_OUTCOMES]
    return [SendAgainChoice(key, OUTCOMES[key][0], found[key]) for key in offered]


def retarget_name(source: Campaign, outcome: str) -> str:
    """"Spring sale — retarget (not read)", within the 200 characters a name may have."""
    suffix = f" — retarget ({OUTCOME_SHORT[outcome]})"
    return source.name[:200 - len(suffix)] + suffix


@dataclass(frozen=True)
class SlotRow:
    """One variable of the chosen template as the compose form shows it: where its value comes from."""

    slot: Slot
    source: str
    value: str
    fallback: str
    error: str | None
    track: bool = False
    link_note: str = ""  # for a variable that can track clicks: how (webapp/campaigns/links.py)

    @property
    def id(self) -> str:
        return "var-" + self.slot.key.replace(":", "-")

    @property
    def error_target(self) -> str:
        """The input an error summary's link leads to: the source until there is one, then its value."""
        return f"{self.id}-value" if self.source in ("attribute", "constant") else f"{self.id}-source"


def slot_rows(template: Template | None, variables: Mapping, problems: Mapping[str, str]) -> list[SlotRow]:
    if template is None:
        return []
    rows = []
    for slot in slots(template.components, template.parameter_format):
        spec = variables.get(slot.key) or {}
        rows.append(SlotRow(slot, spec.get("source") or default_source(slot.key), spec.get("value", ""),
                            spec.get("fallback", ""), problems.get(slot.key), is_tracked(spec),
                            link_note(template.components, slot.key)))
    return rows


def link_note(components: list, slot_key: str) -> str:
    """What the compose form says beside "Track clicks": for a button, whether the template's URL is ours."""
    if not trackable(slot_key):
        return ""
    if not slot_key.startswith("button:"):
        return "When the value is a web address, each contact gets a short link of their own that counts the click."
    expected = f"{public_url()}{REDIRECT_PATH}{{{{1}}}}"
    found = button_url(components, int(slot_key.split(":", 1)[1]))
    if found.replace(" ", "") == expected:
        return "The button opens a short link of each contact's own; enter the full address it leads to."
    return (f"To track this button, its URL in WhatsApp Manager must be {expected} — it is {found or 'not set'}. "
            "Change the template there, sync templates, then enter the full address the button leads to.")


@dataclass(frozen=True)
class ButtonRow:
    """One quick-reply button of the chosen template as the compose form shows it: what a tap sends back."""

    index: int
    label: str
    payload: str
    error: str | None

    @property
    def id(self) -> str:
        return f"payload-{self.index}"


def button_rows(template: Template | None, payloads: Mapping, problems: Mapping[str, str]) -> list[ButtonRow]:
    if template is None:
        return []
    return [ButtonRow(index, label, payloads.get(str(index)) or label, problems.get(f"payload:{index}"))
            for index, label in template_variables(template.components, template.parameter_format).quick_replies]


def media_kind(template: Template | None) -> str | None:
    return media_header(template.components, template.parameter_format) if template else None


# --- Preview and forecast -------------------------------------------------------------------------

def draft_campaign(draft: services.Draft) -> Campaign | None:
    """An unsaved campaign to preview the compose form with, or None until sender, template and audience are chosen."""
    sender = db.session.get(Sender, draft.sender_id) if draft.sender_id else None
    template = db.session.get(Template, draft.template_id) if draft.template_id else None
    if sender is None or template is None or template.waba_id != sender.waba_id:
        return None
    audience = _chosen_audience(draft)
    if audience is None:
        return None
    return Campaign(name=draft.name, sender=sender, template_id=template.id, template_name=template.name,
                    template_language=template.language, template_components=template.components,
                    parameter_format=template.parameter_format, audience=audience,
                    variables=dict(draft.variables or {}), header_media_url=draft.header_media_url.strip(),
                    button_payloads=dict(draft.button_payloads or {}), **_window_of(draft))


def _window_of(draft: services.Draft) -> dict:
    """The draft's window as the campaign's columns; one that cannot be is left out of the preview (saving says why)."""
    try:
        window = SendingWindow.parse(draft.window_opens, draft.window_closes)
    except CampaignError:
        window = None
    return {"window_opens": window.opens, "window_closes": window.closes} if window else {}


@dataclass(frozen=True)
class PreviewMessage:
    """The message one real recipient would read; unfilled values show as their {{variable}}."""

    phone: str
    name: str
    message: RenderedTemplate
    missing: bool         # a value is empty and has no fallback: this recipient will be skipped
    too_long: str | None  # why Meta would refuse it (error 132005)
    fallbacks: list[tuple[str, str]]  # (variable, fallback) this recipient gets for want of a value


@dataclass(frozen=True)
class Preview:
    messages: list[PreviewMessage]
    forecast: services.Forecast
    duration: str
    throughput: int
    unmapped: list[str]  # variables without a source yet: until they have one, the forecast cannot be known
    window_notes: list[str] = field(default_factory=list)  # where the recipients are, as the window reads them

    @property
    def mapped(self) -> bool:
        """Every variable has a source: a gap left in a message is then the contact's own."""
        return not self.unmapped


def preview(campaign: Campaign, known: list[Attribute] | None = None) -> Preview:
    """The first recipients' messages (one with a fallback, if any) and the forecast, for the compose form and a
    draft's page. `known`: the audience's attributes, when the caller has them already."""
    unmapped = source_problems(campaign.template_components, campaign.parameter_format, campaign.variables or {})
    if known is None:  # one GROUP BY for the messages and the forecast alike
        known = attributes_used(db.session, campaign.audience, campaign.variables or {})
    messages = [
        PreviewMessage(person.phone, person.name,
                       render_template_parts(campaign.template_components, _unfilled_as_variables(resolved.params)),
                       bool(resolved.missing) and not unmapped, None if unmapped else resolved.too_long,
                       resolved.fallbacks)
        for person, resolved in services.preview(campaign, known=known)]
    forecast = services.forecast(campaign, known)
    labels = [slot.label for slot in slots(campaign.template_components, campaign.parameter_format)
              if slot.key in unmapped]
    duration = human_duration(forecast.seconds, forecast.summary.sendable)
    if forecast.timing is not None:
        duration = window_duration(forecast.timing, campaign.sender.throughput)
    return Preview(messages, forecast, duration, campaign.sender.throughput, labels,
                   window_notes(forecast.timing) if forecast.timing else [])


def window_duration(timing: services.Timing, throughput: int) -> str:
    """When a windowed campaign ends: "About 3 days: 09:00–20:00 each day, recipients' time, at 80 messages per
    second; ends about 2027-01-12 14:10 (Europe/Paris)"."""
    each_day = f"{timing.window} each day, recipients' time, at {throughput} messages per second"
    if timing.finish is None:
        return f"More than {HORIZON_DAYS} days: {each_day}"
    ends = f"ends about {localtime(timing.finish)} ({workspace_zone().key})"
    days = math.ceil((timing.finish - timing.start) / timedelta(days=1))
    if days > 1:
        return f"About {days} days: {each_day}; {ends}"
    return f"{ends[0].upper()}{ends[1:]}: sent within {timing.window}, recipients' time, at {throughput} messages " \
           "per second"


def window_notes(timing: services.Timing) -> list[str]:
    """What the forecast assumed of where recipients are, when it had to choose."""
    where = timing.placed
    notes = [f"{country} has {zones} time zones: {count:,} recipient{'s' if count != 1 else ''} get {zone}'s hours"
             for (country, zones, zone), count in sorted(where.several.items())]
    if where.workspace:
        notes.append(f"{where.workspace:,} number{'s have' if where.workspace != 1 else ' has'} no time-zone data "
                     f"(non-geographic): they get the workspace's hours ({workspace_zone().key})")
    if where.bad_attribute:
        notes.append(f"{where.bad_attribute:,} contact{'s have' if where.bad_attribute != 1 else ' has'} a timezone "
                     "attribute that names no time zone: their number's zone stands in")
    return notes


def sending_window(campaign: Campaign) -> str | None:
    """The campaign's window as its page says it: "09:00–20:00, recipients' time"."""
    window = SendingWindow.of(campaign)
    return f"{window}, recipients' time" if window else None


def _unfilled_as_variables(params: Mapping) -> dict:
    """Empty values become None, which the renderer leaves as `{{name}}`, so a gap shows as a gap."""
    shown = dict(params)
    body = params.get("body")
    if isinstance(body, Mapping):
        shown["body"] = {name: value or None for name, value in body.items()}
    elif body:
        shown["body"] = [value or None for value in body]
    if (params.get("header") or {}).get("type") == "text":
        shown["header"] = {**params["header"], "text": params["header"]["text"] or None}
    if params.get("buttons"):
        shown["buttons"] = [{**b, "text": b.get("text") or None} for b in params["buttons"]]
    return shown


def human_duration(seconds: float, messages: int = 1) -> str:
    """An estimate in words: "about 2 min 5 s"."""
    if messages <= 0:
        return "nothing to send"
    if seconds < 1:
        return "under a second"
    whole = math.ceil(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"about {hours} h {minutes} min" if minutes else f"about {hours} h"
    if minutes:
        return f"about {minutes} min {secs} s" if secs else f"about {minutes} min"
    return f"about {secs} s"


# --- The campaign page ------------------------------------------------------------------------------

def audience_words(campaign: Campaign) -> str:
    """Who the campaign goes to, as its page says it."""
    audience = campaign.audience or {}
    if "retarget" in audience:
        source = db.session.get(Campaign, audience["retarget"]["campaign_id"])
        outcome = OUTCOMES.get(audience["retarget"]["outcome"], ("?",))[0]
        return f"{outcome} recipients of “{source.name if source else 'a deleted campaign'}”"
    if "segment" in audience:
        return segment_words(audience["segment"])
    names = list(db.session.scalars(select(ContactList.name).where(ContactList.id.in_(audience.get("lists") or []))
                                    .order_by(ContactList.name)))
    added = " and recipients added through the API" if audience.get("direct") else ""
    if not names:
        return "Recipients added through the API" if added else "No list (the chosen lists were deleted)"
    return ("List " if len(names) == 1 else "Lists ") + ", ".join(names) + added


def segment_words(copy: Mapping) -> str:
    """Segment “VIPs Lyon”: city is “Lyon” and has tag “vip”. — and a word when the segment was deleted since."""
    conditions = copy.get("definition") or {}
    joined = " and " if conditions.get("match", "all") == "all" else " or "
    words = joined.join(describe(db.session, conditions)) or "every contact"
    said = f"Segment “{copy.get('name')}”: {words}."
    if db.session.get(Segment, copy.get("id")) is None:
        said += f" Segment “{copy.get('name')}” was deleted; this campaign uses its conditions as they were."
    return said
