"""Campaign rules shared by the compose pages, the JSON API and the jobs: edit, schedule, launch, control."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from flask import current_app
from sqlalchemy import func, select, update

from webapp.audience.models import Segment
from webapp.campaigns import guardrail
from webapp.campaigns.audience import (
    OUTCOMES, Attribute, Person, Placed, Summary, all_people, attribute_problems, first_with_fallback, placed,
    segment_condition, segment_copy, summary,
)
from webapp.campaigns.costs import Estimate, category_of, check_launch, check_resume, estimate, estimate_rows
from webapp.campaigns.errors import CampaignError
from webapp.campaigns.frequency import Cap, is_marketing
from webapp.campaigns.daily import Tally
from webapp.campaigns.lifecycle import HELD, add_counts, move
from webapp.campaigns.models import EDITABLE_STATES, Campaign, Recipient
from webapp.campaigns.queueing import enqueue_dispatchers, enqueue_launch
from webapp.campaigns.state_log import announce
from webapp.campaigns.variables import Resolved, check_mapping, payload_problems, payloads_of, resolve
from webapp.campaigns.windows import SendingWindow, clock, finish
from webapp.cloudapi import CloudAPIError
from webapp.contacts.models import ContactList
from webapp.contacts.phones import InvalidPhone, normalise
from webapp.contacts.services import sentence
from webapp.extensions import db
from webapp.queues import on_commit, redis_client
from webapp.pricing.rate_card import prices
from webapp.ratelimit import RateLimiter
from webapp.senders.models import Sender, Template
from webapp.senders.services import client_for
from webapp.timestamps import utcnow
from webapp.transactions import begin_write
from webapp.workspace.models import WorkspaceSettings
from webapp.workspace.zone import workspace_zone


@dataclass
class Draft:
    """What a campaign is made of, as a form or an API request gives it."""

    name: str
    sender_id: int | None
    template_id: int | None
    list_ids: list[int]
    retarget_campaign_id: int | None = None
    retarget_outcome: str | None = None
    variables: Mapping | None = None
    header_media_url: str = ""
    button_payloads: Mapping | None = None  # {"<button index>": payload} of its quick-reply buttons
    direct: bool = False  # recipients added one by one (the API), each with its own values
    window_opens: str = ""   # the sending window, "09:00" to "20:00" in each recipient's time (both blank: none)
    window_closes: str = ""
    segment_id: int | None = None
    kept_segment: Mapping | None = None  # the copy a campaign kept of its segment, which stands if it is deleted

    @property
    def direct_only(self) -> bool:
        return self.direct and not self.list_ids and not self.retarget_campaign_id and not self.segment_id


def draft_of(campaign: Campaign) -> Draft:
    """A saved campaign as the Draft it was made from, to validate it again before it goes out."""
    retarget = campaign.audience.get("retarget") or {}
    segment = campaign.audience.get("segment") or {}
    return Draft(campaign.name, campaign.sender_id, campaign.template_id, campaign.audience.get("lists") or [],
                 retarget.get("campaign_id"), retarget.get("outcome"), campaign.variables, campaign.header_media_url,
                 campaign.button_payloads, bool(campaign.audience.get("direct")),
                 *(clock(minutes) if minutes is not None else "" for minutes in (campaign.window_opens,
                                                                                 campaign.window_closes)),
                 segment.get("id"), segment or None)


def audience_of(draft: Draft) -> dict:
    """The audience a campaign saves: a segment's is a copy of its conditions as they are now."""
    direct = {"direct": True} if draft.direct else {}
    if draft.retarget_campaign_id:
        return {"retarget": {"campaign_id": draft.retarget_campaign_id, "outcome": draft.retarget_outcome}, **direct}
    if draft.segment_id:
        return {"segment": segment_of(draft), **direct}
    return {"lists": sorted(set(draft.list_ids)), **direct}


