"""Guardrails for the number's quality: a campaign first sends a slice of its recipients, and pauses itself with a
banner when, in that slice, too many opt out or fail with a code that warns of spam, or when Meta downgrades its
number.

The slice is the smaller of the workspace's `guard_slice_percent` % of the rows to send and `guard_slice_max` (at
least one): the rows up to `Campaign.slice_last_id`, fixed at launch. The dispatcher claims nothing beyond it
until the slice is judged: once every row of it has an outcome (Meta's `sent`, `delivered`, `read`, a reply or a
failure) and GUARD_SETTLE_SECONDS have passed since its last send (opt-outs follow delivery), or at the latest
GUARD_WAIT_SECONDS after it. Opt-outs that come later still count: the webhook ingest checks again when a slice
row's customer opts out.

Counting reads the slice's rows only (at most `guard_slice_max` to send, by the campaign's id index), never the
campaign. Opted out: a slice row answered with an opt-out (STOP or the opt-out button: webhooks/inbound.py) or
failed with 131050 (the customer stopped marketing messages).

Staff resume a paused campaign as any other; resuming one the guardrail paused clears it (`guard_state` cleared):
no more slice checks for that campaign, though a new quality downgrade of its number still pauses it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from webapp.campaigns.lifecycle import add_counts
from webapp.campaigns.models import Campaign, CampaignCounter, Recipient
from webapp.campaigns.state_log import announce
from webapp.workspace.models import WorkspaceSettings

OPTED_OUT = "slice_opt_outs"  # a campaign counter: opt-out answers to its slice's rows (webhooks/inbound.py)
STOPPED_MARKETING = 131050
NOT_YET = ("pending", "sending", "accepted")  # rows of the slice without an outcome yet
WATCHING = ("slice", "passed")


@dataclass(frozen=True)
class Thresholds:
    slice_percent: int
    slice_max: int
    opt_out_percent: float
    failure_percent: float
    failure_codes: frozenset[int]

    @classmethod
    def of(cls, settings: WorkspaceSettings) -> Thresholds:
        return cls(settings.guard_slice_percent, settings.guard_slice_max, settings.guard_opt_out_percent,
                   settings.guard_failure_percent, parse_codes(settings.guard_failure_codes))

    def slice_size(self, to_send: int) -> int:
        """The smaller of slice_percent % of the rows to send and slice_max, at least one."""
        return max(1, min(math.ceil(to_send * self.slice_percent / 100), self.slice_max))


def parse_codes(text: str) -> frozenset[int]:
    """"131048, 131049" -> {131048, 131049}; raises ValueError naming what is not a code."""
    codes = set()
    for part in text.replace(";", ",").split(","):
        if part.strip():
            if not part.strip().isdigit() or len(part.strip()) > 9:
                raise ValueError(f"“{part.strip()}” is not an error code: write Meta's codes as numbers, "
                                 "separated by commas.")
            codes.add(int(part.strip()))
    return frozenset(codes)


@dataclass(frozen=True)
class Slice:
    """What the rows of a campaign's slice came to."""

    size: int
    waiting: int  # rows without an outcome yet
    opted_out: int
    failures: dict[int, int]  # failures with a watched code, by code
    last_sent: datetime | None  # the latest accepted_at of the slice

    def alarm(self, limits: Thresholds) -> str:
        """Why the slice stops the campaign ("" if it does not): the banner's words."""
        if self.opted_out > self.size * limits.opt_out_percent / 100:
            return (f"{self.opted_out:,} of the first {self.size:,} recipients opted out (more than "
                    f"{limits.opt_out_percent:g}%). Customers who opt out often block or report the number too, "
                    "which lowers its quality rating: check the audience and the message before sending the rest.")
        failed = sum(self.failures.values())
        if failed > self.size * limits.failure_percent / 100:
            codes = ", ".join(f"{code} ×{count:,}" for code, count in sorted(self.failures.items()))
            return (f"{failed:,} of the first {self.size:,} messages failed with errors that warn of spam or "
                    f"over-messaging ({codes}; more than {limits.failure_percent:g}%). Meta may lower the number's "
                    "quality rating: check the audience before sending the rest.")
        return ""


def plan_slice(session: Session, campaign: Campaign) -> None:
    """At launch, when the workspace's guardrail is on: mark the campaign's first slice (the caller commits)."""
    settings = WorkspaceSettings.get()
    if not settings.guard_first_slice:
        campaign.guard_state, campaign.slice_last_id, campaign.slice_size = "", None, None
        return
    pending = select(Recipient.id).where(Recipient.campaign_id == campaign.id, Recipient.status == "pending")
    to_send = session.scalar(select(func.count()).select_from(pending.subquery())) or 0
    size = Thresholds.of(settings).slice_size(to_send)
    last = session.scalar(pending.order_by(Recipient.id).offset(size - 1).limit(1))
    campaign.slice_last_id = last if last is not None else session.scalar(
        select(func.max(Recipient.id)).where(Recipient.campaign_id == campaign.id))
    campaign.slice_size, campaign.guard_state = min(size, to_send) or 1, "slice"


