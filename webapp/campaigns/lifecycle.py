"""The recipient state machine. A row only moves forward, and every move updates its campaign's counters.

    pending → sending → accepted → sent → delivered → read → replied   (the funnel: `reached` keeps the furthest)
    pending → skipped | cancelled;  sending → pending (retry) | unknown (lost claim);  any later stage → failed

Every change to a row's status goes through this module, so the counters kept in `campaign_counters`
always equal what a GROUP BY over the rows would say, without anyone ever running that GROUP BY.
Funnel counters (accepted, sent, delivered, read, replied) count rows that ever reached the stage — a read
message was delivered even when Meta skipped the `delivered` status — while the others count current statuses.
`accepted` is the Cloud API's answer to our request; `sent` and the later stages are what Meta's statuses say.
The failed rows are also counted by their error code (`code:131026`, `code:none`), so the log's error filter lists
a campaign's codes without counting its failed rows: every failed row is in exactly one of them.
"""
from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from webapp.campaigns.models import Campaign, CampaignCounter, Recipient
from webapp.contacts.models import Contact
from webapp.meta_errors import MetaError
from webapp.transactions import adding, is_sqlite

FUNNEL = {"accepted": 1, "sent": 2, "delivered": 3, "read": 4, "replied": 5}
STAGE_AT_RANK = {rank: stage for stage, rank in FUNNEL.items()}
BEFORE_SEND = ("pending", "sending", "unknown")
NEVER_SENT = ("skipped", "cancelled")
COUNTED_BY_STATUS = ("pending", "sending", "unknown", "failed", "skipped", "cancelled")
CLICKED = "clicked"  # recipients who clicked one of the campaign's tracked links (campaigns/links.py), once each
COUNTER_NAMES = ("total", *COUNTED_BY_STATUS, *FUNNEL, CLICKED)
SHARDS = 4
FAILED_WITH = "code:"  # + Meta's error code, or NO_CODE: the failed rows with that code (fits the name's 16 characters)
NO_CODE = "none"
# What a row held by Meta's per-user marketing limit says while it waits (a held row keeps this code until sent).
HELD = MetaError(131049, "Waiting: Meta's per-user marketing limit lets this contact receive no marketing "
                         "message for 24 hours", "The row is sent when the 24 hours end.")


def failure_counter(code: int | None) -> str:
    """The counter of a campaign's failed rows with this error code (None: failed without one)."""
    return f"{FAILED_WITH}{NO_CODE if code is None else code}"


def _state(row: Recipient) -> tuple[str, int, str | None]:
    """What the counters count of a row: its status, its furthest stage, and its failure's counter if it failed."""
    return row.status, row.reached or 0, failure_counter(row.error_code) if row.status == "failed" else None


def _deltas(before: tuple[str, int, str | None], after: tuple[str, int, str | None]) -> Counter:
    (old_status, old_reached, old_failure), (new_status, new_reached, new_failure) = before, after
    deltas: Counter = Counter()
    if old_status != new_status:
        if old_status in COUNTED_BY_STATUS:
            deltas[old_status] -= 1
        if new_status in COUNTED_BY_STATUS:
            deltas[new_status] += 1
    for rank in range(old_reached + 1, new_reached + 1):
        deltas[STAGE_AT_RANK[rank]] += 1
    if old_failure != new_failure:  # failed, or a failed row's code replaced by Meta's word on what went
        if old_failure:
            deltas[old_failure] -= 1
        if new_failure:
            deltas[new_failure] += 1
    return deltas


def report(row: Recipient, stage: str, at: datetime, *, wamid: str | None = None,
           failure: MetaError | None = None) -> Counter:
    """Apply what Meta (or the API's answer) says of a row; return the counter changes.

    Idempotent and order-independent: duplicates change nothing, and a late `sent` after `read`
    only fills in `sent_at`.
    """
    before = _state(row)
    # The first status naming a wamid the row lacks: its message went, though no answer told us (it was lost).
    first_word = bool(wamid) and not row.wamid
    if first_word:
        row.wamid = wamid
    if stage in FUNNEL:
        stamp = f"{stage}_at"
        if getattr(row, stamp) is None:
            setattr(row, stamp, at)
        row.reached = max(row.reached or 0, FUNNEL[stage])
        if row.status in BEFORE_SEND:
            note_error(row, None)  # this attempt went through: an earlier attempt's error no longer applies
        if row.status in BEFORE_SEND or row.status in FUNNEL:
            row.status = STAGE_AT_RANK[row.reached]
    elif stage == "failed":
        if row.status not in NEVER_SENT:
            # A duplicate keeps the first; a refused attempt's error gives way to Meta's word on what went.
            if failure and (row.status != "failed" or row.error_code is None or first_word):
                note_error(row, failure)
            row.status = "failed"
            row.failed_at = row.failed_at or at
    else:
        raise ValueError(f"unknown stage {stage!r}")
    if row.status != "sending":
        row.claim_token = None
    return _deltas(before, _state(row))


