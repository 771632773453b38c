"""The example file a newcomer tries first: it must mostly import, and show each kind of flaw once."""
from __future__ import annotations

from pathlib import Path

from webapp.contacts.phones import InvalidPhone, normalise
from webapp.contacts.tabular import ColumnGuess, guess_columns, open_table

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "customers.csv"


def test_example_customers_mostly_import_with_a_handful_of_flaws():
    with open_table(EXAMPLE) as table:
        rows = list(table.rows())
    assert table.headers == ["phone", "name", "city", "last_order", "coupon"]
    assert guess_columns(table.headers) == ColumnGuess(phone=0, name=1)
    assert all(row.problem is None for row in rows)

    numbers: dict[str, int] = {}
    duplicates, refused = [], {}
    for row in rows:
        try:
            phone = normalise(row.values[0], "US")  # the app's default country
        except InvalidPhone as invalid:
            refused[row.line_number] = invalid.reason
            continue
        if phone.e164 in numbers:
            duplicates.append(row.line_number)
        numbers.setdefault(phone.e164, row.line_number)

    assert len(numbers) >= 30
    assert duplicates == [32]  # (212) 555-0100 again, written as +1 212-555-0100
    assert refused == {
        33: "this number was changed by a spreadsheet program; format the column as text",
        34: "the number has no area code",
        35: "the phone number is empty",
        36: "the number contains letters",
    }