def segment_of(draft: Draft) -> dict | None:
    """The draft's segment as a campaign keeps it: the segment as it is, or the kept copy of a deleted one."""
    segment = db.session.get(Segment, draft.segment_id) if draft.segment_id else None
    if segment is not None:
        return segment_copy(segment)
    kept = draft.kept_segment or {}
    return dict(kept) if draft.segment_id and kept.get("id") == draft.segment_id else None


def validate(draft: Draft, outcomes=OUTCOMES) -> tuple[Sender, Template]:
    """Check a draft; raise CampaignError naming the field, or return its sender and template."""
    if not draft.name.strip():
        raise CampaignError("Give the campaign a name.", field="name")
    if len(draft.name) > 200:
        raise CampaignError("At most 200 characters.", field="name")
    sender = db.session.get(Sender, draft.sender_id) if draft.sender_id else None
    if sender is None:
        raise CampaignError("Choose a sender number.", field="sender")
    template = db.session.get(Template, draft.template_id) if draft.template_id else None
    if template is None or template.waba_id != sender.waba_id:
        raise CampaignError("Choose a template of this sender's WhatsApp account.", field="template")
    if not template.approved:
        raise CampaignError(f"{template.name} ({template.language}) is {template.status.lower()}; only approved "
                            "templates can be sent.", field="template")
    if draft.retarget_campaign_id:
        source = db.session.get(Campaign, draft.retarget_campaign_id)
        if source is None or source.status in EDITABLE_STATES:
            raise CampaignError("Retarget a campaign that has been sent.", field="audience")
        if draft.retarget_outcome not in outcomes:
            raise CampaignError("Choose which of its recipients to send to.", field="audience")
    elif draft.segment_id:
        segment = segment_of(draft)
        if segment is None:
            raise CampaignError("That segment no longer exists (it was deleted): choose another.", field="audience")
        segment_condition(db.session, segment)  # its conditions still read (an attribute's type may have changed)
    elif draft.list_ids:
        found = db.session.scalar(select(func.count()).where(ContactList.id.in_(draft.list_ids)))
        if found != len(set(draft.list_ids)):
            raise CampaignError("One of the chosen lists no longer exists.", field="audience")
    elif not draft.direct:
        raise CampaignError("Choose at least one list.", field="audience")
    problems = check_mapping(template.components, template.parameter_format, draft.variables or {},
                             draft.header_media_url)
    if draft.direct_only:  # each recipient brings its own values: only the mappings given are checked
        given = draft.variables or {}
        problems = {key: message for key, message in problems.items()
                    if key in given or (key == "header_media_url" and draft.header_media_url)}
    if not draft.direct:  # an attribute no contact of the audience has would fill nobody's message
        problems = {**attribute_problems(db.session, audience_of(draft), template.components,
                                         template.parameter_format, draft.variables or {}), **problems}
    problems.update(payload_problems(template.components, draft.button_payloads or {}))
    SendingWindow.parse(draft.window_opens, draft.window_closes)
    if problems:
        key, message = next(iter(problems.items()))
        error = CampaignError(message, field=key if key.startswith("payload:") else f"var:{key}")
        error.problems = problems
        raise error
    return sender, template


def save_draft(draft: Draft, campaign: Campaign | None = None, user_id: int | None = None,
               origin: str = "web") -> Campaign:
    sender, template = validate(draft)
    if campaign is None:
        campaign = Campaign(created_by_id=user_id, origin=origin, status="draft")
        db.session.add(campaign)
    elif campaign.status not in EDITABLE_STATES:
        raise CampaignError("Only draft or scheduled campaigns can be edited.", code="conflict")
    campaign.name = draft.name.strip()
    campaign.sender_id, campaign.template_id = sender.id, template.id
    campaign.template_name, campaign.template_language = template.name, template.language
    campaign.template_components, campaign.parameter_format = template.components, template.parameter_format
    campaign.audience = audience_of(draft)
    campaign.variables = dict(draft.variables or {})
    campaign.header_media_url = draft.header_media_url.strip()
    campaign.button_payloads = payloads_of(draft.button_payloads)
    window = SendingWindow.parse(draft.window_opens, draft.window_closes)
    campaign.window_opens, campaign.window_closes = (window.opens, window.closes) if window else (None, None)
    campaign.notice, campaign.notice_code = "", None
    db.session.flush()
    return campaign