def note_error(row: Recipient, failure: MetaError | None) -> None:
    """Keep Meta's words on the row: the error that failed it, or the last one that made it wait (None: clear it)."""
    row.error_code, row.error_title, row.error_detail = (failure.code, failure.title, failure.detail) if failure \
        else (None, "", "")


def move(row: Recipient, status: str, **fields) -> Counter:
    """A transition we decide ourselves (retry, unknown, skip, cancel, operator's choice)."""
    allowed = {
        "pending": ("sending", "skipped", "cancelled", "failed"),
        "sending": ("pending", "unknown", "failed"),
        "unknown": ("pending", "failed"),
    }
    if status not in allowed.get(row.status, ()):
        raise ValueError(f"a {row.status} recipient cannot become {status}")
    before = _state(row)
    row.status = status
    for name, value in fields.items():
        setattr(row, name, value)
    if status != "sending":
        row.claim_token = None
    return _deltas(before, _state(row))


def add_counts(session: Session, campaign_id: int, deltas: Counter | dict) -> None:
    """Add to a campaign's counters (on a random shard, so concurrent writers seldom meet on one row), in name order:
    every writer locks a campaign's counters in the same order (a failure also moves its code's counter)."""
    rows = [{"campaign_id": campaign_id, "name": name, "shard": random.randrange(SHARDS), "value": value}
            for name, value in sorted(deltas.items()) if value]
    if not rows:
        return
    session.execute(adding(session, CampaignCounter.__table__, ("campaign_id", "name", "shard"), ("value",)), rows)


def counts(session: Session, campaign_id: int) -> dict[str, int]:
    """Every counter of a campaign (a handful of rows, whatever the campaign's size)."""
    found = dict(session.execute(
        select(CampaignCounter.name, func.sum(CampaignCounter.value))
        .where(CampaignCounter.campaign_id == campaign_id).group_by(CampaignCounter.name)
    ).all())
    result = {name: int(found.get(name, 0)) for name in COUNTER_NAMES}
    result["queued"] = result["pending"] + result["sending"]
    return result


def recount(session: Session, campaign_id: int) -> dict[str, int]:
    """The counters computed from the rows themselves: for tests and for repairing a campaign."""
    by_status = dict(session.execute(
        select(Recipient.status, func.count()).where(Recipient.campaign_id == campaign_id).group_by(Recipient.status)
    ).all())
    result = {name: int(by_status.get(name, 0)) for name in COUNTED_BY_STATUS}
    result["total"] = sum(by_status.values())
    for stage, rank in FUNNEL.items():
        result[stage] = session.scalar(
            select(func.count()).where(Recipient.campaign_id == campaign_id, Recipient.reached >= rank)) or 0
    result[CLICKED] = session.scalar(select(func.count()).where(Recipient.campaign_id == campaign_id,
                                                                 Recipient.clicked_at.is_not(None))) or 0
    result["queued"] = result["pending"] + result["sending"]
    return result


def recount_failures(session: Session, campaign_id: int) -> dict[str, int]:
    """The failed rows by error code, counted from the rows (their counters' names: `failure_counter`)."""
    return {failure_counter(code): count for code, count in session.execute(
        select(Recipient.error_code, func.count())
        .where(Recipient.campaign_id == campaign_id, Recipient.status == "failed").group_by(Recipient.error_code))}


def failures(session: Session, campaign_id: int) -> dict[int, int] | None:
    """How many of a campaign's failed rows have each of Meta's error codes, from the counters (rows failed without
    a code are left out; a code no row has any more is not there). None when the counters do not account for every
    failed row: a campaign whose rows failed before the counters were kept by code."""
    found = dict(session.execute(
        select(CampaignCounter.name, func.sum(CampaignCounter.value))
        .where(CampaignCounter.campaign_id == campaign_id,
               (CampaignCounter.name == "failed") | CampaignCounter.name.startswith(FAILED_WITH, autoescape=True))
        .group_by(CampaignCounter.name)).all())
    failed = int(found.pop("failed", 0) or 0)
    by_name = {name.removeprefix(FAILED_WITH): int(value) for name, value in found.items()}
    if sum(by_name.values()) != failed:
        return None
    return {int(code): count for code, count in by_name.items() if code != NO_CODE and count > 0}


@dataclass(frozen=True)
class Claimed:
    id: int
    phone: str
    params: dict | None
    attempts: int
    claim_token: str
    country: str = ""  # what the message costs depends on it (campaigns/costs.py: the monthly budget)


