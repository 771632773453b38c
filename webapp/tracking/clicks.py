"""Clicks on tracked links: queueing one (the public redirect /r/<code>, webapp/tracking/front.py, and its fallback
record_click), counting the queued ones (a job, count_queued), and what a campaign's links were clicked, for its page
and the API.

A click counts once per request by a person: HEAD requests and link-preview fetchers (WhatsApp's own, which fetches
a link when the message arrives, Facebook's, and a few well-known bots) are redirected but not counted. The redirect
only writes the click to `queued_clicks` (one INSERT, so that it answers fast); a job counts the queued clicks in
batches, oldest first, and deletes each in the transaction that counts it, so a click is counted once however often
the job runs. Counting one: the first click of a recipient on any of the campaign's links adds one to its "clicked"
counter (campaigns/lifecycle.py) and to the day's "clicked" figure of Reports (campaigns/daily.py); every counted
click emits the outbound `link.clicked` event (webapp/events), at the time it was made.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from webapp.campaigns import daily
from webapp.campaigns.lifecycle import CLICKED, add_counts
from webapp.campaigns.links import is_web_url, parse, value_at
from webapp.campaigns.models import LinkClick, Recipient, TrackedLink
from webapp.events.outbox import emit_many
from webapp.timestamps import UTCDateTime, iso, utcnow
from webapp.tracking.models import QueuedClick
from webapp.transactions import begin_write

# Link-preview fetchers and crawlers, by User-Agent: WhatsApp's is "WhatsApp/2.23.20.0 A" (its in-app browser is not
# "WhatsApp/…" at the start), Facebook's facebookexternalhit and Facebot, and others that unfurl links in chats.
PREVIEW_AGENTS = re.compile(
    r"^WhatsApp/|facebookexternalhit|Facebot|Twitterbot|Slackbot|LinkedInBot|TelegramBot|Discordbot|"
    r"SkypeUriPreview|Googlebot|bingbot|Applebot|redditbot|Pinterestbot|Embedly", re.IGNORECASE)
BATCH = 500  # queued clicks counted in one transaction
# A redirect's own headers, besides the security headers of every answer (webapp/security_headers.py).
REDIRECT_HEADERS = {"Cache-Control": "private, no-store",  # every tap must reach us to be counted
                    "Referrer-Policy": "no-referrer"}      # the code stays ours


def is_preview(user_agent: str | None, method: str = "GET") -> bool:
    """Whether a request for a tracked link is a machine's look, not a person's click."""
    return method.upper() == "HEAD" or bool(PREVIEW_AGENTS.search(user_agent or ""))


def record_click(session: Session, code: str, user_agent: str | None, method: str = "GET") -> str | None:
    """The address a code redirects to, the click queued when a person made it; None for a malformed, forged or
    unknown code (or a link with no web address to go to). The caller commits. The front door
    (webapp/tracking/front.py) answers most requests without this; it hands over the ones it cannot."""
    found = parse(code)
    if found is None:
        return None
    link_id, recipient_id = found
    row = session.connection().execute(LOOKUP, {"link_id": link_id, "recipient_id": recipient_id}).first()
    if row is None:
        return None
    url = row.url or value_at(row.params, row.path)
    if not is_web_url(url):
        return None
    if row.recipient_id is not None and not is_preview(user_agent, method):
        session.connection().execute(QUEUE, {"link_id": link_id, "recipient_id": recipient_id, "clicked_at": utcnow()})
    return url


def count_queued(session: Session, limit: int = BATCH) -> int:
    """Count up to `limit` queued clicks, oldest first, and delete them, in the caller's transaction (the caller
    commits); how many were taken. A click whose link or recipient is gone (a deleted campaign) counts for nothing."""
    begin_write(session)
    connection = session.connection()  # Core statements: the ORM has nothing to add to them
    queued = connection.execute(select(_queued).order_by(_queued.c.id).limit(limit)
                                .with_for_update(skip_locked=True)).all()  # PostgreSQL: two jobs share the queue
    events = []
    for click in queued:
        row = connection.execute(LOOKUP, {"link_id": click.link_id, "recipient_id": click.recipient_id}).first()
        if row is None or row.recipient_id is None:
            continue
        first = _count(session, click.link_id, click.recipient_id, row.campaign_id, click.clicked_at)
        if first:  # the day's "clicked" figure counts recipients, as the campaign's counter does
            daily.record(session, row.campaign_id, row.sending_at or click.clicked_at, row.zone, clicked=1)
        events.append({"broadcast_id": row.campaign_id, "recipient_id": click.recipient_id, "phone": row.phone,
                       "link": row.slot, "url": row.url or value_at(row.params, row.path), "first": first,
                       "at": iso(click.clicked_at)})
    emit_many(session, "link.clicked", events)
    if queued:
        connection.execute(delete(_queued).where(_queued.c.id.in_([click.id for click in queued])))
    return len(queued)


# The redirect's statements, built once: building a statement costs more than running it on an index.
_links, _clicks, _recipients = TrackedLink.__table__, LinkClick.__table__, Recipient.__table__
_queued = QueuedClick.__table__
LOOKUP = (select(_links.c.url, _links.c.path, _links.c.slot, _links.c.campaign_id, _recipients.c.id.label("recipient_id"),
                 _recipients.c.params, _recipients.c.phone, _recipients.c.sending_at, _recipients.c.zone)
          .select_from(_links.outerjoin(_recipients, and_(_recipients.c.id == bindparam("recipient_id"),
                                                          _recipients.c.campaign_id == _links.c.campaign_id)))
          .where(_links.c.id == bindparam("link_id")))
QUEUE = insert(_queued).values(link_id=bindparam("link_id"), recipient_id=bindparam("recipient_id"),
                               clicked_at=bindparam("clicked_at", type_=UTCDateTime()))
ADD_TO_LINK = {dialect: (insert(_clicks).values(recipient_id=bindparam("recipient_id"), link_id=bindparam("link_id"),
                                                first_clicked_at=bindparam("now"), last_clicked_at=bindparam("now"),
                                                clicks=1)
                         .on_conflict_do_update(index_elements=["recipient_id", "link_id"],
                                                set_={"clicks": _clicks.c.clicks + 1,
                                                      "last_clicked_at": bindparam("now")}))
               for dialect, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))}
# One statement, so that two first clicks at once (on two links) cannot both be the first: the row's lock orders them.
ADD_TO_RECIPIENT = (update(_recipients).where(_recipients.c.id == bindparam("recipient_id"))
                    .values(clicks=func.coalesce(_recipients.c.clicks, 0) + 1,
                            clicked_at=func.coalesce(_recipients.c.clicked_at, bindparam("now", type_=UTCDateTime())))
                    .returning(_recipients.c.clicks))


def _count(session: Session, link_id: int, recipient_id: int, campaign_id: int, now: datetime) -> bool:
    """Add the click to its link's and its recipient's; True when it is the recipient's first on any link."""
    values = {"link_id": link_id, "recipient_id": recipient_id, "now": now}
    connection = session.connection()
    connection.execute(ADD_TO_LINK[connection.dialect.name], values)
    if connection.execute(ADD_TO_RECIPIENT, values).scalar() != 1:
        return False
    add_counts(session, campaign_id, {CLICKED: 1})
    return True


@dataclass(frozen=True)
class LinkFigures:
    slot: str
    url: str           # "" when each recipient's own address
    clicks: int
    clickers: int      # recipients who clicked it at least once


def link_figures(session: Session, campaign_id: int) -> list[LinkFigures]:
    """Each tracked link of a campaign with its clicks, from an index of its clickers (not of its recipients)."""
    rows = session.execute(links_clicked().where(TrackedLink.campaign_id == campaign_id).order_by(TrackedLink.id))
    return [LinkFigures(row.slot, row.url, row.clicks, row.clickers) for row in rows]


def links_clicked(*columns):
    """A query of tracked links (with `columns`) and their clicks and clickers, one row per link."""
    return (select(TrackedLink.id, *columns, TrackedLink.slot, TrackedLink.url,
                   func.coalesce(func.sum(LinkClick.clicks), 0).label("clicks"),
                   func.count(LinkClick.recipient_id).label("clickers"))
            .outerjoin(LinkClick, LinkClick.link_id == TrackedLink.id)
            .group_by(TrackedLink.id, *columns, TrackedLink.slot, TrackedLink.url))
