"""Contacts (one per phone number), the lists staff keep them in, and the imports that fill lists."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (JSON, CheckConstraint, ColumnElement, Date, Double, ForeignKey, Index, String, Text, or_,
                        text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.public_ids import public_id_column
from webapp.timestamps import UTCDateTime, utcnow


class Contact(db.Model):
    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_wa_id", "wa_id", postgresql_where=text("wa_id IS NOT NULL"),
                            sqlite_where=text("wa_id IS NOT NULL")),
                      # The Contacts page's sorts, each with the id that breaks its ties (webapp/audience/directory.py).
                      Index("ix_contacts_lower_name_id", text("lower(name)"), "id"),
                      Index("ix_contacts_created_at_id", "created_at", "id"),
                      Index("ix_contacts_updated_at_id", "updated_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[uuid.UUID] = public_id_column()
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164, with +
    # The WhatsApp id Meta reported for the phone, when it is not the phone's digits (contacts/whatsapp_ids.py).
    wa_id: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2), default="")  # region of the number, e.g. "CL"
    name: Mapped[str] = mapped_column(String(200), default="")
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)  # extra CSV columns by header
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opt_out_reason: Mapped[str] = mapped_column(Text, default="")
    # Meta's per-user marketing limit (131049) holds the contact until then (webapp/contacts/marketing_holds.py).
    marketing_hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None

    @property
    def reported_number(self) -> str:
        """The number as Meta reports this customer ("+" and the wa_id): every contact of theirs is `known_by` it."""
        return f"+{self.wa_id}" if self.wa_id else self.phone

    @classmethod
    def known_by(cls, number: str, sent_to: str | None = None) -> ColumnElement[bool]:
        """The contacts of a number as Meta reports a customer ("+" and the wa_id): it is their phone, or the wa_id
        Meta answered their phone with; and the contact of `sent_to`, a number whose send Meta answered with it."""
        return or_(cls.phone.in_({number, sent_to or number}), cls.wa_id == number.lstrip("+"))


class ContactList(db.Model):
    __tablename__ = "contact_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[uuid.UUID] = public_id_column()
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ListMember(db.Model):
    __tablename__ = "list_members"

    list_id: Mapped[int] = mapped_column(ForeignKey("contact_lists.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contact: Mapped[Contact] = relationship(lazy="joined")


ATTRIBUTE_TYPES = {"text": "Text", "number": "Number", "date": "Date", "yes_no": "Yes/no"}


class AttributeField(db.Model):
    """An attribute name the workspace knows, whatever its spelling in contacts' files ("City", "city"), and the type
    its values are compared as in filters: inferred by the import that first brought it, editable by admins."""

    __tablename__ = "attribute_fields"
    __table_args__ = (CheckConstraint("type IN ('text', 'number', 'date', 'yes_no')", name="type"),)

    key: Mapped[str] = mapped_column(String(100), primary_key=True)  # the name casefolded: "city"
    name: Mapped[str] = mapped_column(String(100))  # as first met: "City"
    type: Mapped[str] = mapped_column(String(8), default="text")
    type_set_by_hand: Mapped[bool] = mapped_column(default=False)  # an import no longer infers it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContactValue(db.Model):
    """A contact's attribute value as filters compare it, one column per type, each indexed by attribute: the
    text casefolded, and the number, date and yes/no it reads as (None when it does not). Written with the
    contact's `attributes` (the values as given, which templates use) by webapp/contacts/fields.py only."""

    __tablename__ = "contact_values"
    # Each index ends with the contact id: a filter reads the ids from the index alone, in contact order.
    __table_args__ = (
        Index("ix_contact_values_text", "key", "as_text", "contact_id"),
        # Only values that read as a number (a date) are in these: an import of text writes neither. Each index
        # ends with the contact id, so that a segment's count reads the index alone.
        Index("ix_contact_values_number", "key", "as_number", "contact_id",
              postgresql_where=text("as_number IS NOT NULL"), sqlite_where=text("as_number IS NOT NULL")),
        Index("ix_contact_values_date", "key", "as_date", "contact_id", postgresql_where=text("as_date IS NOT NULL"),
              sqlite_where=text("as_date IS NOT NULL")),
    )

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    as_text: Mapped[str] = mapped_column(String(255))
    as_number: Mapped[float | None] = mapped_column(Double)
    as_date: Mapped[date | None] = mapped_column(Date)
    as_flag: Mapped[bool | None] = mapped_column()


