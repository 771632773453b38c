"""The columns of a campaign's per-recipient log, declared once.

The log page (its headings and cells), the CSV export (its headers, in this order) and the API's recipient
(its fields and their JSON Schema) are all read from LOG_COLUMNS. A new column is one more line here, plus
the model's field and its migration when the value is stored.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers

from webapp.campaigns.models import RECIPIENT_STATES, Recipient
from webapp.timestamps import ISO_SCHEMA


@dataclass(frozen=True)
class Kind:
    """What sort of value a column holds: its JSON Schema in the API, and the way (a branch of
    templates/tracking/_cells.html) that shows it on the page (a column may name its own)."""

    schema: dict
    cell: str


TEXT = Kind({"type": "string"}, "text")
OPTIONAL_TEXT = Kind({"type": ["string", "null"]}, "text")
NUMBER = Kind({"type": "integer"}, "text")
CODE = Kind({"type": ["integer", "null"]}, "text")
FLAG = Kind({"type": ["boolean", "null"]}, "flag")
STATE = Kind({"type": "string", "enum": list(RECIPIENT_STATES)}, "state")
MOMENT = Kind(ISO_SCHEMA, "moment")
MONEY = Kind({"type": ["string", "null"], "pattern": r"^\d+\.\d{6}$"}, "text")  # a decimal, exact, as text


@dataclass(frozen=True)
class Column:
    """One field of a recipient row in the log; a place left None (api, csv, page) does not show it."""

    key: str  # the Recipient attribute it reads, or the name of what `derive` computes
    kind: Kind
    api: str | None = None  # its field name in the API's recipient
    csv: str | None = None  # its header in the CSV export (a time's names its zone too: tracking/log.py)
    page: str | None = None  # the heading of its own column on the log page
    cell: str = ""  # the way it is shown on the page (templates/tracking/_cells.html), when not its kind's
    description: str = ""  # what the API reference says of it
    derive: Callable[[Recipient], object] | None = None  # computes the value from the row instead of reading it

    def __post_init__(self) -> None:
        if self.csv and self.derive:
            raise ValueError(f"{self.key}: the CSV export reads stored columns only, not derived values")

    def value(self, row: Recipient):
        return self.derive(row) if self.derive else getattr(row, self.key)

    @property
    def shown_as(self) -> str:
        return self.cell or self.kind.cell

    @property
    def schema(self) -> dict:
        return {**self.kind.schema, "description": self.description} if self.description else self.kind.schema


def calling_code(row: Recipient) -> str:
    """The country calling code of the row's number ("1", "44"), from its region or the number itself."""
    if row.country:
        return str(phonenumbers.country_code_for_region(row.country) or "")
    try:
        return str(phonenumbers.parse(row.phone).country_code)
    except phonenumbers.NumberParseException:
        return ""


# In the CSV's and the page's order. The page's Recipient, Error and Reply cells also show fields that have no
# column of their own there: the number; the error's title, details and time, or the skip reason; the button.
LOG_COLUMNS = (
    Column("id", NUMBER, api="id"),
    Column("phone", TEXT, api="phone_number", csv="Phone"),
    Column("wa_id", OPTIONAL_TEXT, api="wa_id", csv="WhatsApp ID",
           description="The WhatsApp id Meta answered the send with, when it differs from the number (e.g. a "
                       "Brazilian mobile without its ninth digit); null otherwise."),
    Column("name", TEXT, api="name", csv="Name", page="Recipient", cell="recipient"),
    Column("wamid", OPTIONAL_TEXT, api="message_id", description="The WhatsApp message id (wamid) once sent."),
    Column("country", TEXT, api="country", description="ISO 3166 region, e.g. US; empty when unknown."),
    Column("country_code", TEXT, api="country_code", description="The calling code, e.g. 1.", derive=calling_code),
    Column("status", STATE, api="status", csv="Status", page="Status"),
    Column("created_at", MOMENT, api="created_at"),
    Column("accepted_at", MOMENT, api="accepted_at", csv="Accepted at",
           description="When the Cloud API accepted the message; Meta's statuses (sent, delivered, read) follow."),
    Column("sent_at", MOMENT, api="sent_at", csv="Sent at", page="Sent",
           description="When Meta reported the message sent."),
    Column("delivered_at", MOMENT, api="delivered_at", csv="Delivered at", page="Delivered"),
    Column("read_at", MOMENT, api="read_at", csv="Read at", page="Read"),
    Column("replied_at", MOMENT, api="replied_at", csv="Replied at", page="Replied"),
    Column("failed_at", MOMENT, api="failed_at", csv="Failed at"),
    Column("error_code", CODE, api="error_code", csv="Error code", page="Error", cell="error"),
    Column("error_title", TEXT, api="error_title", csv="Error"),
    Column("error_detail", TEXT, api="error_detail", csv="Error details"),
    Column("reply_text", TEXT, api="reply_text", csv="Reply", page="Reply", cell="reply"),
    Column("reply_button", TEXT, api="reply_button", csv="Button"),
    Column("skip_reason", TEXT, api="skip_reason", csv="Skip reason"),
    Column("clicked_at", MOMENT, api="clicked_at", csv="Clicked at", page="Clicked", cell="clicked",
           description="When the recipient first opened one of the campaign's tracked links; null before."),
    Column("clicks", CODE, api="clicks", csv="Clicks",
           description="How many times the recipient opened the campaign's tracked links (previews not counted); "
                       "null before the first."),
    Column("pricing_billable", FLAG, api="billable", csv="Billable",
           description="Whether Meta bills this message, once known."),
    Column("pricing_category", TEXT, api="pricing_category", csv="Pricing category",
           description="Meta's pricing category, e.g. marketing."),
    Column("cost", MONEY, api="cost", csv="Cost",
           description="What Meta bills for it by the rate card (in the card's currency), once a status says it is "
                       "billable; null before, or when the card has no price for its country."),
)

PAGE_COLUMNS = tuple(column for column in LOG_COLUMNS if column.page)
_PAGE_CELLS = tuple((column, column.shown_as, column.page) for column in PAGE_COLUMNS)
CSV_COLUMNS = tuple(column for column in LOG_COLUMNS if column.csv)
API_COLUMNS = tuple(column for column in LOG_COLUMNS if column.api)


def page_cells(row: Recipient) -> list[tuple[str, str, object]]:
    """A row's cells on the log page: how each is shown (templates/tracking/_cells.html), its column's heading and its
    value, read here once so that the template, run for 50 rows of 9 cells, does no more than show them."""
    return [(how, heading, column.value(row)) for column, how, heading in _PAGE_CELLS]