@dataclass(frozen=True)
class Timing:
    """When a campaign with a sending window sends: where its recipients are, and when the last message goes."""

    window: SendingWindow
    placed: Placed
    start: datetime
    finish: datetime | None  # None: past windows.HORIZON_DAYS


@dataclass
class Forecast:
    summary: Summary
    seconds: float
    daily_room: int | None  # None: unlimited
    timing: Timing | None = None  # with a sending window
    cap: Cap | None = None  # the frequency cap, when it applies to this campaign
    cost: Estimate | None = None  # who will be sent, priced by the rate card

    @property
    def fits_today(self) -> bool:
        return self.daily_room is None or self.daily_room >= self.summary.sendable


def forecast(campaign: Campaign, known: list[Attribute] | None = None) -> Forecast:
    """What the send will look like: who gets it, who is skipped and why, who gets a fallback, how long, and
    whether today has room, and — with a sending window — when it ends. `known`: the audience's attributes, when
    the caller has them already."""
    now = utcnow()
    template = campaign.template or (db.session.get(Template, campaign.template_id) if campaign.template_id else None)
    cap = Cap.of(WorkspaceSettings.get()) if is_marketing(template) else None
    found = summary(db.session, campaign.audience, campaign.template_components, campaign.parameter_format,
                    campaign.variables or {}, known, capped=(lambda contact_id: cap.reached(contact_id, now)) if cap
                    else None)
    sender = campaign.sender
    room = None
    if sender.messaging_limit is not None:
        since = utcnow() - timedelta(days=1)
        used = db.session.scalar(
            select(func.count(func.distinct(Recipient.phone))).join(Campaign, Campaign.id == Recipient.campaign_id)
            .where(Campaign.sender_id == sender.id, Recipient.accepted_at > since)) or 0
        room = max(0, sender.messaging_limit - used)
    return Forecast(found, found.sendable / max(sender.throughput, 1), room, _timing(campaign, found, now), cap,
                    estimate(found.by_country, category_of(template), prices(db.session)))


def _timing(campaign: Campaign, found: Summary, now: datetime) -> Timing | None:
    """The window's forecast: each zone's share of who will be sent (those skipped are assumed spread evenly over
    the zones), drained at the number's rate while their window is open (windows.finish)."""
    window = SendingWindow.of(campaign)
    if window is None or not found.sendable:
        return None
    where = placed(db.session, campaign.audience, workspace_zone().key)
    reachable = sum(where.per_zone.values()) or 1
    start = max(campaign.scheduled_at or now, now)
    share = {zone: count * found.sendable / reachable for zone, count in where.per_zone.items()}
    return Timing(window, where, start, finish(window, share, max(campaign.sender.throughput, 1), start))


def _resolved(campaign: Campaign, person: Person) -> Resolved:
    return resolve(campaign.template_components, campaign.parameter_format, campaign.variables or {},
                   campaign.header_media_url, person.name, person.attributes, campaign.button_payloads)


def preview(campaign: Campaign, count: int = 3,
            known: list[Attribute] | None = None) -> list[tuple[Person, Resolved]]:
    """The message as real recipients will read it: the first few, one of them someone who gets a fallback
    when the audience has such a person, so staff see what the fallback reads like."""
    shown = []
    for person in all_people(db.session, campaign.audience, size=50):
        if not person.opted_out:
            shown.append((person, _resolved(campaign, person)))
        if len(shown) >= count:
            break
    if count > 1 and not any(resolved.fallbacks for _, resolved in shown):
        person = first_with_fallback(db.session, campaign.audience, campaign.template_components,
                                     campaign.parameter_format, campaign.variables or {}, known)
        if person is not None:
            shown = [*shown[:count - 1], (person, _resolved(campaign, person))]
    return shown


