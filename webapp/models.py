"""Every model in one import, for Alembic and for the shell; each lives with its area."""
from webapp.api.models import ApiKey, IdempotentResponse
from webapp.audience.models import Segment
from webapp.auth.models import User
from webapp.campaigns import state_log  # noqa: F401 - its listener logs every change of a campaign's state
from webapp.campaigns.daily import CampaignDay, FailureDay, SendHour
from webapp.campaigns.models import Campaign, CampaignCounter, LinkClick, Recipient, TrackedLink
from webapp.contacts.models import (AttributeField, Contact, ContactList, ContactTag, ContactValue, Import,
                                    ImportRejection, ImportValue, ListMember, Tag)
from webapp.events.models import EventDelivery, EventEndpoint
from webapp.inbox.models import Answer, Conversation, InboundMedia, QuickAnswer
from webapp.pricing.models import MonthlySpend, RateCard, RatePrice
from webapp.senders.models import Sender, Template
from webapp.tracking.models import QueuedClick
from webapp.webhooks.models import InboundMessage, UnmatchedStatus, WebhookEvent
from webapp.workspace.models import WorkspaceSettings

__all__ = [
    "ApiKey", "IdempotentResponse", "User", "Campaign", "CampaignCounter", "Recipient", "TrackedLink", "LinkClick", "Contact",
    "ContactList", "Import", "ImportRejection", "ListMember", "Sender", "Template", "WorkspaceSettings",
    "InboundMessage", "UnmatchedStatus", "WebhookEvent", "Conversation", "Answer", "InboundMedia", "QuickAnswer",
    "AttributeField", "ContactValue", "ImportValue", "Tag", "ContactTag", "Segment", "RateCard", "RatePrice",
    "MonthlySpend", "CampaignDay", "SendHour", "FailureDay", "EventEndpoint", "EventDelivery",
    "QueuedClick",
]
