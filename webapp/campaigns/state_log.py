"""One INFO line per change of a campaign's state (queued, sending, paused, resumed, completed, cancelled…), with its
id and name, written once the change is committed: the log tells an operator what campaigns did, and nothing
else (the periodic jobs that find nothing to do say nothing, webapp/worker.py).

A change made on the ORM object (`campaign.status = "sending"`) is seen by the listener below; the few made by a
conditional UPDATE (the tick's due campaigns, a pause, a cancel) call `announce` themselves.
"""
from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import NO_VALUE

from webapp.campaigns.models import Campaign
from webapp.queues import on_commit

log = logging.getLogger("webapp.campaigns")

FINISHED = {"sent": "completed (all sent)", "partially_sent": "completed (some failed)",
            "failed": "completed (none could be sent)"}


def describe(state: str, previous: str | None) -> str:
    """The words of the line: "resumed" is a paused campaign going on, whatever state it goes on in."""
    if previous == "paused" and state in ("queued", "sending"):
        return "resumed"
    if state == "draft":
        return "returned to draft"
    return FINISHED.get(state, state)


def announce(session: Session, campaign_id: int, name: str, state: str, previous: str | None = None,
             why: str = "") -> None:
    """Log the change once the session's transaction commits (a rolled-back change is never logged)."""
    words = describe(state, previous)
    line = f"Campaign {campaign_id} “{name}” {words}" + (f": {why}" if why else "")
    on_commit(session, lambda: log.info(line))


@event.listens_for(Campaign.status, "set", active_history=True)  # the previous state, even once expired
def _status_set(campaign: Campaign, state: str, previous, initiator) -> None:
    session = object_session(campaign)
    if session is None or campaign.id is None or previous in (NO_VALUE, None) or state == previous:
        return  # a new campaign (its first state is no change), or one not loaded with its state
    # Why it returned to draft or paused, when the caller said so first (the launch does).
    why = campaign.notice if state in ("draft", "paused") else ""
    announce(session, campaign.id, campaign.name, state, previous, why)
