"""Phone numbers as people type them, turned into E.164 — or a reason, for people, why not."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumber, ValidationResult

SPREADSHEET_MANGLED = "this number was changed by a spreadsheet program; format the column as text"
EMPTY = "the phone number is empty"
LETTERS = "the number contains letters"
TOO_SHORT = "the number is too short"
TOO_LONG = "the number is too long"
SEVERAL = "the cell holds more than one number; keep one number per row"

# "9.19988E+11" or "9,19988E+11": what Excel shows (and saves to CSV) for a long number
# in a General-formatted cell. The digits it dropped are gone for good.
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d*)?\s*[eE]\s*[+-]?\d+")
# "919988066776.0": a number column written out as floats by a database or data tool.
_FLOAT_SUFFIX = re.compile(r"(\+?\d{7,})\.0+")
_LETTER = re.compile(r"[^\W\d_]")
# What people put between digits: spaces (incl. no-break), dashes of every width, dots,
# parentheses, slashes.
_SEPARATORS = re.compile(r"[\s.\-\u2010-\u2015()/]+")
_ASCII_NUMBER = re.compile(r"(\+?)([0-9]+)")
_ANY_NUMBER = re.compile(r"\+?\d+")
_LIST_SEPARATOR = re.compile(r"[,;/|]|:::|\s{3,}")  # ":::" joins a label's numbers in Google Contacts' exports
_DATE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")

# Digits invalid as a national number are retried with a "+" from this many on (a country
# code and 8 or more digits); shorter ones are more likely mistyped national numbers.
_MIN_DIGITS_FOR_MISSING_PLUS = 11


class InvalidPhone(ValueError):
    """A number that can't be used; `reason` is a sentence fragment for people."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Phone(NamedTuple):
    """A usable number: "+12125550100" and the region it belongs to."""

    e164: str
    region: str  # ISO 3166-1 alpha-2, or "001" for non-geographic numbers such as +800


def normalise(raw: str, default_region: str) -> Phone:
    """Return `raw` as an E.164 number, reading national numbers as `default_region`'s.

    Digits that are not a valid national number but are valid with a "+" in front (a
    country code written without its "+") are taken as international.
    Raises InvalidPhone with a reason for people, or ValueError for an unknown region
    (a configuration error, not a bad row).
    """
    region = default_region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown default country {default_region!r}")
    text = raw.strip()
    if not text:
        raise InvalidPhone(EMPTY)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)  # full-width "＋１２" as typed on CJK keyboards
    if _SCIENTIFIC.fullmatch(text):
        raise InvalidPhone(SPREADSHEET_MANGLED)
    if (match := _FLOAT_SUFFIX.fullmatch(text)) is not None:
        text = match.group(1)
    if _LETTER.search(text):
        raise InvalidPhone(LETTERS)
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00") and len(compact) > 2:
        # "00" is the international prefix nearly everywhere; people in +1 countries use it
        # too when they copy a number from abroad, so read it as "+" whatever the region.
        compact = "+" + compact[2:]
    if len(compact) > 16 or not _ANY_NUMBER.fullmatch(compact):
        _reject_stray_characters(text, compact)

    try:
        return _parse(compact, region)
    except InvalidPhone as national_error:
        digits = compact.lstrip("+")
        if compact.startswith("+") or len(digits) < _MIN_DIGITS_FOR_MISSING_PLUS or digits.startswith("0"):
            raise
        # WhatsApp ids and many exports write the country code without its "+"
        # ("919988066776"). Only a number that is invalid as a national one is retried.
        try:
            return _parse("+" + digits, region)
        except InvalidPhone:
            raise national_error from None


def looks_like_phone(text: str) -> bool:
    """Whether a cell reads like a phone number (a cheap check for finding the phone column)."""
    text = text.strip()
    if _SCIENTIFIC.fullmatch(text):
        return True  # a mangled phone column is still the phone column
    if _LETTER.search(text) or _DATE.fullmatch(text):
        return False
    compact = _SEPARATORS.sub("", text)
    return _ANY_NUMBER.fullmatch(compact) is not None and 7 <= len(compact.lstrip("+")) <= 15


def _reject_stray_characters(text: str, compact: str) -> None:
    if not compact.strip("+"):
        raise InvalidPhone(EMPTY)  # "-", "+", "()" and the like: a placeholder, not a number
    numbers = [part for part in _LIST_SEPARATOR.split(text) if sum(c.isdigit() for c in part) >= 6]
    if len(numbers) > 1:
        raise InvalidPhone(SEVERAL)
    if _ANY_NUMBER.fullmatch(compact):
        return  # merely long: parse() says "too long"
    stray = " ".join(sorted({c for c in compact if not c.isdigit()} - {"+"})) or "+"
    raise InvalidPhone(f"the number contains characters that are not part of a phone number: {stray}")


