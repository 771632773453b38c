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

from collections import Counter, defaultdict
from dataclasses import dataclass

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
# Words looked for in the lowercased agent: a regular expression of them took five times as long on a phone's agent.
PREVIEW_START = "whatsapp/"
PREVIEW_WORDS = ("facebookexternalhit", "facebot", "twitterbot", "slackbot", "linkedinbot", "telegrambot",
                 "discordbot", "skypeuripreview", "googlebot", "bingbot", "applebot", "redditbot", "pinterestbot",
                 "embedly")
BATCH = 500  # queued clicks counted in one transaction
# A redirect's own headers, besides the security headers of every answer (webapp/security_headers.py).
REDIRECT_HEADERS = {"Cache-Control": "private, no-store",  # every tap must reach us to be counted
                    "Referrer-Policy": "no-referrer"}      # the code stays ours


def is_preview(user_agent: str | None, method: str = "GET") -> bool:
    """Whether a request for a tracked link is a machine's look, not a person's click."""
    if method.upper() == "HEAD":
        return True
    agent = (user_agent or "").lower()
    return agent.startswith(PREVIEW_START) or any(word in agent for word in PREVIEW_WORDS)


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
    commits); how many were taken. A click whose link or recipient is gone (a deleted campaign) counts for nothing.
    A batch costs a few statements, whatever its size, plus one per recipient who clicked."""
    begin_write(session)
    connection = session.connection()  # Core statements: the ORM has nothing to add to them
    queued = connection.execute(TAKE, {"limit": limit}).all()
    clicks = [click for click in queued if click.known is not None]
    by_recipient: dict[int, list] = defaultdict(list)
    by_link: dict[tuple[int, int], list] = defaultdict(list)
    for click in clicks:
        by_recipient[click.recipient_id].append(click)
        by_link[(click.recipient_id, click.link_id)].append(click)
    firsts, tally, new_clickers = set(), daily.Tally(), Counter()
    for recipient_id, theirs in sorted(by_recipient.items()):  # in id order: a fixed lock order for two jobs
        values = {"recipient_id": recipient_id, "clicks": len(theirs), "now": theirs[0].clicked_at}
        if connection.execute(ADD_TO_RECIPIENT, values).scalar() == len(theirs):  # none before these
            first = theirs[0]
            firsts.add(first.id)
            new_clickers[first.campaign_id] += 1
            # the day's "clicked" figure counts recipients, as the campaign's counter does
            tally.add_figures(first.campaign_id, first.sending_at or first.clicked_at, first.zone, clicked=1)
    if by_link:
        connection.execute(ADD_TO_LINK[connection.dialect.name], [
            {"recipient_id": recipient_id, "link_id": link_id, "clicks": len(theirs),
             "first": theirs[0].clicked_at, "last": theirs[-1].clicked_at}
            for (recipient_id, link_id), theirs in sorted(by_link.items())])
    for campaign_id, clickers in sorted(new_clickers.items()):
        add_counts(session, campaign_id, {CLICKED: clickers})
    tally.write(session)
    emit_many(session, "link.clicked", [
        {"broadcast_id": click.campaign_id, "recipient_id": click.recipient_id, "phone": click.phone,
         "link": click.slot, "url": click.url or value_at(click.params, click.path), "first": click.id in firsts,
         "at": iso(click.clicked_at)} for click in clicks])
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
# The oldest queued clicks with their link and recipient (`known` is NULL when the recipient is not the link's
# campaign's, or gone); on PostgreSQL locked, and skipped by a second job at the same time.
TAKE = (select(_queued.c.id, _queued.c.link_id, _queued.c.recipient_id, _queued.c.clicked_at, _links.c.url,
               _links.c.path, _links.c.slot, _links.c.campaign_id, _recipients.c.id.label("known"),
               _recipients.c.params, _recipients.c.phone, _recipients.c.sending_at, _recipients.c.zone)
        .select_from(_queued.outerjoin(_links, _links.c.id == _queued.c.link_id)
                     .outerjoin(_recipients, and_(_recipients.c.id == _queued.c.recipient_id,
                                                  _recipients.c.campaign_id == _links.c.campaign_id)))
        .order_by(_queued.c.id).limit(bindparam("limit")).with_for_update(of=_queued, skip_locked=True))
ADD_TO_LINK = {dialect: (insert(_clicks).values(recipient_id=bindparam("recipient_id"), link_id=bindparam("link_id"),
                                                first_clicked_at=bindparam("first", type_=UTCDateTime()),
                                                last_clicked_at=bindparam("last", type_=UTCDateTime()),
                                                clicks=bindparam("clicks"))
                         .on_conflict_do_update(index_elements=["recipient_id", "link_id"],
                                                set_={"clicks": _clicks.c.clicks + bindparam("clicks"),
                                                      "last_clicked_at": bindparam("last", type_=UTCDateTime())}))
               for dialect, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))}
# One statement per recipient, so that two first clicks at once (in two jobs) cannot both be the first: the row's
# lock orders them.
ADD_TO_RECIPIENT = (update(_recipients).where(_recipients.c.id == bindparam("recipient_id"))
                    .values(clicks=func.coalesce(_recipients.c.clicks, 0) + bindparam("clicks"),
                            clicked_at=func.coalesce(_recipients.c.clicked_at, bindparam("now", type_=UTCDateTime())))
                    .returning(_recipients.c.clicks))


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