def validate_for_launch(campaign: Campaign) -> Draft:
    """Check a campaign again before it goes out (or is scheduled to); it needs someone to send to."""
    draft = draft_of(campaign)
    validate(draft)
    if draft.direct_only and not db.session.scalar(
            select(func.count()).select_from(Recipient).where(Recipient.campaign_id == campaign.id)):
        raise CampaignError("Add recipients before sending: this broadcast has none yet.", field="recipients")
    return draft


def schedule(campaign: Campaign, when: datetime) -> None:
    if campaign.status not in EDITABLE_STATES:
        raise CampaignError("Only a draft can be scheduled.", code="conflict")
    validate(draft_of(campaign))  # recipients may still be added to a scheduled broadcast
    if when.tzinfo is None:
        raise CampaignError("The time needs a time zone.", field="scheduled_at")
    if when <= utcnow():
        raise CampaignError("Choose a time in the future.", field="scheduled_at")
    campaign.status, campaign.scheduled_at = "scheduled", when
    campaign.notice, campaign.notice_code = "", None


def unschedule(campaign: Campaign) -> None:
    if campaign.status != "scheduled":
        raise CampaignError("The campaign is not scheduled.", code="conflict")
    campaign.status, campaign.scheduled_at = "draft", None


def launch(campaign: Campaign) -> None:
    """Send now: the snapshot runs as a job, so this returns at once."""
    if campaign.status not in EDITABLE_STATES:
        raise CampaignError("This campaign has already been launched.", code="conflict")
    validate_for_launch(campaign)
    if WorkspaceSettings.get().monthly_budget is not None:
        check_launch(db.session, _launch_estimate(campaign))
    campaign.status, campaign.launched_at = "queued", utcnow()
    campaign_id = campaign.id
    on_commit(db.session, lambda: enqueue_launch(campaign_id))


def _launch_estimate(campaign: Campaign) -> Estimate:
    """The cost of a campaign about to launch: of its rows when it has some (recipients added through the API),
    else of its audience."""
    if campaign.audience.get("direct"):
        return estimate_rows(db.session, campaign)
    return forecast(campaign).cost


def pause(campaign: Campaign) -> None:
    if campaign.status not in ("queued", "sending"):
        raise CampaignError("Only an ongoing campaign can be paused.", code="conflict")
    # Conditional, so a campaign that completed a moment ago is not turned back into a paused one.
    done = db.session.execute(update(Campaign).where(Campaign.id == campaign.id,
                                                     Campaign.status.in_(("queued", "sending")))
                              .values(status="paused", notice="Paused by staff.", notice_code=None))
    if not done.rowcount:
        raise CampaignError("The campaign is not sending any more.", code="conflict")
    announce(db.session, campaign.id, campaign.name, "paused", why="Paused by staff.")


def resume(campaign: Campaign) -> bool:
    """Go on from where it stopped: the snapshot if it was paused while being prepared, else the sending. Return
    whether this cleared the quality guardrail that paused it (campaigns/guardrail.py)."""
    if campaign.status != "paused":
        raise CampaignError("Only a paused campaign can be resumed.", code="conflict")
    check_resume(db.session, campaign)
    prepared = campaign.started_at is not None
    campaign.status = "sending" if prepared else "queued"
    campaign.notice, campaign.notice_code, campaign.waiting_until = "", None, None
    campaign.canary_passed_at = None  # whatever paused it may still be there: one request finds out
    campaign_id = campaign.id
    on_commit(db.session, lambda: enqueue_dispatchers(campaign_id) if prepared else enqueue_launch(campaign_id))
    return guardrail.clear(campaign)


