"""What a message's failure does to its recipient row, its campaign, its contact and the number's limiter.

One table, read like Meta's documentation (the action of each error code is in webapp/meta_errors.py):

    action          row                                       beyond the row
    RETRY           pending after 2^(attempt-1) s (at most    —
                    60 s) until the attempts run out, then
                    failed; an answer that was lost waits the
                    grace period while webhooks flow, else
                    becomes unknown
    THROTTLE        pending in 1 s, attempt not counted       the number's limiter holds 1 s, widens its margin
    PAIR_LIMIT      pending in 4^attempts s (at most 1 h),    —
                    attempt not counted
    MAINTENANCE     pending in 60 s, attempt not counted      —
    STOP            pending, attempt not counted              the campaign pauses; its banner names the
                                                              template and gives Meta's details and advice
    ROW_FAIL        failed with Meta's code, title, detail    —
    MARKETING_CAP   failed                                    the contact is held 24 h: no marketing campaign
                                                              sends to it until then (its rows wait)
    OPTED_OUT       failed                                    the contact is opted out

A row that waits (pending or unknown) keeps the code, title and details of the error that made it wait, until
a later attempt replaces them: sent, they are cleared; failed, they are the final error's. A `failed` webhook
for a message whose answer was lost replaces the error of a later attempt that was refused: it says what
happened to the one message that went.

A `failed` status that arrives by webhook is final for its row (Meta accepted the message, then gave
up), and has the same effects beyond the row: a STOP code pauses the campaign, 131049 holds the contact,
131050 opts out.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.campaigns.lifecycle import move, note_error, report
from webapp.campaigns.models import Campaign, Recipient
from webapp.campaigns.state_log import announce
from webapp.contacts import marketing_holds, optouts
from webapp.meta_errors import Action, MetaError, pause_notice


@dataclass(frozen=True)
class Retries:
    """The workspace's and the deployment's retry settings, and whether webhooks reach us lately."""

    max_attempts: int
    base_seconds: float
    grace_seconds: float
    webhooks_flowing: bool


@dataclass(frozen=True)
class Response:
    delay: Callable[[int, Retries], float] | None  # seconds before the row is tried again (from its attempts); None: final
    counts_attempt: bool = True
    hold_seconds: float = 0.0  # how long the number's limiter sends nothing
    pauses_campaign: bool = False
    opts_out: bool = False
    holds_contact: bool = False  # for marketing_holds.HOLD from the moment of the error


RESPONSES: dict[Action, Response] = {
    Action.RETRY: Response(lambda attempts, retries: min(retries.base_seconds * 2 ** (attempts - 1), 60)),
    Action.THROTTLE: Response(lambda attempts, retries: 1, counts_attempt=False, hold_seconds=1.0),
    Action.PAIR_LIMIT: Response(lambda attempts, retries: min(4 ** max(attempts, 1), 3600), counts_attempt=False),
    Action.MAINTENANCE: Response(lambda attempts, retries: 60, counts_attempt=False),
    Action.STOP: Response(lambda attempts, retries: 0, counts_attempt=False, pauses_campaign=True),
    Action.ROW_FAIL: Response(None),
    Action.MARKETING_CAP: Response(None, holds_contact=True),
    Action.OPTED_OUT: Response(None, opts_out=True),
}


@dataclass
class Effects:
    """What a batch of failures does beyond its rows, gathered and then applied once."""

    hold_seconds: float = 0.0
    pauses: dict[int, MetaError] = field(default_factory=dict)  # campaign id -> the error that stops it
    opted_out: dict[str, datetime] = field(default_factory=dict)  # phone -> when (the first time counts)
    held: dict[str, datetime] = field(default_factory=dict)  # phone -> until when

    def add(self, failure: MetaError, action: Action, campaign_id: int, phone: str, at: datetime) -> None:
        response = RESPONSES[action]
        self.hold_seconds = max(self.hold_seconds, response.hold_seconds)
        if response.pauses_campaign:
            self.pauses[campaign_id] = failure
        if response.opts_out:
            self.opted_out[phone] = min(at, self.opted_out.get(phone, at))
        if response.holds_contact:
            self.held[phone] = max(at + marketing_holds.HOLD, self.held.get(phone, at))


def settle_send_error(row: Recipient, failure: MetaError, action: Action, delivery_unknown: bool, now: datetime,
                      retries: Retries, effects: Effects) -> Counter:
    """Move a claimed row after its request failed; return the counter changes."""
    response = RESPONSES[action]
    effects.add(failure, action, row.campaign_id, row.phone, now)
    out_of_attempts = response.counts_attempt and row.attempts >= retries.max_attempts
    if response.delay is None or (out_of_attempts and not delivery_unknown):
        return report(row, "failed", now, failure=failure)
    note_error(row, failure)  # the row waits (or is unknown) with Meta's words, until a later attempt replaces them
    if not response.counts_attempt:
        row.attempts -= 1  # not this row's fault: it keeps its attempts
        delay = response.delay(row.attempts, retries)
        return move(row, "pending", next_attempt_at=now + timedelta(seconds=delay) if delay else None)
    if delivery_unknown and (out_of_attempts or not retries.webhooks_flowing):
        return move(row, "unknown")
    delay = retries.grace_seconds if delivery_unknown else response.delay(row.attempts, retries)
    return move(row, "pending", next_attempt_at=now + timedelta(seconds=delay))


def settle_failed_status(row, failure: MetaError | None, at: datetime, effects: Effects) -> None:
    """What a webhook's `failed` status does beyond its row (the row itself fails through lifecycle.report)."""
    if failure is not None:
        effects.add(failure, failure.action, row.campaign_id, row.phone, at)


def apply_effects(session: Session, effects: Effects) -> None:
    """Opt out who stopped marketing messages, hold who met the marketing limit and pause the campaigns an error
    stops, in the caller's transaction (contacts in phone order, then campaigns in id order: a fixed lock order)."""
    for phone in sorted(effects.opted_out.keys() | effects.held.keys()):
        if phone in effects.opted_out:
            optouts.opt_out(session, phone, effects.opted_out[phone], optouts.STOPPED_MARKETING)
        if phone in effects.held:
            marketing_holds.hold(session, phone, effects.held[phone])
    for campaign_id, failure in sorted(effects.pauses.items()):
        pause_for(session, campaign_id, failure)


def pause_for(session: Session, campaign_id: int, failure: MetaError, *, reviewed: bool = False) -> None:
    """Pause a sending campaign for an error that would fail every row alike, with a banner saying in plain words
    what happened and what to do, then what Meta said (its code, title and details; `reviewed`: its review of the
    template said it, and the error is what sends would get)."""
    campaign_name, name, language = session.execute(
        select(Campaign.name, Campaign.template_name, Campaign.template_language).where(Campaign.id == campaign_id)).one()
    notice = pause_notice(failure, f"{name} ({language})", reviewed=reviewed)
    paused = session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "sending").values(
        status="paused", notice_code=failure.code, notice=notice)).rowcount
    if paused:
        announce(session, campaign_id, campaign_name, "paused", why=notice)
