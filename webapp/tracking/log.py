"""The per-recipient log of a campaign: filters, keyset pages on the recipients' indexes, and CSV export
(of the columns declared in columns.py).

Each filter has an index that serves its first page at a million rows (campaigns/models.py): the status, Meta's error
code, replied and clicked (partial indexes), and on PostgreSQL search in the phone or the name (trigram indexes)."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from webapp.campaigns.lifecycle import failures
from webapp.campaigns.models import RECIPIENT_STATES, Recipient
from webapp.spreadsheet import neutralise
from webapp.timestamps import utcnow
from webapp.tracking.columns import CSV_COLUMNS, MOMENT
from webapp.workspace.zone import spreadsheet_time, zone_heading

PAGE_SIZE = 50
EXPORT_BATCH = 5000
PHONE_QUERY = re.compile(r"[\d\s()+.-]+")


@dataclass(frozen=True)
class LogFilters:
    status: str = ""
    error: int | None = None  # Meta's error code
    replied: str = ""  # "yes" | "no" | ""
    clicked: str = ""  # "yes" | "no" | "": opened a tracked link
    q: str = ""  # part of a phone number or of a name

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> LogFilters:
        """Filters from a query string; anything unrecognised is left out rather than refused."""
        status = args.get("status", "")
        error = args.get("error", "").strip()
        replied, clicked = args.get("replied", ""), args.get("clicked", "")
        return cls(status=status if status in RECIPIENT_STATES else "",
                   error=int(error) if error.isdigit() and len(error) < 10 else None,
                   replied=replied if replied in ("yes", "no") else "",
                   clicked=clicked if clicked in ("yes", "no") else "",
                   q=args.get("q", "").strip()[:100])

    def args(self) -> dict[str, str | int]:
        """The non-empty filters, for url_for."""
        return {name: value for name, value in asdict(self).items() if value not in ("", None)}

    def conditions(self) -> list:
        found = []
        if self.status:
            found.append(Recipient.status == self.status)
        if self.error is not None:
            found.append(Recipient.error_code == self.error)
        if self.replied:
            found.append(Recipient.replied_at.is_not(None) if self.replied == "yes" else Recipient.replied_at.is_(None))
        if self.clicked:
            found.append(Recipient.clicked_at.is_not(None) if self.clicked == "yes" else Recipient.clicked_at.is_(None))
        if self.q:
            digits = re.sub(r"\D", "", self.q)
            if PHONE_QUERY.fullmatch(self.q) and len(digits) >= 3:
                found.append(Recipient.phone.contains(digits, autoescape=True))
            else:
                found.append(func.lower(Recipient.name).contains(self.q.lower(), autoescape=True))
        return found


@dataclass(frozen=True)
class LogPage:
    rows: list[Recipient]
    next_after: int | None  # keyset of the next page
    prev_before: int | None  # keyset of the previous page


def log_page(session: Session, campaign_id: int, filters: LogFilters, after: int | None = None,
             before: int | None = None, size: int | None = None) -> LogPage:
    """A page of rows in send order. Keyset on id, so the campaign_id(+status), id indexes serve any page."""
    size = size or PAGE_SIZE
    query = select(Recipient).where(Recipient.campaign_id == campaign_id, *filters.conditions())
    if before is not None:
        rows = list(session.scalars(query.where(Recipient.id < before).order_by(Recipient.id.desc()).limit(size + 1)))
        more_before, rows = len(rows) > size, rows[:size][::-1]
        return LogPage(rows, rows[-1].id if rows else None, rows[0].id if rows and more_before else None)
    if after is not None:
        query = query.where(Recipient.id > after)
    rows = list(session.scalars(query.order_by(Recipient.id).limit(size + 1)))
    more_after, rows = len(rows) > size, rows[:size]
    return LogPage(rows, rows[-1].id if rows and more_after else None,
                   rows[0].id if rows and after is not None else None)


def error_codes(session: Session, campaign_id: int) -> list[tuple[int, str, int]]:
    """(code, title, rows) of the campaign's failures, most frequent first, for the error filter: read from the
    campaign's counters of failed rows by code (a handful of rows, whatever the campaign's size), or counted from
    the rows when those do not account for every failure (rows failed before they were kept); each code's title
    read from one of its rows (the (campaign, error code) index finds it)."""
    failed = (Recipient.campaign_id == campaign_id, Recipient.status == "failed")
    kept = failures(session, campaign_id)
    found = kept.items() if kept is not None else session.execute(
        select(Recipient.error_code, func.count())
        .where(*failed, Recipient.error_code.is_not(None)).group_by(Recipient.error_code)).all()
    title = select(Recipient.error_title).where(*failed, Recipient.error_code == bindparam("code")).limit(1)
    return sorted(((code, session.scalar(title, {"code": code}) or "", n) for code, n in found),
                  key=lambda item: (-item[2], item[0]))


def export_csv(session: Session, campaign_id: int, filters: LogFilters, zone: ZoneInfo,
               since: datetime) -> Iterator[str]:
    """The filtered log as CSV text, streamed in keyset batches so a million rows never sit in memory.

    Times are the workspace's wall-clock times (`zone`) in a form spreadsheets read as dates; each time's header
    names the zone and its offset over the campaign's life (`since` its creation).
    """
    columns = [getattr(Recipient, column.key) for column in CSV_COLUMNS]
    heading = zone_heading(zone, since, utcnow())
    headers = [f"{column.csv} ({heading})" if column.kind is MOMENT else column.csv for column in CSV_COLUMNS]
    yield "\ufeff" + _csv_line(headers)  # the BOM tells Excel it is UTF-8
    after = 0
    while True:
        rows = session.execute(
            select(Recipient.id, *columns)
            .where(Recipient.campaign_id == campaign_id, Recipient.id > after, *filters.conditions())
            .order_by(Recipient.id).limit(EXPORT_BATCH)).all()
        if not rows:
            return
        yield "".join(_csv_line([_cell(value, zone) for value in row[1:]]) for row in rows)
        after = rows[-1].id


def _cell(value, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return spreadsheet_time(value, zone)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return neutralise(str(value))


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()