def _parse(compact: str, region: str) -> Phone:
    match = _ASCII_NUMBER.fullmatch(compact)
    if match is not None:
        built = _build_like_parse(match.group(2), bool(match.group(1)), region)
        if built is not None:
            country_code, national, certain = built
            if (number_region := _valid_region(country_code, national)) is not None:
                return Phone(f"+{country_code}{national}", number_region)
            if certain:
                raise InvalidPhone(_why_invalid(PhoneNumber(country_code=country_code, national_number=int(national))))
    return _parse_with_library(compact, region)


def _build_like_parse(digits: str, international: bool, region: str) -> tuple[int, str, bool] | None:
    """The number phonenumbers.parse() would build, without its cost (most of the cost per number).

    Returns (country code, national significant number, certain), or None where parse() would
    apply a rule this leaves to it. `certain` is False when a national prefix was taken
    off: parse() does the same if the rest is a valid number, but may keep it otherwise.
    tests/contacts/test_phones.py checks that the two agree, region by region.
    """
    if international:
        country_code, national = _split_country_code(digits)
        if country_code is None:
            return None
        rules = _rules_for_country_code(country_code)
    else:
        rules = _rules_for_region(region)
        country_code, national = rules.country_code, digits
        if national.startswith(rules.country_code_digits):
            return None  # parse() may take these digits as the country code
        if rules.international_prefix is not None and rules.international_prefix.match(national):
            return None  # or as an international call prefix ("011" in the US)
    certain = True
    if rules.national_prefix is not None and (prefix := rules.national_prefix.match(national)):
        if not rules.national_prefix_is_plain:
            return None  # carrier codes and rewrite rules (Brazil, Argentina…)
        national, certain = national[prefix.end():], prefix.end() == 0
    if not 2 <= len(national) <= 17 or national[0] == "0":
        return None  # leading zeros that belong to the number (Italy) need parse()
    return country_code, national, certain


def _valid_region(country_code: int, national: str) -> str | None:
    """The region is_valid_number() would find the number valid for, or None.

    is_valid_number() first picks the region (testing the number against each region
    sharing its country code: +1 has 25) and then tests it again against that region;
    testing each region once halves the cost.
    """
    for region, leading_digits, valid in _regions_of(country_code):
        if leading_digits is not None:
            # As in region_code_for_number(): matching leading digits settle the region.
            if leading_digits.match(national):
                return region if valid(national) else None
        elif valid(national):
            return region
    return None