def cancel(campaign: Campaign) -> int:
    """Stop for good: rows not yet sent are cancelled. Returns how many."""
    if campaign.status in ("sent", "partially_sent", "failed", "cancelled"):
        raise CampaignError("The campaign has already finished.", code="conflict")
    begin_write(db.session)
    db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(status="cancelled",
                                                                                  completed_at=utcnow()))
    announce(db.session, campaign.id, campaign.name, "cancelled")
    held = db.session.execute(
        update(Recipient).where(Recipient.campaign_id == campaign.id, Recipient.status == "pending",
                                Recipient.error_code == HELD.code)
        .values(status="skipped", claim_token=None, skip_reason="Held by Meta's per-user marketing limit (error "
                                                                "131049) until after the campaign was cancelled")
        .execution_options(synchronize_session=False)).rowcount
    cancelled = db.session.execute(
        update(Recipient).where(Recipient.campaign_id == campaign.id, Recipient.status == "pending")
        .values(status="cancelled", claim_token=None).execution_options(synchronize_session=False)).rowcount
    add_counts(db.session, campaign.id, {"pending": -cancelled - held, "cancelled": cancelled, "skipped": held})
    return cancelled


def delete(campaign: Campaign) -> None:
    if campaign.status not in EDITABLE_STATES:
        raise CampaignError("Only draft or scheduled campaigns can be deleted; cancel it instead.", code="conflict")
    db.session.delete(campaign)


@dataclass(frozen=True)
class SentTest:
    phone: str    # E.164, as it was sent to
    display: str  # international format, as people write it: "+1 202-555-0175"
    wamid: str


def number_for_test(phone: str) -> phonenumbers.PhoneNumber:
    """The number a test goes to, read exactly as an import reads a file's numbers (with the workspace's country)."""
    try:
        e164 = normalise(phone or "", WorkspaceSettings.get().default_country).e164
    except InvalidPhone as error:
        raise CampaignError(f"{sentence(error.reason)} Enter the number with its country code, e.g. +1 202 555 0175.",
                            field="test_phone") from None
    return phonenumbers.parse(e164)


def send_test(campaign: Campaign, phone: str) -> SentTest:
    """Send the campaign's message to one number now (filled in for the first recipient)."""
    number = number_for_test(phone)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    sample = preview(campaign, 1)
    params = sample[0][1].params if sample else resolve(campaign.template_components, campaign.parameter_format,
                                                        campaign.variables or {}, campaign.header_media_url,
                                                        button_payloads=campaign.button_payloads).params
    sender = campaign.sender
    limiter = RateLimiter(redis_client(), sender.phone_number_id, sender.throughput,
                          current_app.config["RATE_MARGIN_MS"])
    grant = limiter.acquire(1)
    if not grant.granted:
        raise CampaignError("The number is sending at its full rate right now; try the test again in a moment.")
    try:
        wamid = client_for(sender).send_template(sender.phone_number_id, e164, campaign.template_name,
                                                 campaign.template_language, params, callback_data="test").wamid
    except CloudAPIError as exc:
        code = f" (error {exc.code})" if exc.code is not None else ""
        raise CampaignError(f"Meta refused the test{code}: {exc.title or exc.message}", field="test_phone") from exc
    return SentTest(e164, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL), wamid)


def settle_unknown(campaign: Campaign, resend: bool) -> int:
    """The operator's decision on rows whose fate is unknown: send them again, or count them as failed.

    Returns how many rows were settled. Sending again may deliver a message twice to someone who did
    get it; that is why Broadcaster never does it on its own.
    """
    begin_write(db.session)
    rows = db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign.id,
                                                      Recipient.status == "unknown")).all()
    if not rows:
        raise CampaignError("No recipient of this campaign has an unknown fate.", code="conflict")
    deltas: dict[str, int] = {}
    now, tally = utcnow(), Tally()
    for row in rows:
        change = (move(row, "pending", next_attempt_at=None, attempts=0) if resend
                  else move(row, "failed", failed_at=now, error_title="Marked failed by staff: delivery unknown"))
        for name, value in change.items():
            deltas[name] = deltas.get(name, 0) + value
        tally.add(row, change, now)
    add_counts(db.session, campaign.id, deltas)
    tally.write(db.session)
    if resend and campaign.status in ("sent", "partially_sent", "failed"):
        campaign.status, campaign.completed_at = "sending", None
    if resend and campaign.status == "sending":
        campaign_id = campaign.id
        on_commit(db.session, lambda: enqueue_dispatchers(campaign_id))
    return len(rows)


