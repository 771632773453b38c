"""Broadcasts as the API speaks of them, on top of webapp/campaigns/services.py: drafts built from a request,
audiences of recipients added one by one, the broadcasts index, and the dashboard's sums."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from sqlalchemy import func, select

from webapp.api.errors import ApiError
from webapp.api.parameters import ParameterError, as_variables
from webapp.api.recipients import Report
from webapp.api.recipients import add as add_recipients
from webapp.audience.models import Segment
from webapp.campaigns import services
from webapp.campaigns.errors import CampaignError
from webapp.campaigns.lifecycle import COUNTER_NAMES, counts
from webapp.campaigns.models import (
    CAMPAIGN_LABELS, CAMPAIGN_STATES, Campaign, CampaignCounter, Recipient,
)
from webapp.extensions import db
from webapp.senders.models import Sender, Template
from webapp.timestamps import utcnow
from webapp.transactions import begin_write, is_sqlite

DEFAULT_LANGUAGE = "en_US"
AUDIENCES = ("lists", "segment", "retarget")  # a campaign's audiences besides recipients added one by one


# --- From a request to a Draft -------------------------------------------------------------------

def sender_for(sender_id: int | None) -> Sender:
    """The sender asked for, or the first one set up."""
    if sender_id is not None:
        sender = db.session.get(Sender, sender_id)
        if sender is None:
            raise ApiError("unprocessable", f"There is no sender number {sender_id}; GET /senders lists them.",
                           {"field": "sender_id"})
        return sender
    sender = db.session.scalar(select(Sender).order_by(Sender.id).limit(1))
    if sender is None:
        raise ApiError("unprocessable", "No sender number is set up yet; an admin adds one in Settings.",
                       {"field": "sender_id"})
    return sender


def template_for(sender: Sender, name: str, language: str | None) -> Template:
    """The sender's account's template by name and language (en_US, or its only language, when not given)."""
    found = list(db.session.scalars(select(Template).where(Template.waba_id == sender.waba_id, Template.name == name)
                                    .order_by(Template.language)))
    if language:
        chosen = [t for t in found if t.language == language]
    else:
        chosen = [t for t in found if t.language == DEFAULT_LANGUAGE] or (found if len(found) == 1 else [])
    if not chosen:
        offered = ", ".join(t.language for t in found)
        why = (f"it exists in {offered}; say which with `language`" if found
               else "GET /templates lists the templates you can send")
        raise ApiError("unprocessable", f"The sender {sender.label} has no template {name} "
                                        f"({language or DEFAULT_LANGUAGE}): {why}.", {"field": "template_name"})
    return chosen[0]


def apply_request(draft: services.Draft, body: Mapping, campaign: Campaign | None = None) -> services.Draft:
    """The draft with what the request changes: sender and template, values, button payloads, audience, name."""
    changes: dict = {}
    if campaign is None or {"sender_id", "template_name", "language"} & body.keys():
        sender = sender_for(body.get("sender_id", draft.sender_id))
        same = campaign is not None and "template_name" not in body
        template = template_for(sender, body.get("template_name") or campaign.template_name,
                                body.get("language") or (campaign.template_language if same else None))
        changes.update(sender_id=sender.id, template_id=template.id)
    template = db.session.get(Template, changes.get("template_id", draft.template_id))
    if "name" in body or campaign is None:
        changes["name"] = body.get("name") or default_name(template)
    variables = dict(body["variables"]) if "variables" in body else dict(draft.variables or {})
    if "template_parameters" in body:
        try:
            constants, media = as_variables(template.components, template.parameter_format,
                                            body["template_parameters"])
        except ParameterError as error:
            raise ApiError("unprocessable", f"template_parameters: {error}.",
                           {"field": "template_parameters"}) from None
        variables.update(constants)
        if media.get("header_url"):
            changes["header_media_url"] = media["header_url"]
    changes["variables"] = variables
    if "header_url" in body:
        changes["header_media_url"] = body["header_url"]
    if "button_payloads" in body:
        changes["button_payloads"] = dict(body["button_payloads"])
    elif changes.get("template_id", draft.template_id) != draft.template_id:
        changes["button_payloads"] = {}  # another template's buttons: each is sent with its own text
    changes.update(audience_changes(body))
    return replace(draft, **changes)


def audience_changes(body: Mapping) -> dict:
    """The Draft fields a request's audience sets: lists, a segment, or a retarget — one kind; naming one clears
    the others (a PATCH may change a broadcast's audience from lists to a segment)."""
    given = [name for name in ("list_ids", "segment_id", "retarget") if body.get(name)]
    if len(given) > 1:
        raise ApiError("invalid_request", f"Give one audience: {' or '.join(given)}, not both.",
                       [{"field": name, "message": "one audience kind at a time"} for name in given[1:]])
    changes: dict = {}
    if "list_ids" in body:
        changes["list_ids"] = list(body["list_ids"])
    if "sending_window" in body:
        window = body["sending_window"] or {}
        changes.update(window_opens=window.get("from", ""), window_closes=window.get("to", ""))
    if "retarget" in body:
        retarget = body["retarget"] or {}
        changes.update(retarget_campaign_id=retarget.get("broadcast_id"), retarget_outcome=retarget.get("engagement"))
    if "segment_id" in body:
        if body["segment_id"] is not None and db.session.get(Segment, body["segment_id"]) is None:
            raise ApiError("unprocessable", f"There is no segment {body['segment_id']}; GET /segments lists them.",
                           {"field": "segment_id"})
        changes.update(segment_id=body["segment_id"], kept_segment=None)
    if given:
        cleared = {"list_ids": [], "segment_id": None, "retarget_campaign_id": None, "retarget_outcome": None}
        changes = {**{name: value for name, value in cleared.items() if name not in changes}, **changes}
    return changes


def default_name(template: Template) -> str:
    return f"{template.name} {utcnow():%Y-%m-%d %H:%M} UTC"


def when(value: str, field: str = "schedule_at") -> datetime:
    """An ISO 8601 time with its zone, as an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError("invalid_request", f"{field} is not an ISO 8601 date-time, e.g. 2026-03-01T09:30:00Z.",
                       [{"field": field, "message": "not an ISO 8601 date-time"}]) from None
    if moment.tzinfo is None:
        raise ApiError("invalid_request", f"{field} needs a time zone: end it with Z for UTC.",
                       [{"field": field, "message": "no time zone"}])
    return moment.astimezone(timezone.utc)


def locked(campaign_id: int) -> Campaign:
    """The campaign, its row locked for this transaction, so a launch or the scheduler waits for our writes."""
    begin_write(db.session)
    query = select(Campaign).where(Campaign.id == campaign_id).execution_options(populate_existing=True)
    if not is_sqlite(db.session):
        query = query.with_for_update(of=Campaign)
    campaign = db.session.scalar(query)
    if campaign is None:
        raise ApiError("not_found", f"There is no broadcast {campaign_id}.")
    return campaign


def get(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise ApiError("not_found", f"There is no broadcast {campaign_id}.")
    return campaign


# --- What a create or send answers ------------------------------------------------------------------

@dataclass(frozen=True)
class Acceptance:
    accepted: int
    rejected: int
    report: Report | None
    forecast: services.Forecast | None


def acceptance(campaign: Campaign, report: Report | None = None) -> Acceptance:
    """Who is taken, before launch: rows stored so far, and the list or retarget audience as forecast."""
    audience = campaign.audience or {}
    forecast = services.forecast(campaign) if any(audience.get(kind) for kind in AUDIENCES) else None
    stored = counts(db.session, campaign.id)
    accepted = stored["pending"] + (forecast.summary.sendable if forecast else 0)
    rejected = stored["skipped"] + (len(report.errors) if report else 0) + \
        (forecast.summary.opted_out + forecast.summary.missing if forecast else 0)
    return Acceptance(accepted, rejected, report, forecast)


@dataclass(frozen=True)
class Created:
    campaign: Campaign
    taken: Acceptance


def create(body: Mapping, item_errors: Mapping[int, str], default_country: str) -> Created:
    """A broadcast from a create request (the API's, a compat API's translated to it): a draft, scheduled with
    `schedule_at`, or launched at once with `send`. Commits: the draft before its launch, so a refused send
    (validated first) leaves no draft behind and an accepted one is stored before sending starts."""
    if body.get("send") and body.get("schedule_at"):
        raise ApiError("invalid_request", "Give `send` or `schedule_at`, not both.",
                       [{"field": "schedule_at", "message": "cannot be combined with send"}])
    direct = "recipients" in body or not (body.get("list_ids") or body.get("segment_id") or body.get("retarget"))
    draft = apply_request(services.Draft("", None, None, [], direct=direct), body)
    campaign = services.save_draft(draft, origin="api")
    report = None
    if "recipients" in body:
        report = add_recipients(db.session, campaign, body["recipients"], item_errors, default_country)
    if body.get("schedule_at"):
        services.schedule(campaign, when(body["schedule_at"]))
    if body.get("send"):
        services.validate_for_launch(campaign)  # before the commit: a refused send leaves no draft behind
    db.session.commit()
    taken = acceptance(campaign, report)
    if body.get("send"):
        services.launch(campaign)
        db.session.commit()
    return Created(campaign, taken)


def update(campaign_id: int, body: Mapping) -> Campaign:
    """A draft or scheduled broadcast changed by what an update request gives (the API's, a compat API's translated
    to it); `schedule_at` schedules it, null makes it a draft again. Commits."""
    campaign = locked(campaign_id)
    if not campaign.is_editable:
        raise CampaignError(f"This broadcast is {campaign.label.lower()}: only draft or scheduled broadcasts can be "
                            "changed.", code="conflict")
    before = campaign.template_id
    draft = apply_request(services.draft_of(campaign), body, campaign)
    if draft.template_id != before and counts(db.session, campaign.id)["total"]:
        raise CampaignError("Recipients were added with values for this template; create a new broadcast to send "
                            "another template.", field="template_name", code="conflict")
    services.save_draft(draft, campaign, origin="api")
    if "schedule_at" in body:
        if body["schedule_at"] is None:
            if campaign.status == "scheduled":
                services.unschedule(campaign)
        else:
            services.schedule(campaign, when(body["schedule_at"]))
    db.session.commit()
    return campaign


def add_to_draft(campaign_id: int, items: list, item_errors: Mapping[int, str], default_country: str) -> Report:
    """Recipients added to a draft or scheduled broadcast (its row locked; the caller commits)."""
    campaign = locked(campaign_id)
    if not campaign.is_editable:
        raise CampaignError(f"This broadcast is {campaign.label.lower()}: recipients can only be added to a draft "
                            "or scheduled broadcast.", code="conflict")
    return add_recipients(db.session, campaign, items, item_errors, default_country)


# --- The index and the dashboard -------------------------------------------------------------------

def states(words: str) -> tuple[str, ...]:
    """`draft,sending` or the page's words (`ongoing`, `completed`) as campaign states."""
    found: list[str] = []
    for word in (w.strip().lower() for w in words.split(",") if w.strip()):
        matching = [s for s in CAMPAIGN_STATES if s == word] or \
            [s for s, label in CAMPAIGN_LABELS.items() if label.lower() == word]
        if not matching:
            raise ApiError("invalid_request", f"Unknown status {word!r}; use one of {', '.join(CAMPAIGN_STATES)}.",
                           [{"field": "status", "message": f"unknown status {word!r}"}])
        found += matching
    return tuple(dict.fromkeys(found))


def filtered(status: str = "", since: datetime | None = None, until: datetime | None = None, text: str = "",
             sender_id: int | None = None):
    """The campaigns query with the index's filters: status, creation time range [since, until), name, sender."""
    query = select(Campaign)
    if sender_id is not None:
        query = query.where(Campaign.sender_id == sender_id)
    if status:
        query = query.where(Campaign.status.in_(states(status)))
    if since is not None:
        query = query.where(Campaign.created_at >= since)
    if until is not None:
        query = query.where(Campaign.created_at < until)
    if text.strip():
        query = query.where(func.lower(Campaign.name).contains(text.strip().lower(), autoescape=True))
    return query


def page(query, number: int, per_page: int):
    return db.paginate(query.order_by(Campaign.created_at.desc(), Campaign.id.desc()), page=number,
                       per_page=per_page, error_out=False)


def totals(query) -> tuple[dict[str, int], dict[str, int]]:
    """(campaigns by state, their counters summed) for a filtered query, from two aggregate queries."""
    ids = query.with_only_columns(Campaign.id).scalar_subquery()
    by_status = dict(db.session.execute(select(Campaign.status, func.count()).where(Campaign.id.in_(ids))
                                        .group_by(Campaign.status)).all())
    summed = dict(db.session.execute(select(CampaignCounter.name, func.sum(CampaignCounter.value))
                                     .where(CampaignCounter.campaign_id.in_(ids))
                                     .group_by(CampaignCounter.name)).all())
    messages = {name: int(summed.get(name) or 0) for name in COUNTER_NAMES}
    messages["queued"] = messages["pending"] + messages["sending"]
    return {state: int(by_status.get(state, 0)) for state in CAMPAIGN_STATES}, messages


@dataclass(frozen=True)
class NumberRows:
    rows: list[tuple[Recipient, str]]  # (row, its campaign's name)
    next_after: int | None


def rows_of_number(phone: str, after: int | None, size: int) -> NumberRows:
    """One number's recipient rows across campaigns, in id order, a keyset page on the (phone, id) index."""
    query = (select(Recipient, Campaign.name).join(Campaign, Campaign.id == Recipient.campaign_id)
             .where(Recipient.phone == phone, Recipient.id > (after or 0)).order_by(Recipient.id).limit(size + 1))
    rows = [(row, name) for row, name in db.session.execute(query).all()]
    return NumberRows(rows[:size], rows[size - 1][0].id if len(rows) > size else None)