def claim(session: Session, campaign_id: int, limit: int, now: datetime, *, marketing: bool = False,
          token: str | None = None, zones: list[str] | None = None, up_to: int | None = None) -> list[Claimed]:
    """Mark up to `limit` due pending rows `sending` under the claimer's token (its lease's, so that a row names
    its owner: campaigns/orphans.py), or a fresh one, in the caller's transaction.

    Only while the campaign is `sending`: a pause or cancel committed before this statement means no row
    is claimed, so no API call starts after it. A due row whose contact opted out since the launch is
    skipped instead, never sent; in a `marketing` campaign, a row whose contact Meta's per-user marketing
    limit holds waits for the hold's end. With `zones` (a sending window's open zones), only rows in those zones
    are claimed; with `up_to` (a first slice being judged: campaigns/guardrail.py), only rows up to that id.
    On PostgreSQL, SKIP LOCKED lets dispatchers run side by side.
    """
    token = token or uuid.uuid4().hex
    due = (
        select(Recipient.id, Recipient.contact_id, Recipient.phone)
        .where(Recipient.campaign_id == campaign_id, Recipient.status == "pending",
               or_(Recipient.next_attempt_at.is_(None), Recipient.next_attempt_at <= now))
        .order_by(Recipient.id)
        .limit(limit)
    )
    if zones is not None:
        due = due.where(Recipient.zone.in_(zones))
    if up_to is not None:
        due = due.where(Recipient.id <= up_to)
    if not is_sqlite(session):
        due = due.with_for_update(skip_locked=True)
    candidates = session.execute(due).all()
    if not candidates:
        return []
    opted_out = _skip_opted_out(session, campaign_id, candidates)
    held = _defer_held(session, candidates, now) if marketing else set()
    campaign_sending = exists().where(and_(Campaign.id == campaign_id, Campaign.status == "sending"))
    rows = session.execute(
        update(Recipient)
        .where(Recipient.id.in_([c.id for c in candidates if c.contact_id not in opted_out and c.phone not in held]),
               Recipient.status == "pending", campaign_sending)
        .values(status="sending", claim_token=token, sending_at=now, attempts=Recipient.attempts + 1)
        .returning(Recipient.id, Recipient.phone, Recipient.params, Recipient.attempts, Recipient.country)
        .execution_options(synchronize_session=False)
    ).all()
    if rows:
        add_counts(session, campaign_id, {"pending": -len(rows), "sending": len(rows)})
    return [Claimed(r.id, r.phone, r.params, r.attempts, token, r.country) for r in sorted(rows, key=lambda r: r.id)]


def _skip_opted_out(session: Session, campaign_id: int, candidates) -> set[int]:
    """Skip the rows whose contact opted out since the launch; return those contacts' ids."""
    contact_ids = {c.contact_id for c in candidates if c.contact_id}
    if not contact_ids:
        return set()
    opted_out = set(session.scalars(select(Contact.id).where(Contact.id.in_(contact_ids),
                                                             Contact.opted_out_at.is_not(None))))
    if opted_out:
        skipped = session.execute(
            update(Recipient)
            .where(Recipient.id.in_([c.id for c in candidates if c.contact_id in opted_out]),
                   Recipient.status == "pending")
            .values(status="skipped", skip_reason="Opted out after the campaign was launched")
            .execution_options(synchronize_session=False)).rowcount
        add_counts(session, campaign_id, {"pending": -skipped, "skipped": skipped})
    return opted_out


def _defer_held(session: Session, candidates, now: datetime) -> set[str]:
    """Put off the rows whose contact Meta's per-user marketing limit holds until the hold ends, saying why on
    the row; return those numbers."""
    holds = dict(session.execute(select(Contact.phone, Contact.marketing_hold_until).where(
        Contact.phone.in_({c.phone for c in candidates}), Contact.marketing_hold_until > now)).all())
    for until in set(holds.values()):
        session.execute(
            update(Recipient)
            .where(Recipient.id.in_([c.id for c in candidates if holds.get(c.phone) == until]),
                   Recipient.status == "pending")
            .values(next_attempt_at=until, error_code=HELD.code, error_title=HELD.title, error_detail=HELD.detail)
            .execution_options(synchronize_session=False))
    return set(holds)


def release(session: Session, campaign_id: int, claimed: list[Claimed]) -> int:
    """Give claimed rows that were never sent back to `pending` (their attempt does not count)."""
    if not claimed:
        return 0
    released = session.execute(
        update(Recipient)
        .where(Recipient.id.in_([c.id for c in claimed]), Recipient.status == "sending",
               Recipient.claim_token.in_({c.claim_token for c in claimed}))
        .values(status="pending", claim_token=None, attempts=Recipient.attempts - 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    add_counts(session, campaign_id, {"sending": -released, "pending": released})
    return released
