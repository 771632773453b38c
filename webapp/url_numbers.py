"""Whole numbers read from requests (ids in paths, pages and cursors in query strings), kept within what the
database column holds: an absurd number is a 404 or a 400 that says what is expected, never a database error."""
from __future__ import annotations

from collections.abc import Mapping

from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter

LARGEST_ID = 2**31 - 1  # an INTEGER id on PostgreSQL (most tables); larger ones are refused by the database
LARGEST = 2**63 - 1  # a BIGINT (recipient rows, webhook events, inbound messages) and SQLite's INTEGER
LAST_PAGE = 10**9  # far past any real page, and its offset still fits LARGEST at any page size


class IdConverter(BaseConverter):
    """`<id:campaign_id>` for an INTEGER id, `<id(big=True):recipient_id>` for a BIGINT one. Any other number
    matches no route: the 404 page, or the API's catch-all JSON 404 (the pattern refuses it, not a check after
    matching, which would end werkzeug's search early). Registered in create_app; every id route uses it
    (tests/test_numbers_in_urls.py)."""

    weight = 50  # as werkzeug's int

    def __init__(self, map, big: bool = False) -> None:  # noqa: A002 - werkzeug's name
        super().__init__(map)
        self.regex = up_to(LARGEST if big else LARGEST_ID)

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


def up_to(largest: int) -> str:
    """A regular expression for the whole numbers from 1 to `largest`, written without leading zeros."""
    text = str(largest)
    options = [text, f"[1-9][0-9]{{0,{len(text) - 2}}}"] if len(text) > 1 else [text]
    for i, digit in enumerate(text):  # as long as `largest`: its first i digits, then a smaller one, then any
        low = 1 if i == 0 else 0
        if int(digit) > low:
            options.append(f"{text[:i]}[{low}-{int(digit) - 1}][0-9]{{{len(text) - i - 1}}}")
    return "|".join(options)


def number_arg(args: Mapping[str, str], name: str, default: int | None = None, *, least: int = 1,
               most: int = LARGEST_ID) -> int | None:
    """The parameter `name` of a query string as a whole number from `least` to `most` (an INTEGER id unless
    told); `default` when it is missing or empty; anything else a 400 that says what is expected."""
    raw = args.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not least <= int(raw) <= most:
        raise BadRequest(f"“{name}” must be a whole number from {least:,} to {most:,}.")
    return int(raw)


def page_arg(args: Mapping[str, str]) -> int:
    """`?page=`: 1 when missing; a page number from 1 to LAST_PAGE, else a 400."""
    return number_arg(args, "page", 1, most=LAST_PAGE)
