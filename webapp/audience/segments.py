"""Segments: saved filters over all contacts, with a name. Pages, the API and compose read them through here —
create, change, delete, and the count and first contacts of any definition (saved or being built)."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.audience.conditions import compile_filter
from webapp.audience.errors import FilterError
from webapp.audience.models import Segment
from webapp.campaigns.models import Campaign
from webapp.contacts.models import Contact

MAX_NAME = 120
PREVIEW = 10
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Counted:
    """How many contacts a definition matches, the definition as normalised, and its notes ("No contact has the
    tag “vip”.")."""

    total: int
    definition: dict
    notes: list[str]


def count(session: Session, definition: Mapping | None) -> Counted:
    """The contacts a definition matches, counted in SQL (FilterError names the first bad condition)."""
    compiled = compile_filter(session, definition)
    total = session.scalar(select(func.count()).select_from(Contact).where(compiled.where)) or 0
    return Counted(total, compiled.definition, compiled.notes)


def preview(session: Session, definition: Mapping | None, limit: int = PREVIEW) -> list[Contact]:
    """The first `limit` matching contacts, oldest first."""
    where = compile_filter(session, definition).where
    return list(session.scalars(select(Contact).where(where).order_by(Contact.id).limit(max(0, min(limit, 100)))))


def all_segments(session: Session) -> list[Segment]:
    return list(session.scalars(select(Segment).order_by(func.lower(Segment.name))))


def get(session: Session, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise FilterError("That segment does not exist (it may have been deleted).", code="not_found")
    return segment


def create(session: Session, name: str, definition: Mapping | None, user_id: int | None = None) -> Segment:
    """Save a filter under a name (unique whatever its case); its definition is saved as normalised."""
    name = _free_name(session, name)
    segment = Segment(name=name, definition=compile_filter(session, definition).definition, created_by_id=user_id)
    session.add(segment)
    session.flush()
    return segment


def update(session: Session, segment_id: int, name: str | None = None,
           definition: Mapping | None = None) -> Segment:
    """Rename a segment or change its conditions (None keeps either); campaigns already launched keep theirs."""
    segment = get(session, segment_id)
    checked = compile_filter(session, definition).definition if definition is not None else None
    if name is not None:
        segment.name = _free_name(session, name, segment.id)
    if checked is not None:
        segment.definition = checked
    session.flush()
    return segment


def delete(session: Session, segment_id: int) -> None:
    """Delete a segment; campaigns composed for it keep a copy of its conditions."""
    session.delete(get(session, segment_id))
    session.flush()


def may_delete(segment: Segment, user) -> bool:
    """Admins delete any segment; staff the segments they made."""
    return bool(user.is_admin or (segment.created_by_id is not None and segment.created_by_id == user.id))


def used_by(session: Session, segment_ids: list[int]) -> dict[int, list[Campaign]]:
    """The campaigns composed for each segment, newest first."""
    if not segment_ids:
        return {}
    segment_id = Campaign.audience["segment"]["id"].as_integer()
    found: dict[int, list[Campaign]] = {}
    for campaign in session.scalars(select(Campaign).where(segment_id.in_(segment_ids))
                                    .order_by(Campaign.id.desc())):
        found.setdefault(int(campaign.audience["segment"]["id"]), []).append(campaign)
    return found


def _free_name(session: Session, name: str | None, except_id: int | None = None) -> str:
    name = _SPACES.sub(" ", name or "").strip()
    if not name:
        raise FilterError("Give the segment a name.", field="name")
    if len(name) > MAX_NAME:
        raise FilterError(f"Segment names have at most {MAX_NAME} characters.", field="name")
    query = select(Segment.id).where(func.lower(Segment.name) == name.lower())
    if except_id is not None:
        query = query.where(Segment.id != except_id)
    if session.scalar(query) is not None:
        raise FilterError(f"There is already a segment called “{name}”.", code="conflict", field="name")
    return name
