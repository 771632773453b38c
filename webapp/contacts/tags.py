"""Tags: free labels on contacts, added by hand, in bulk, by an import and by the API. A tag is one whatever its
case ("VIP" and "vip"); it is created the first time it is used and keeps that spelling."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, delete, func, literal, select, true
from sqlalchemy.orm import Session

from webapp.contacts.errors import ContactsError
from webapp.contacts.models import ContactTag, Tag
from webapp.timestamps import UTCDateTime, utcnow
from webapp.transactions import upsert

MAX_LENGTH = 60
MAX_PER_CALL = 20


def names(text: str | Iterable[str]) -> list[str]:
    """The tags a text names ("vip, Lyon; newsletter", or Google Contacts' "vip ::: Lyon"), or a list's, checked
    and without repeats."""
    items = _split(text) if isinstance(text, str) else list(text)
    found: dict[str, str] = {}
    for item in items:
        name = " ".join(str(item).split())
        if not name:
            continue
        if len(name) > MAX_LENGTH:
            raise ContactsError(f"A tag has at most {MAX_LENGTH} characters: “{name[:20]}…” is longer.", "tags")
        found.setdefault(name.casefold(), name)
    if len(found) > MAX_PER_CALL:
        raise ContactsError(f"At most {MAX_PER_CALL} tags at a time.", "tags")
    return list(found.values())


GOOGLE_EVERYONE = "* mycontacts"  # the system group every contact of a Google Contacts export is in


def from_file(text: str) -> list[str]:
    """The tags of an import's tags cell, as `names` reads them; Google Contacts' system groups lose their "* "
    ("* starred" is "starred"), and "* myContacts", which every contact of such an export has, is no tag."""
    return names(group.strip().removeprefix("* ") for group in _split(text)
                 if " ".join(group.split()).casefold() != GOOGLE_EVERYONE)


def _split(text: str) -> list[str]:
    return text.replace(":::", ",").replace(";", ",").split(",")


def ensure(session: Session, wanted: Iterable[str]) -> list[Tag]:
    """The tags of these names, created when new (a name's first spelling stays)."""
    wanted = list(wanted)
    if not wanted:
        return []
    rows = [{"key": name.casefold(), "name": name, "created_at": utcnow()} for name in wanted]
    session.execute(upsert(session, Tag.__table__).values(rows).on_conflict_do_nothing(index_elements=["key"]))
    return list(session.scalars(select(Tag).where(Tag.key.in_([row["key"] for row in rows])).order_by(Tag.name)))


def add(session: Session, contacts: Select, wanted: Iterable[str]) -> int:
    """Tag the contacts whose ids `contacts` selects (any number, in one statement each); how many tags were new."""
    added = 0
    for tag in ensure(session, wanted):
        statement = upsert(session, ContactTag.__table__).from_select(
            ["contact_id", "tag_id", "added_at"],
            # SQLite reads "ON CONFLICT" after a SELECT without WHERE as a join's ON: the WHERE says where it ends.
            select(contacts.subquery().c[0], literal(tag.id), literal(utcnow(), UTCDateTime())).where(true()))
        added += session.execute(statement.on_conflict_do_nothing(index_elements=["contact_id", "tag_id"])
                                 .execution_options(preserve_rowcount=True)).rowcount
    return added


def remove(session: Session, contacts: Select, wanted: Iterable[str]) -> int:
    """Untag the contacts `contacts` selects; how many tags came off. A tag nobody has any more stays (it may be
    in a saved segment)."""
    keys = [name.casefold() for name in wanted]
    if not keys:
        return 0
    return session.execute(delete(ContactTag).where(
        ContactTag.contact_id.in_(contacts), ContactTag.tag_id.in_(select(Tag.id).where(Tag.key.in_(keys))))
        .execution_options(synchronize_session=False)).rowcount


def of_contact(session: Session, contact_id: int) -> list[Tag]:
    return list(session.scalars(select(Tag).join(ContactTag, ContactTag.tag_id == Tag.id)
                                .where(ContactTag.contact_id == contact_id).order_by(func.lower(Tag.name))))


def every(session: Session) -> list[Tag]:
    """Every tag, by name (for a choice of tags; in_use counts their contacts too)."""
    return list(session.scalars(select(Tag).order_by(func.lower(Tag.name))))


def in_use(session: Session) -> list[tuple[Tag, int]]:
    """Every tag with how many contacts have it, by name."""
    count = func.count(ContactTag.contact_id)
    return [(tag, n) for tag, n in session.execute(
        select(Tag, count).outerjoin(ContactTag, ContactTag.tag_id == Tag.id).group_by(Tag.id)
        .order_by(func.lower(Tag.name)))]

