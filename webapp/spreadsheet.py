"""CSV cells and spreadsheets: a cell a spreadsheet would run as a formula is neutralised on export (a leading
quote), and that quote is taken off again when the file comes back as an import, so exports import back."""
from __future__ import annotations

import re
import unicodedata

FORMULA_STARTS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r")  # run as formulas by some spreadsheet programs, whatever follows
E164 = re.compile(r"\+[0-9]+")  # a phone number as we store it: a number to a spreadsheet, never a formula


def neutralise(text: str) -> str:
    """A cell a spreadsheet could run as a formula gets a leading quote: one that starts with = + - @, also
    behind whitespace or invisible characters (a BOM, a zero-width space), or with a tab or carriage return.
    A phone number in E.164 (+ and digits only) is left as it is."""
    return "'" + text if _runnable(text) else text


def unquoted(value: str) -> str:
    """A cell without the quote that `neutralise` put before it; a phone number quoted by an export made
    before E.164 numbers were left as they are comes back without its quote too."""
    if value[:1] == "'" and (_runnable(value[1:]) or E164.fullmatch(value[1:])):
        return value[1:]
    return value


def _runnable(text: str) -> bool:
    if text.startswith(CONTROL_STARTS):
        return True
    for character in text:
        if not (character.isspace() or unicodedata.category(character) == "Cf"):  # Cf: BOM, zero-width…
            return character in FORMULA_STARTS and not E164.fullmatch(text)
    return False
