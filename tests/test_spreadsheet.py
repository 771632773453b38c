"""Cells safe to open in a spreadsheet: what could run as a formula is neutralised, phone numbers are not, and an
import takes the quote off again exactly where an export put it."""
from __future__ import annotations

import pytest

from webapp.spreadsheet import neutralise, unquoted

RUNNABLE = [
    "=1+1", "+1+1", "-2", "-10%", "@SUM(A1)", "=HYPERLINK(\"http://evil\")",
    "\t=x", "\tTabbed", "\r+1",  # a leading tab or carriage return, whatever follows
    " =1+1", "  @A1", "\n-1", "\u00a0=cmd",  # whitespace a spreadsheet skips
    "\ufeff=cmd", "\u200b=1+1", "\u2060@A1", "\u200e+1+1", "\u00ad-1",  # invisible characters before the formula
    "+1 555 0100", "+1-555-0100", "+٣٣٣", "+",  # not E.164: not only ASCII digits after the plus
]
PLAIN = ["+15550000000", "+447911123456", "+1", "Ana", "", " Bob", "O'Brien", "'quoted by the person", "1+1", "a=b"]


@pytest.mark.parametrize("value", RUNNABLE)
def test_a_cell_that_could_run_as_a_formula_gets_a_leading_quote(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", PLAIN)
def test_phone_numbers_and_plain_text_are_exported_as_they_are(value):
    assert neutralise(value) == value


@pytest.mark.parametrize("value", RUNNABLE + PLAIN)
def test_an_import_takes_off_exactly_the_quote_an_export_put_on(value):
    assert unquoted(neutralise(value)) == value


def test_a_phone_number_quoted_by_an_earlier_export_imports_without_its_quote():
    assert unquoted("'+15550000000") == "+15550000000"
    assert unquoted("'quoted by the person") == "'quoted by the person"
