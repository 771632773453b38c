"""Meta's rate card: what one template message costs by recipient country and category.

Meta prices per *market*: a country of its own (India) or a group (Rest of Africa); markets.json says which countries
each covers and "Other" prices the rest. The workspace keeps its card in the database (rate_cards, rate_prices),
seeded from the shipped rate_card.csv on first use; admins edit a price or import Meta's published CSV (Settings →
Pricing). A market may also be a country's ISO code, which then wins over the country's market.

`price_of(session, category, country)` is the one answer to "what does this message cost"; `Prices` is the same
answer for many messages from one read of the card.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from webapp.pricing.models import CATEGORIES, RateCard, RatePrice
from webapp.timestamps import utcnow
from webapp.transactions import upsert

HERE = Path(__file__).parent
SHIPPED_CARD = HERE / "rate_card.csv"
MARKETS_FILE = HERE / "markets.json"
REQUIRED = ("market", "currency", *CATEGORIES)  # the columns an imported file must have (any case, any order)
MAX_IMPORT_BYTES = 1_000_000
BLANK = ("", "-", "n/a", "na", "none")  # a cell with no price for its category


class PricingError(Exception):
    """A card, a price or a budget that cannot be taken, with the message an admin reads; nothing was changed."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


@cache
def markets() -> dict:
    """markets.json: the market of each country, Meta's fallback market, and where the definitions come from."""
    data = json.loads(MARKETS_FILE.read_text(encoding="utf-8"))
    data["of_country"] = {country: market for market, countries in data["markets"].items() for country in countries}
    return data


def market_of(country: str) -> str:
    """The market Meta prices a country in (its fallback, "Other", for a country no market names)."""
    return markets()["of_country"].get(country.upper(), markets()["fallback"])


# --- Reading the card ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Prices:
    """The card as read once: every market's prices, for pricing many messages."""

    currency: str
    by_market: dict[str, dict[str, Decimal | None]]
    source: str = ""
    effective_date: date | None = None

    def of(self, category: str, country: str) -> Decimal | None:
        """The price of one message of `category` to a number of `country` (None: the card cannot price it)."""
        if not country:
            return None
        prices = self.by_market.get(country.upper()) or self.by_market.get(market_of(country))
        return prices.get(category.lower()) if prices else None


ALL_PRICES = select(RatePrice.__table__.c.market, *(RatePrice.__table__.c[c] for c in CATEGORIES)) \
    .order_by(RatePrice.__table__.c.market)


def prices(session: Session) -> Prices:
    """The workspace's card (seeded from the shipped file the first time)."""
    card = ensure_card(session)
    rows = session.execute(ALL_PRICES).all()  # plain rows: webhook ingest reads the card once a batch
    return Prices(card.currency, {market: dict(zip(CATEGORIES, values)) for market, *values in rows},
                  card.source, card.effective_date)


def price_of(session: Session, category: str, country: str) -> Decimal | None:
    """What one message of `category` (marketing, utility, authentication, service) to `country` costs."""
    return prices(session).of(category, country)


def ensure_card(session: Session) -> RateCard:
    card = session.get(RateCard, 1)
    return card if card is not None else _seed(session)


def _seed(session: Session) -> RateCard:
    """Store the shipped card, once however many transactions find none at the same time (two web processes'
    first billable statuses): the one whose INSERT of the card's row goes in first stores the prices; the others'
    insert nothing, having waited for it on that row (PostgreSQL), and read its card."""
    seeded = session.execute(upsert(session, RateCard.__table__).values(id=1, updated_at=utcnow())
                             .on_conflict_do_nothing(index_elements=["id"]).returning(RateCard.__table__.c.id)).scalar()
    if seeded is None:
        return session.get(RateCard, 1, populate_existing=True)
    shipped = parse(SHIPPED_CARD.read_text(encoding="utf-8"))
    return _store(session, shipped, shipped_source(), date.fromisoformat(markets()["effective_date"]))


def shipped_source() -> str:
    return f"Shipped with Broadcaster: {markets()['source']} (Meta's list prices, to be updated)"


# --- Parsing a CSV in Meta's shape -------------------------------------------------------------------------

@dataclass
class ParsedCard:
    currency: str
    rows: dict[str, dict[str, Decimal | None]] = field(default_factory=dict)


