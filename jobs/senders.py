"""RQ entry points for sender numbers."""
from __future__ import annotations

from webapp.extensions import db
from webapp.senders.models import Sender
from webapp.senders.quality import sync_number
from webapp.senders.services import sync_templates


def sync(sender_id: int) -> dict | None:
    """Fetch a sender's templates, quality rating and messaging limit; retried by RQ while the Graph API (or the sandbox) is not up yet."""
    sender = db.session.get(Sender, sender_id)
    if sender is None:
        return None
    changes = sync_templates(sender)
    sync_number(sender)
    db.session.commit()
    return changes
