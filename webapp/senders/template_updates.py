"""Templates as Meta reviews them after approval, kept current by the `message_template_status_update` and
`template_category_update` webhooks: a paused or disabled template stops its sending campaigns before their next
message fails (132015, 132016); one approved (new, edited or reinstated) is read again from the Graph API, so that
compose offers it as Meta approved it; a finished category change reprices its next estimates.

A change applies only when it is newer than what we last learned of the template (its `synced_at`, from a sync or
an earlier webhook), so a late or repeated webhook changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from webapp.meta_errors import MetaError
from webapp.senders.models import Sender, Template

STATUS_FIELD, CATEGORY_FIELD = "message_template_status_update", "template_category_update"
# What an event leaves the template's status at. Events not here (FLAGGED, LOCKED, UNLOCKED…) warn without moving it.
STATUS_AFTER = {"APPROVED": "APPROVED", "REINSTATED": "APPROVED", "UNARCHIVED": "APPROVED", "REJECTED": "REJECTED",
                "PENDING": "PENDING", "IN_APPEAL": "IN_APPEAL", "PAUSED": "PAUSED", "DISABLED": "DISABLED",
                "ARCHIVED": "ARCHIVED", "PENDING_DELETION": "PENDING_DELETION", "DELETED": "DELETED",
                "LIMIT_EXCEEDED": "LIMIT_EXCEEDED"}
# Statuses that fail every send of the template, with the error Meta's sends would fail with.
STOPPING = {"PAUSED": 132015, "DISABLED": 132016}


@dataclass(frozen=True)
class TemplateUpdate:
    """One review or category change of a template, read from a webhook (webhooks/payloads.py)."""

    field: str  # message_template_status_update | template_category_update
    waba_id: str
    meta_id: str
    name: str
    language: str
    at: datetime  # the entry's time
    event: str = ""  # a status update's event
    reason: str = ""  # Meta's reason, or its other_info's description
    new_category: str = ""  # a finished category change (an impending one, with correct_category, has none)


@dataclass
class Applied:
    """What the changes call for: campaigns to stop ({template id: the error its sends would get}) and WhatsApp
    accounts whose templates to read again ({WABA id: one of its sender numbers})."""

    stopped: dict[int, MetaError]
    to_sync: dict[str, int]


def apply_template_updates(session: Session, updates: list[TemplateUpdate]) -> Applied:
    """Apply template changes oldest first, each only to templates that do not know of a later one."""
    applied = Applied({}, {})
    for change in sorted(updates, key=lambda u: u.at):
        # Meta's times are whole seconds: a sync in the same second as the change does not hide it.
        templates = [t for t in _templates_of(session, change)
                     if t.synced_at is None or t.synced_at.replace(microsecond=0) <= change.at]
        if change.field == CATEGORY_FIELD:
            for template in templates:
                if change.new_category:
                    template.category, template.synced_at = change.new_category[:32], change.at
            continue
        status = STATUS_AFTER.get(change.event)
        if status is None:
            continue  # a warning (FLAGGED, LOCKED…): the template's status stays
        for template in templates:
            template.status, template.synced_at = status, change.at
            if status in STOPPING:
                applied.stopped[template.id] = MetaError(STOPPING[status], change.event, change.reason)
            else:
                applied.stopped.pop(template.id, None)
        if status == "APPROVED" and change.waba_id not in applied.to_sync:  # new, edited or back: read it again
            sender_id = session.scalar(select(Sender.id).where(Sender.waba_id == change.waba_id)
                                       .order_by(Sender.id).limit(1))
            if sender_id is not None:
                applied.to_sync[change.waba_id] = sender_id
    return applied


def _templates_of(session: Session, change: TemplateUpdate) -> list[Template]:
    """The account's template by Meta's id, or by name and language (a template synced before ids were kept)."""
    return list(session.scalars(select(Template).where(
        Template.waba_id == change.waba_id,
        or_(and_(Template.meta_id != "", Template.meta_id == change.meta_id),
            and_(Template.name == change.name, Template.language == change.language)))))