def parse(text: str) -> ParsedCard:
    """A rate card from CSV text: a header with Market, Currency, Marketing, Utility, Authentication and Service
    (any case, other columns ignored; lines before it and lines starting with # are skipped), then one row per
    market. Every problem is found before anything is stored, and named with its line."""
    lines = [(number, line) for number, line in enumerate(text.lstrip("\ufeff").splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    reader = list(csv.reader(io.StringIO("\n".join(line for _, line in lines))))
    header_at = next((i for i, cells in enumerate(reader[:20])
                      if "market" in [c.strip().casefold() for c in cells]), None)
    if header_at is None:
        raise PricingError("No header row with a “Market” column was found. The file needs the columns "
                            f"{', '.join(c.title() for c in REQUIRED)}, as in Meta's rate card CSV.", "file")
    header = [c.strip().casefold() for c in reader[header_at]]
    missing = [c.title() for c in REQUIRED if c not in header]
    if missing:
        raise PricingError(f"The header lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}. "
                            f"It needs {', '.join(c.title() for c in REQUIRED)}.", "file")
    where = {name: header.index(name) for name in REQUIRED}
    parsed, problems, currencies = ParsedCard(""), [], set()
    for (number, _), cells in zip(lines[header_at + 1:], reader[header_at + 1:]):
        cell = lambda name: cells[where[name]].strip() if where[name] < len(cells) else ""  # noqa: E731
        market = cell("market")
        if not market:
            continue
        try:
            market = known_market(market)
        except PricingError as error:
            problems.append(f"Line {number}: {error.message}")
            continue
        if market in parsed.rows:
            problems.append(f"Line {number}: “{market}” is listed twice.")
            continue
        currencies.add(cell("currency").upper())
        try:
            parsed.rows[market] = {category: amount(cell(category)) for category in CATEGORIES}
        except PricingError as error:
            problems.append(f"Line {number}: {error.message}")
    if not problems and not parsed.rows:
        problems.append("The file has a header but no market.")
    if len(currencies) > 1:
        problems.append(f"Every price must be in one currency; the file has {', '.join(sorted(currencies))}.")
    if problems:
        shown = problems[:10] + ([f"… and {len(problems) - 10} more."] if len(problems) > 10 else [])
        raise PricingError(" ".join(shown), "file")
    parsed.currency = currencies.pop() or "USD"
    return parsed


def known_market(name: str) -> str:
    """A market as Meta names it (any case), or a country's two-letter ISO code."""
    spelled = {market.casefold(): market for market in (*markets()["markets"], markets()["fallback"])}
    if name.casefold() in spelled:
        return spelled[name.casefold()]
    if len(name) == 2 and name.isalpha():
        return name.upper()
    raise PricingError(f"“{name}” is neither one of Meta's markets ({', '.join(sorted(spelled.values()))}) nor a "
                        "two-letter country code.", "market")


def amount(text: str) -> Decimal | None:
    """A price per message: a decimal number, at least 0 (blank, "-" or "n/a": no price)."""
    cleaned = text.strip().lstrip("$").replace(",", "") if text else ""
    if cleaned.casefold() in BLANK:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise PricingError(f"“{text}” is not a price: write a number such as 0.0625.", "price") from None
    if not value.is_finite() or value < 0 or value >= 1000:
        raise PricingError(f"“{text}” is not a price per message (between 0 and 1,000).", "price")
    if value != value.quantize(Decimal("0.000001")):
        raise PricingError(f"“{text}” has more than six decimals.", "price")
    return value


# --- Changing the card ----------------------------------------------------------------------------------------

def import_card(session: Session, data: bytes, source: str, effective: date | None) -> ParsedCard:
    """Replace the whole card with a CSV file's (in the caller's transaction); a bad file changes nothing."""
    if len(data) > MAX_IMPORT_BYTES:
        raise PricingError("The file is larger than 1 MB: a rate card has a few dozen lines.", "file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise PricingError("The file is not text (save it from your spreadsheet as CSV).", "file") from None
    parsed = parse(text)
    current = ensure_card(session)
    if parsed.currency != current.currency:
        raise PricingError(f"The file's prices are in {parsed.currency}, the card's in {current.currency}: budgets "
                            f"and costs so far are in {current.currency}. Import Meta's {current.currency} card.",
                            "file")
    _store(session, parsed, source.strip() or "Imported CSV", effective or date.today())
    return parsed


def set_price(session: Session, market: str, category: str, text: str) -> tuple[str, Decimal | None]:
    """Change one market's price of one category (blank: no price); return the market as the card names it and
    the price."""
    if category not in CATEGORIES:
        raise PricingError(f"“{category}” is not a category: {', '.join(CATEGORIES)}.", "category")
    card = ensure_card(session)
    market = known_market(market.strip())
    value = amount(text)
    row = session.get(RatePrice, market)
    if row is None:
        row = RatePrice(market=market)
        session.add(row)
    setattr(row, category, value)
    card.source = card.source if card.source.endswith("(edited)") else f"{card.source} (edited)"
    session.flush()
    return market, value


def _store(session: Session, parsed: ParsedCard, source: str, effective: date | None) -> RateCard:
    session.execute(delete(RatePrice))
    session.add_all(RatePrice(market=market, **values) for market, values in parsed.rows.items())
    card = session.get(RateCard, 1) or RateCard(id=1)
    card.currency, card.source, card.effective_date = parsed.currency, source[:2000], effective
    session.add(card)
    session.flush()
    return card
