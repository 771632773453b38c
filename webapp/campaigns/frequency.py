"""The frequency cap, a workspace setting: at most N marketing messages per contact per D days.

At launch, a marketing campaign skips each contact that Meta already accepted N or more of our marketing
messages for in the last D days, with the reason on its row; the compose forecast counts them with the same
query. A message counts from the Cloud API's acceptance (`accepted_at`): from then on it is on its way to the
customer, whatever Meta says of it later. Utility and authentication templates are neither capped nor counted;
a campaign whose template was deleted since counts as marketing (as Meta's per-user limit is assumed to,
campaigns/dispatch.py). Tests sent from a campaign's page make no row, so they are neither capped nor counted.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from webapp.campaigns.models import Campaign, Recipient
from webapp.senders.models import Template

MAX_DAYS = 90


def is_marketing(template: Template | None) -> bool:
    """Whether a campaign's template is capped (and Meta's per-user marketing limit holds its contacts): a deleted
    template counts as marketing."""
    return template is None or template.category.upper() == "MARKETING"


@dataclass(frozen=True)
class Cap:
    messages: int
    days: int

    @classmethod
    def of(cls, settings) -> Cap | None:
        """The workspace's cap (WorkspaceSettings), or None when it is off."""
        return cls(settings.cap_messages, settings.cap_days) if settings.cap_messages and settings.cap_days else None

    def __str__(self) -> str:
        return f"at most {self.messages} marketing message{'s' if self.messages > 1 else ''} per contact per " \
               f"{self.days} day{'s' if self.days > 1 else ''}"

    def reason(self, count: int) -> str:
        """What a capped row's log says."""
        return (f"Frequency cap: {count} marketing message{'s' if count > 1 else ''} in the last {self.days} "
                f"day{'s' if self.days > 1 else ''} (at most {self.messages})")

    def recent(self, now: datetime) -> Select:
        """(contact_id, marketing messages accepted in the last D days) of the contacts at or over the cap."""
        marketing = or_(Template.id.is_(None), func.upper(Template.category) == "MARKETING")
        return (select(Recipient.contact_id, func.count()).join(Campaign, Campaign.id == Recipient.campaign_id)
                .outerjoin(Template, Template.id == Campaign.template_id)
                .where(Recipient.accepted_at >= now - timedelta(days=self.days), Recipient.contact_id.is_not(None),
                       marketing)
                .group_by(Recipient.contact_id).having(func.count() >= self.messages))

    def over(self, session: Session, contact_ids: Iterable[int | None], now: datetime) -> dict[int, int]:
        """Of these contacts, those at or over the cap, with their count: one grouped query."""
        wanted = sorted({contact_id for contact_id in contact_ids if contact_id})
        if not wanted:
            return {}
        return dict(session.execute(self.recent(now).where(Recipient.contact_id.in_(wanted))).all())

    def reached(self, contact_id, now: datetime) -> ColumnElement[bool]:
        """Whether the contact `contact_id` (a column) is at or over the cap, for the forecast's counts."""
        return contact_id.in_(self.recent(now).with_only_columns(Recipient.contact_id))
