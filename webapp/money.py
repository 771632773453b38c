"""Amounts of money as the database keeps them: whole millionths of a currency unit in a BIGINT, read back as an
exact Decimal (SQLite has no decimal type, and floats would round a price of 0.0107 × a million messages)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger
from sqlalchemy.types import TypeDecorator

MICROS = Decimal(1_000_000)


def to_micros(amount: Decimal) -> int:
    return int((Decimal(amount) * MICROS).to_integral_value())


def from_micros(micros: int) -> Decimal:
    return (Decimal(micros) / MICROS).quantize(Decimal("0.000001"))


def as_text(amount: Decimal) -> str:
    """"12.345600": exact, six decimals, as the API and the exports write amounts."""
    return str(Decimal(amount).quantize(Decimal("0.000001")))


class Money(TypeDecorator):
    """A Decimal with up to six decimals, stored as millionths."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else to_micros(value)

    def process_result_value(self, value, dialect):
        return None if value is None else from_micros(value)
