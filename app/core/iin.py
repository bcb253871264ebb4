"""Kazakhstan individual identification number (IIN, ЖСН / ИИН): validation, parsing, demo generation.

Layout: ``YYMMDD`` birth date, one century-and-sex digit (1/2 = 1800s, 3/4 = 1900s, 5/6 = 2000s;
odd = male, even = female), four serial digits, one mod-11 check digit (see GLOSSARY.md).
Error messages never contain the IIN itself: it is personal data and must stay out of logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

Sex = Literal["male", "female"]

_IIN_RE = re.compile(r"[0-9]{12}")
_WEIGHTS_FIRST = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_WEIGHTS_SECOND = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_CENTURY_BASE = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


class InvalidIIN(ValueError):
    """The value is not a valid IIN; ``code`` says why: "format", "century", "date" or "checksum"."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class IinInfo:
    """What an IIN says about its holder."""

    birth_date: date
    sex: Sex


def check_digit(first_eleven: str) -> int | None:
    """Return the check digit for 11 leading digits, or None when no check digit exists."""
    digits = [int(c) for c in first_eleven]
    for weights in (_WEIGHTS_FIRST, _WEIGHTS_SECOND):
        result = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if result != 10:
            return result
    return None


def parse_iin(value: str) -> IinInfo:
    """Parse and fully validate an IIN (exactly 12 ASCII digits); raise InvalidIIN otherwise."""
    if not isinstance(value, str) or not _IIN_RE.fullmatch(value):
        raise InvalidIIN("format", "an IIN is exactly 12 digits")
    century_digit = int(value[6])
    if century_digit not in _CENTURY_BASE:
        raise InvalidIIN("century", "the 7th digit of an IIN must be 1-6")
    try:
        birth_date = date(_CENTURY_BASE[century_digit] + int(value[0:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        raise InvalidIIN("date", "the first six digits of an IIN are not a valid date") from None
    if check_digit(value[:11]) != int(value[11]):
        raise InvalidIIN("checksum", "the IIN check digit does not match")
    return IinInfo(birth_date=birth_date, sex="male" if century_digit % 2 else "female")


def is_valid_iin(value: object) -> bool:
    """True when ``value`` is a string holding a valid IIN; never raises."""
    if not isinstance(value, str):
        return False
    try:
        parse_iin(value)
    except InvalidIIN:
        return False
    return True


def make_iin(birth_date: date, sex: str, serial: int) -> str:
    """Build a valid IIN for demo data, moving to the next serial when one has no check digit."""
    if sex not in ("male", "female"):
        raise ValueError("sex must be 'male' or 'female'")
    if not 1800 <= birth_date.year <= 2099:
        raise ValueError("an IIN can only encode birth years 1800-2099")
    if not 0 <= serial <= 9999:
        raise ValueError("serial must be between 0 and 9999")
    century_digit = (birth_date.year // 100 - 18) * 2 + (1 if sex == "male" else 2)
    prefix = f"{birth_date:%y%m%d}{century_digit}"
    # About one serial in eleven has no check digit, so the loop ends within a few steps.
    for offset in range(10_000):
        first_eleven = f"{prefix}{(serial + offset) % 10_000:04d}"
        digit = check_digit(first_eleven)
        if digit is not None:
            return f"{first_eleven}{digit}"
    raise AssertionError("unreachable: some serial always has a check digit")  # pragma: no cover


def check_iin_matches(iin: str, birth_date: date, sex: str | None = None) -> bool:
    """True when ``iin`` is valid and encodes ``birth_date`` (and ``sex``, when given)."""
    try:
        info = parse_iin(iin)
    except InvalidIIN:
        return False
    return info.birth_date == birth_date and (sex is None or info.sex == sex)
