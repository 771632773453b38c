"""Clicks on tracked links: recording one (the public redirect /r/<code> calls record_click), and what a
campaign's links were clicked, for its page and the API.

A click counts once per request by a person: HEAD requests and link-preview fetchers (WhatsApp's own, which fetches
a link when the message arrives, Facebook's, and a few well-known bots) are redirected but not counted. The first
click of a recipient on any of the campaign's links adds one to its "clicked" counter (campaigns/lifecycle.py).
A counted click also adds to the day's "clicked" figure of Reports (the recipient's first only, campaigns/daily.py)
and emits the outbound `link.clicked` event (webapp/events), in the same transaction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from webapp.campaigns import daily
from webapp.campaigns.lifecycle import CLICKED, add_counts
from webapp.campaigns.links import is_web_url, parse, value_at
from webapp.campaigns.models import LinkClick, Recipient, TrackedLink
from webapp.events.outbox import emit
from webapp.timestamps import UTCDateTime, iso, utcnow
from webapp.transactions import begin_write

# Link-preview fetchers and crawlers, by User-Agent: WhatsApp's is "WhatsApp/2.23.20.0 A" (its in-app browser is not
# "WhatsApp/…" at the start), Facebook's facebookexternalhit and Facebot, and others that unfurl links in chats.
PREVIEW_AGENTS = re.compile(
    r"^WhatsApp/|facebookexternalhit|Facebot|Twitterbot|Slackbot|LinkedInBot|TelegramBot|Discordbot|"
    r"SkypeUriPreview|Googlebot|bingbot|Applebot|redditbot|Pinterestbot|Embedly", re.IGNORECASE)


def is_preview(user_agent: str | None, method: str = "GET") -> bool:
    """Whether a request for a tracked link is a machine's look, not a person's click."""
    return method.upper() == "HEAD" or bool(PREVIEW_AGENTS.search(user_agent or ""))


@dataclass(frozen=True)
class Click:
    url: str
    counted: bool     # a person's click on a link we could attribute
    first: bool       # the recipient's first click on any link of the campaign
    campaign_id: int | None
    recipient_id: int | None


def follow(session: Session, code: str, user_agent: str | None, method: str = "GET") -> Click | None:
    """Where a code leads, recording the click when a person made it; None for a malformed, forged or unknown code
    (or a link with no web address to go to). The caller commits."""
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
    if row.recipient_id is None or is_preview(user_agent, method):
        return Click(url, False, False, row.campaign_id, row.recipient_id)
    now = utcnow()
    first = _count(session, link_id, recipient_id, row.campaign_id, now)
    if first:  # the day's "clicked" figure counts recipients, as the campaign's counter does
        daily.record(session, row.campaign_id, row.sending_at or now, row.zone, clicked=1)
    emit(session, "link.clicked", {"broadcast_id": row.campaign_id, "recipient_id": recipient_id, "phone": row.phone,
                                   "link": row.slot, "url": url, "first": first, "at": iso(now)})
    return Click(url, True, first, row.campaign_id, recipient_id)


def record_click(session: Session, code: str, user_agent: str | None, method: str = "GET") -> str | None:
    """The address a code redirects to (None: unknown), the click recorded; the caller commits."""
    click = follow(session, code, user_agent, method)
    if click is None:
        return None
    return click.url


# The redirect's statements, built once: building a statement costs more than running it on an index.
_links, _clicks, _recipients = TrackedLink.__table__, LinkClick.__table__, Recipient.__table__
LOOKUP = (select(_links.c.url, _links.c.path, _links.c.slot, _links.c.campaign_id, _recipients.c.id.label("recipient_id"),
                 _recipients.c.params, _recipients.c.phone, _recipients.c.sending_at, _recipients.c.zone)
          .select_from(_links.outerjoin(_recipients, and_(_recipients.c.id == bindparam("recipient_id"),
                                                          _recipients.c.campaign_id == _links.c.campaign_id)))
          .where(_links.c.id == bindparam("link_id")))
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


def _count(session: Session, link_id: int, recipient_id: int, campaign_id: int, now) -> bool:
    """Add the click to its link's and its recipient's; True when it is the recipient's first on any link."""
    values = {"link_id": link_id, "recipient_id": recipient_id, "now": now}
    begin_write(session)
    connection = session.connection()  # Core statements: the ORM has nothing to add to them
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
