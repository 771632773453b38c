"""The inbox's rows: one conversation per contact (with the counters the list needs), staff answers, the files
customers send us, and saved quick answers.

A customer's messages are the webhooks area's `InboundMessage` rows; a conversation only keeps what its list
needs without reading them (last times, unread count, needs-answer flag), maintained as messages come and go.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.auth.models import User
from webapp.campaigns.models import BigId, _in  # the CHECK constraints' spelling, shared
from webapp.contacts.models import Contact
from webapp.extensions import db
from webapp.timestamps import UTCDateTime, utcnow

CONVERSATION_STATES = ("open", "done")
# An answer moves as a recipient row does (webapp/campaigns/lifecycle.py moves both): claimed before its request.
ANSWER_STATES = ("pending", "sending", "unknown", "accepted", "sent", "delivered", "read", "failed")
ANSWER_KINDS = ("text", "image", "video", "audio", "document", "template")
MEDIA_STATES = ("pending", "stored", "failed")


class Conversation(db.Model):
    """A contact's conversation with the business: what the inbox list shows, kept current by every message."""

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(_in("status", CONVERSATION_STATES), name="status"),
        # The list: newest first, keyset on (last_message_at, id), for each filter.
        Index("ix_conversations_recent", "last_message_at", "id"),
        Index("ix_conversations_assigned_recent", "assigned_to_id", "last_message_at", "id"),
        Index("ix_conversations_campaign_recent", "campaign_id", "last_message_at", "id"),
        Index("ix_conversations_unread_recent", "last_message_at", "id",
              postgresql_where=text("unread > 0"), sqlite_where=text("unread > 0")),
        Index("ix_conversations_needs_answer_recent", "last_message_at", "id",
              postgresql_where=text("needs_answer"), sqlite_where=text("needs_answer")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), unique=True)
    # The number the customer wrote to (answers go from it), and the campaign they last answered.
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("senders.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_customer_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # opens the 24-hour window
    last_text: Mapped[str] = mapped_column(String(200), default="")  # the latest message, shortened, for the list
    unread: Mapped[int] = mapped_column(default=0)
    needs_answer: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(8), default="open")
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_inbox: Mapped[bool] = mapped_column(default=False)  # its contact was created by a message, not an import
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contact: Mapped[Contact] = relationship(lazy="joined")
    assigned_to: Mapped[User | None] = relationship()


class Answer(db.Model):
    """A message staff sent in a conversation: one row, claimed before its request, its fate from webhooks."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        CheckConstraint(_in("status", ANSWER_STATES), name="status"),
        CheckConstraint(_in("kind", ANSWER_KINDS), name="kind"),
        Index("ix_outbound_messages_conversation_created", "conversation_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("senders.id", ondelete="SET NULL"))
    phone: Mapped[str] = mapped_column(String(20))  # E.164, as sent to
    kind: Mapped[str] = mapped_column(String(10), default="text")
    text: Mapped[str] = mapped_column(Text, default="")  # the text, or a media message's caption
    media_file: Mapped[str] = mapped_column(String(64), default="")  # stored name under the inbox's private folder
    media_name: Mapped[str] = mapped_column(String(255), default="")  # the file's name as staff uploaded it
    media_mime: Mapped[str] = mapped_column(String(100), default="")
    # Or the media as the API gave it: a Meta media id, or an https link Meta fetches (nothing stored here).
    media_ref: Mapped[str] = mapped_column(String(1024), default="")
    template_name: Mapped[str] = mapped_column(String(512), default="")
    template_language: Mapped[str] = mapped_column(String(15), default="")
    params: Mapped[dict | None] = mapped_column(JSON)  # a template's parameter snapshot (webapp/cloudapi.py)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    reached: Mapped[int] = mapped_column(SmallInteger, default=0)  # as a recipient row's: the furthest stage
    claim_token: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)  # sends tried (a retryable error tries again)
    wamid: Mapped[str | None] = mapped_column(String(128), unique=True)
    error_code: Mapped[int | None] = mapped_column()
    error_title: Mapped[str] = mapped_column(Text, default="")
    error_detail: Mapped[str] = mapped_column(Text, default="")
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    automatic: Mapped[bool] = mapped_column(default=False)  # the workspace's reply to an opt-out or opt-in keyword
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # unused: the lifecycle's funnel names it
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sent_by: Mapped[User | None] = relationship()


class InboundMedia(db.Model):
    """The file of a customer's image, video, audio or document message, downloaded by a job into a private folder."""

    __tablename__ = "inbound_media"
    __table_args__ = (CheckConstraint(_in("status", MEDIA_STATES), name="status"),)

    inbound_message_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id", ondelete="CASCADE"),
                                                    primary_key=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("senders.id", ondelete="SET NULL"))
    media_id: Mapped[str] = mapped_column(String(128))
    mime_type: Mapped[str] = mapped_column(String(100), default="")
    filename: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(8), default="pending")
    stored_file: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class QuickAnswer(db.Model):
    """A saved answer staff pick instead of typing it again (kept by admins in the inbox settings)."""

    __tablename__ = "quick_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(80), unique=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