def figures(session: Session, campaign: Campaign, codes: frozenset[int]) -> Slice:
    rows = session.execute(
        select(Recipient.status, Recipient.error_code, func.count(), func.max(Recipient.accepted_at))
        .where(Recipient.campaign_id == campaign.id, Recipient.id <= campaign.slice_last_id)
        .group_by(Recipient.status, Recipient.error_code)).all()
    answers = session.scalar(select(func.sum(CampaignCounter.value)).where(
        CampaignCounter.campaign_id == campaign.id, CampaignCounter.name == OPTED_OUT)) or 0
    failures: dict[int, int] = {}
    for status, code, count, _ in rows:
        if status == "failed" and code in codes:
            failures[code] = failures.get(code, 0) + count
    stopped = sum(count for status, code, count, _ in rows if status == "failed" and code == STOPPED_MARKETING)
    sent = [at for *_, at in rows if at is not None]
    return Slice(campaign.slice_size or 1, sum(count for status, _, count, _ in rows if status in NOT_YET),
                 int(answers) + stopped, failures, max(sent) if sent else None)


@dataclass(frozen=True)
class Verdict:
    go_on: bool = False  # the slice passed: the rest may go
    paused: bool = False
    wait_seconds: float = 0.0


def judge(session: Session, campaign_id: int, now: datetime, settle: float, wait: float) -> Verdict:
    """Judge a campaign's slice once it is sent (the dispatcher asks when nothing of the slice is left to claim):
    pause the campaign if the slice alarms, let the rest go once its outcomes are in, else say how long to wait.
    In the caller's transaction (the dispatcher commits it)."""
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    if campaign is None or campaign.guard_state != "slice":
        return Verdict(go_on=True)
    limits = Thresholds.of(WorkspaceSettings.get())
    found = figures(session, campaign, limits.failure_codes)
    if why := found.alarm(limits):
        trip(session, campaign, why)
        return Verdict(paused=True)
    since = (now - found.last_sent).total_seconds() if found.last_sent else wait
    if since >= wait or (not found.waiting and since >= settle):
        session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.guard_state == "slice")
                        .values(guard_state="passed"))
        return Verdict(go_on=True)
    return Verdict(wait_seconds=max(0.05, (settle if not found.waiting else wait) - since))


def note_opt_out(session: Session, row: Recipient) -> int | None:
    """A customer of a campaign row opted out by answering it: count it if the row is in its campaign's watched
    slice; return the campaign to check then."""
    campaign = session.execute(select(Campaign.slice_last_id, Campaign.guard_state)
                               .where(Campaign.id == row.campaign_id)).one_or_none()
    if campaign is None or campaign.guard_state not in WATCHING or row.id > (campaign.slice_last_id or 0):
        return None
    add_counts(session, row.campaign_id, {OPTED_OUT: 1})
    return row.campaign_id


def check(session: Session, campaign_ids: set[int]) -> list[int]:
    """Pause the campaigns whose slice alarms now (opt-outs after the slice count too); return those paused. In
    the caller's transaction."""
    paused = []
    if not campaign_ids:
        return paused
    limits = Thresholds.of(WorkspaceSettings.get())
    for campaign in session.scalars(select(Campaign).where(Campaign.id.in_(campaign_ids),
                                                           Campaign.guard_state.in_(WATCHING))
                                    .order_by(Campaign.id)):
        if why := figures(session, campaign, limits.failure_codes).alarm(limits):
            if trip(session, campaign, why):
                paused.append(campaign.id)
    return paused


def pause_senders(session: Session, troubled: dict[int, str]) -> list[int]:
    """Pause the ongoing campaigns of numbers Meta downgraded or restricted ({sender id: why}); return them."""
    paused = []
    for campaign in session.scalars(select(Campaign).where(Campaign.sender_id.in_(troubled),
                                                           Campaign.status.in_(("queued", "sending")))
                                    .order_by(Campaign.id)):
        if trip(session, campaign, f"{troubled[campaign.sender_id]} Sending more could lower it further."):
            paused.append(campaign.id)
    return paused


def trip(session: Session, campaign: Campaign, why: str) -> bool:
    """Pause an ongoing campaign with the guardrail's banner (conditional: one that finished stays finished)."""
    notice = f"Paused by the quality guardrail: {why} Resume to send the rest anyway."
    done = session.execute(update(Campaign).where(Campaign.id == campaign.id,
                                                  Campaign.status.in_(("queued", "sending")))
                           .values(status="paused", notice=notice, notice_code=None, guard_state="tripped")
                           .execution_options(synchronize_session=False)).rowcount
    if done:
        announce(session, campaign.id, campaign.name, "paused", why=notice)
    return bool(done)


def clear(campaign: Campaign) -> bool:
    """Staff resume a campaign: one the guardrail paused is cleared of it for good; True if it was."""
    if campaign.guard_state != "tripped":
        return False
    campaign.guard_state = "cleared"
    return True
