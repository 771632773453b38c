"""The one writer of a campaign's recipient rows, whatever its audience: lists, a retarget, the API's numbers.

An audience source finds its candidates (a number in E.164 with what we know of the person); `write` turns
them into rows — `pending` with their parameter snapshot, or `skipped` with the reason staff read — stores
them with bulk INSERTs, once per number (a number the campaign already has is a duplicate, never a second
row), and adds them to the campaign's counters. The caller owns the transaction.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import JSON, BigInteger, Text, bindparam, cast, column, func, literal, select, update
from sqlalchemy.orm import Session

from webapp.campaigns.frequency import Cap
from webapp.campaigns.lifecycle import add_counts
from webapp.campaigns.models import Campaign, Recipient
from webapp.campaigns.variables import resolve
from webapp.campaigns.windows import SendingWindow, attribute_zone, zone_of
from webapp.contacts.models import Contact
from webapp.timestamps import UTCDateTime, utcnow
from webapp.transactions import upsert
from webapp.workspace.zone import workspace_zone

OPTED_OUT = "Opted out"
CHUNK = 2000  # rows per INSERT statement

_table = Recipient.__table__


@dataclass(frozen=True)
class Candidate:
    """Someone a campaign may go to, as an audience source found them."""

    phone: str              # E.164
    contact_id: int | None
    name: str
    country: str
    attributes: Mapping     # what the campaign's variable mapping reads
    opted_out: bool


class Skip(Exception):
    """The candidate gets a `skipped` row with this reason."""


class Refused(Exception):
    """A candidate's own values cannot make its message: it gets no row, and its source says why."""


@dataclass
class Written:
    stored: list[tuple[Candidate, str]] = field(default_factory=list)    # each new row's candidate and status
    refused: list[tuple[Candidate, str]] = field(default_factory=list)   # (candidate, why), no row written
    duplicates: int = 0  # candidates whose number came twice or the campaign already had


def mapped_params(campaign: Campaign, candidate: Candidate) -> dict:
    """The parameter snapshot from the campaign's variable mapping; what it cannot fill skips the row."""
    resolved = resolve(campaign.template_components, campaign.parameter_format, campaign.variables,
                       campaign.header_media_url, candidate.name, candidate.attributes, campaign.button_payloads)
    if resolved.missing:
        raise Skip(f"Missing {', '.join(resolved.missing)} and no fallback")
    if resolved.too_long:
        raise Skip(f"Too long: {resolved.too_long}")
    return resolved.params


def capped(session: Session, cap: Cap | None, candidates: list[Candidate]) -> Callable[[Campaign, Candidate], dict]:
    """`mapped_params`, or Skip for a contact over the frequency cap (one query for all the candidates)."""
    over = cap.over(session, (candidate.contact_id for candidate in candidates), utcnow()) if cap else {}

    def params(campaign: Campaign, candidate: Candidate) -> dict:
        if candidate.contact_id in over:
            raise Skip(cap.reason(over[candidate.contact_id]))
        return mapped_params(campaign, candidate)
    return params


def write(session: Session, campaign: Campaign, candidates: Iterable[Candidate],
          params: Callable[[Campaign, Candidate], dict] = mapped_params, counted: Counter | None = None) -> Written:
    """Store the rows of these candidates and count them (into `counted`, when the caller adds its own counts to
    them and adds them all in one statement: see rows_in_sql.Plan.write).

    Opted-out candidates are skipped before anything else. `params` makes the others' parameter snapshot:
    by default from the campaign's mapping (raising Skip); a source whose candidates bring their own values
    passes its own, which raises Refused for values that cannot make a message. When the campaign has a sending
    window, each row gets its recipient's zone (campaigns/windows.py).
    """
    written = Written()
    now = utcnow()
    fallback_zone = workspace_zone().key if SendingWindow.of(campaign) else None
    seen: set[str] = set()
    rows: dict[str, tuple[Candidate, dict]] = {}
    for candidate in candidates:
        if candidate.phone in seen:  # the first of a number decides, even when it is refused
            written.duplicates += 1
            continue
        seen.add(candidate.phone)
        row = {"campaign_id": campaign.id, "contact_id": candidate.contact_id, "phone": candidate.phone,
               "name": candidate.name[:200], "country": candidate.country, "status": "pending", "params": None,
               "skip_reason": "", "created_at": now, "zone": None}
        if fallback_zone:
            row["zone"] = zone_of(candidate.phone, attribute_zone(candidate.attributes), fallback_zone).zone
        if candidate.opted_out:
            row.update(status="skipped", skip_reason=OPTED_OUT)
        else:
            try:
                row["params"] = params(campaign, candidate)
            except Skip as skip:
                row.update(status="skipped", skip_reason=str(skip))
            except Refused as refusal:
                written.refused.append((candidate, str(refusal)))
                continue
        rows[candidate.phone] = (candidate, row)
    values = [row for _, row in rows.values()]
    by_status: Counter = Counter()
    for start in range(0, len(values), CHUNK):
        for phone, status in _store(session, values[start:start + CHUNK]):
            written.stored.append((rows[phone][0], status))
            by_status[status] += 1
    written.duplicates += len(values) - len(written.stored)
    by_status["total"] = len(written.stored)
    if counted is None:
        add_counts(session, campaign.id, by_status)
    else:
        counted.update(by_status)
    return written


def place(session: Session, campaign: Campaign) -> int:
    """Give each of the campaign's rows without a zone its recipient's (rows the API added before the campaign
    had a window); return how many. The caller owns the transaction."""
    fallback = workspace_zone().key
    placed = 0
    unplaced = (select(Recipient.id, Recipient.phone, Contact.attributes)
                .outerjoin(Contact, Contact.id == Recipient.contact_id)
                .where(Recipient.campaign_id == campaign.id, Recipient.zone.is_(None)).limit(CHUNK))
    while rows := session.execute(unplaced).all():
        session.execute(update(Recipient), [
            {"id": row.id, "zone": zone_of(row.phone, attribute_zone(row.attributes or {}), fallback).zone}
            for row in rows])
        placed += len(rows)
    return placed


_JSON_COLUMNS = {"contact_id": BigInteger, "phone": Text, "name": Text, "country": Text, "status": Text,
                 "params": JSON, "skip_reason": Text, "zone": Text}


def _store(session: Session, values: list[dict]) -> list[tuple[str, str]]:
    """INSERT the rows a number the campaign already has is not among; (phone, status) of each one stored.

    On PostgreSQL the rows go as one JSON document that the server reads as a table (json_to_recordset): a
    statement with a placeholder per value costs the driver more to build than the database to run, and a launch
    to a million contacts writes a million rows. SQLite takes the rows as they are."""
    stmt = upsert(session, _table)
    if session.get_bind().dialect.name == "postgresql" and values:
        document = json.dumps([{name: row[name] for name in _JSON_COLUMNS} for row in values])
        rows = (func.json_to_recordset(cast(bindparam("rows", document, type_=Text), JSON))
                .table_valued(*(column(name, kind) for name, kind in _JSON_COLUMNS.items()))
                .render_derived(with_types=True))
        first = values[0]
        stmt = stmt.from_select(["campaign_id", "created_at", *_JSON_COLUMNS], select(
            literal(first["campaign_id"], BigInteger), literal(first["created_at"], UTCDateTime),
            *(rows.c[name] for name in _JSON_COLUMNS)))
        values = None
    stmt = stmt.on_conflict_do_nothing(index_elements=["campaign_id", "phone"]).returning(_table.c.phone,
                                                                                       _table.c.status)
    return [tuple(row) for row in session.execute(stmt, values).all()]