CONTACT_EVENTS = ("opted_out", "opted_in")


class ContactEvent(db.Model):
    """A moment of a contact's opt-out history: when and why it opted out or back in (contacts/optouts.py writes
    them; the contact keeps only its current state)."""

    __tablename__ = "contact_events"
    __table_args__ = (CheckConstraint("kind IN ('opted_out', 'opted_in')", name="kind"),
                      Index("ix_contact_events_contact_id_at", "contact_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tag(db.Model):
    """A free label on contacts ("vip"), one per name whatever its case."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)  # casefolded
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContactTag(db.Model):
    __tablename__ = "contact_tags"
    # A tag's contacts in contact order, from the index alone (a segment merges them with its other conditions).
    __table_args__ = (Index("ix_contact_tags_tag_id", "tag_id", "contact_id"),)

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


IMPORT_STATES = ("uploaded", "queued", "running", "done", "failed")


class Import(db.Model):
    __tablename__ = "imports"
    __table_args__ = (
        CheckConstraint("status IN ('uploaded', 'queued', 'running', 'done', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int | None] = mapped_column(ForeignKey("contact_lists.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(Text)  # "" once the file was removed (upload_cleanup.py)
    status: Mapped[str] = mapped_column(String(16), default="uploaded")
    # Upload choices: default country, what to do with existing contacts, column mapping.
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    added: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    already_in_list: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    invalid: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the whole file had been read and staged; the merge into the list follows.
    rows_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the merge's first piece was committed: from then on the import is finished, resumed if its worker dies.
    merge_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ImportRejection(db.Model):
    """One row of an import that was not taken: its line in the file, its phone cell (or the whole row when it
    could not be read as one), why, and its cells as the file had them (for the rejected-rows file, which can be
    fixed and imported again; at most the import's column cap of them)."""

    __tablename__ = "import_rejections"
    __table_args__ = (Index("ix_import_rejections_import_line", "import_id", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column()
    value: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text)
    cells: Mapped[list | None] = mapped_column(JSON)  # None for rows rejected before cells were kept


class ImportRow(db.Model):
    """A valid, first-seen number of a running import, staged until the whole file is read.

    Nothing outside the import reads these rows; the last step merges them into contacts and
    list members in short pieces, each deleting the staged rows it merged (contacts/import_run.py).
    """

    __tablename__ = "import_rows"

    # No foreign key: the database would check it for each of a million staged rows, and the run deletes
    # its own rows when it ends, whichever way it ends.
    import_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)  # E.164; the key de-duplicates the file
    line: Mapped[int] = mapped_column()
    country: Mapped[str] = mapped_column(String(2), default="")  # "" for non-geographic numbers (+800…)
    name: Mapped[str] = mapped_column(String(200), default="")
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    # Its tags (a "tags" column's and the whole file's), checked, joined by commas: tagged at merge.
    tags: Mapped[str] = mapped_column(Text, default="", server_default="")


class ImportValue(db.Model):
    """A staged number's attribute value as filters read it (contact_values' columns), typed while the file was
    read, so that the merge writes contact_values with one INSERT … SELECT per piece (contacts/fields.py)."""

    __tablename__ = "import_values"

    import_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # no foreign key: see ImportRow
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    as_text: Mapped[str] = mapped_column(String(255))
    as_number: Mapped[float | None] = mapped_column(Double)
    as_date: Mapped[date | None] = mapped_column(Date)
    as_flag: Mapped[bool | None] = mapped_column()