# Bounded by the ~250 calling codes that exist.
@lru_cache(maxsize=512)
def _regions_of(country_code: int) -> tuple[tuple[str, re.Pattern[str] | None, Callable[[str], bool]], ...]:
    """(region, its leading digits pattern or None, its validity test) for each region of a calling code, in
    phonenumbers' order; a lone region's leading digits are not consulted (region_code_for_number() does not)."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code) or ()
    if len(regions) == 1:
        return ((regions[0], None, _validity_test(country_code, regions[0])),)
    found = []
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region)
        if metadata is not None:
            leading = re.compile(metadata.leading_digits) if metadata.leading_digits is not None else None
            found.append((region, leading, _validity_test(country_code, region)))
    return tuple(found)


_NATIONAL_LENGTHS = range(1, 18)  # phonenumbers' national significant numbers have at most 17 digits


def _validity_test(country_code: int, region: str) -> Callable[[str], bool]:
    """phonenumbers.is_valid_number_for_region() for a national significant number, with one regular expression.

    That function asks for the number's type, trying each type's pattern in turn through its own cache of
    compiled patterns, after the region's general pattern; any type but UNKNOWN makes the number valid. So the
    number is valid when it has a length the general rule allows, the general pattern matches it whole, and so
    does the pattern of one of the types allowing that length: per length, one expression joins the general
    pattern (as a lookahead) to the alternation of those types' patterns. A length outside the table is tried
    rule by rule.
    """
    general, types = _validity_rules(country_code, region)
    if general is None:
        return lambda national: False
    by_length = {}
    for length in _NATIONAL_LENGTHS:
        if general[0] and length not in general[0]:
            continue
        fitting = [pattern.pattern for lengths, pattern in types if not lengths or length in lengths]
        if fitting:
            joined = "|".join(f"(?:{pattern})" for pattern in fitting)
            by_length[length] = re.compile(rf"(?=(?:{general[1].pattern})\Z)(?:{joined})").fullmatch

    def valid(national: str) -> bool:
        if len(national) in _NATIONAL_LENGTHS:
            fullmatch = by_length.get(len(national))
            return fullmatch is not None and fullmatch(national) is not None
        return _fits(national, general) and any(_fits(national, rule) for rule in types)

    return valid


def _fits(national: str, rule: tuple[frozenset[int], re.Pattern[str]]) -> bool:
    lengths, pattern = rule
    return (not lengths or len(national) in lengths) and pattern.fullmatch(national) is not None


# Bounded by the ~250 regions and calling codes that exist.
@lru_cache(maxsize=512)
def _validity_rules(country_code: int, region: str) -> tuple[tuple | None, tuple[tuple, ...]]:
    """(general rule, type rules) of a region: (possible lengths, compiled national number pattern) each."""
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    if metadata is None:
        return None, ()

    def rule(desc) -> tuple[frozenset[int], re.Pattern[str]] | None:
        if desc is None or not desc.national_number_pattern:
            return None
        return frozenset(desc.possible_length), re.compile(desc.national_number_pattern)

    descs = [metadata.premium_rate, metadata.toll_free, metadata.shared_cost, metadata.voip,
             metadata.personal_number, metadata.pager, metadata.uan, metadata.voicemail, metadata.fixed_line]
    if not metadata.same_mobile_and_fixed_line_pattern:  # as _number_type_helper(): else mobile is not tried
        descs.append(metadata.mobile)
    return rule(metadata.general_desc), tuple(r for r in map(rule, descs) if r is not None)


def _parse_with_library(compact: str, region: str) -> Phone:
    try:
        number = phonenumbers.parse(compact, region)
    except NumberParseException as error:
        if error.error_type == NumberParseException.NOT_A_NUMBER and compact.lstrip("+").isdigit():
            raise InvalidPhone(TOO_SHORT) from None  # a digit or two
        raise InvalidPhone(_PARSE_ERRORS.get(error.error_type, "this is not a phone number")) from None
    number_region = _valid_region(number.country_code, phonenumbers.national_significant_number(number))
    if number_region is None:
        raise InvalidPhone(_why_invalid(number))
    return Phone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), number_region)


_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "the number starts with a country code that does not exist",
    NumberParseException.NOT_A_NUMBER: "this is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: TOO_SHORT,
    NumberParseException.TOO_SHORT_NSN: TOO_SHORT,
    NumberParseException.TOO_LONG: TOO_LONG,
}


def _why_invalid(number: PhoneNumber) -> str:
    country = f"{phonenumbers.region_code_for_country_code(number.country_code)} (+{number.country_code})"
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == ValidationResult.TOO_SHORT:
        return TOO_SHORT
    if reason == ValidationResult.TOO_LONG:
        return TOO_LONG
    if reason == ValidationResult.INVALID_COUNTRY_CODE:
        return f"+{number.country_code} is not a country code"
    if reason == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        return "the number has no area code"
    if reason == ValidationResult.INVALID_LENGTH:
        return f"the number has the wrong number of digits for {country}"
    return f"not a valid number for {country}"


class _Rules(NamedTuple):
    """The parts of a region's numbering plan that the fast path needs, compiled once."""

    country_code: int
    country_code_digits: str
    international_prefix: re.Pattern[str] | None
    national_prefix: re.Pattern[str] | None
    national_prefix_is_plain: bool  # no carrier code captured, no rewrite rule


def _split_country_code(digits: str) -> tuple[int | None, str]:
    # Country codes are prefix-free and one to three digits long.
    if digits[:1] != "0":
        for length in (1, 2, 3):
            code = int(digits[:length])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                return code, digits[length:]
    return None, digits


# Bounded by the ~250 regions and calling codes that exist.
@lru_cache(maxsize=512)
def _rules_for_region(region: str) -> _Rules:
    return _compile_rules(PhoneMetadata.metadata_for_region(region))


@lru_cache(maxsize=512)
def _rules_for_country_code(country_code: int) -> _Rules:
    main_region = phonenumbers.region_code_for_country_code(country_code)
    return _compile_rules(PhoneMetadata.metadata_for_region_or_calling_code(country_code, main_region))


def _compile_rules(metadata: PhoneMetadata) -> _Rules:
    national_prefix = re.compile(metadata.national_prefix_for_parsing) if metadata.national_prefix_for_parsing else None
    international_prefix = re.compile(metadata.international_prefix) if metadata.international_prefix else None
    return _Rules(
        country_code=metadata.country_code,
        country_code_digits=str(metadata.country_code),
        international_prefix=international_prefix,
        national_prefix=national_prefix,
        national_prefix_is_plain=(
            national_prefix is not None and national_prefix.groups == 0 and not metadata.national_prefix_transform_rule
        ),
    )
