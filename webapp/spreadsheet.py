"""CSV cells and spreadsheets: a cell a spreadsheet would run as a formula is neutralised on export (a leading
quote), and that quote is taken off again when the file comes back as an import, so exports import back."""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A cell a spreadsheet would run as a formula (= + - @, or a leading tab/CR) gets a leading quote."""
    return "'" + text if text[:1] in FORMULA_STARTS else text


def unquoted(value: str) -> str:
    """A cell without the quote that `neutralise` put before a formula-like value."""
    return value[1:] if value[:1] == "'" and neutralise(value[1:]) == value else value
