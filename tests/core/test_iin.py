"""IIN validation, parsing and demo generation (GLOSSARY.md, security.md §7 C30)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.iin import IinInfo, InvalidIIN, check_iin_matches, is_valid_iin, make_iin, parse_iin


def reference_is_valid(value: object) -> bool:
    """An independent reading of the rules in GLOSSARY.md, written differently from app.core.iin."""
    if type(value) is not str or len(value) != 12 or any(c not in "0123456789" for c in value):
        return False
    d = [int(c) for c in value]
    century = {1: "18", 2: "18", 3: "19", 4: "19", 5: "20", 6: "20"}.get(d[6])
    if century is None:
        return False
    try:
        datetime.strptime(century + value[:6], "%Y%m%d")
    except ValueError:
        return False
    check = sum((i + 1) * d[i] for i in range(11)) % 11
    if check == 10:
        check = sum(((i + 2) % 11 + 1) * d[i] for i in range(11)) % 11  # weights 3..11, 1, 2
        if check == 10:
            return False
    return check == d[11]


def digits_in(text: str, zero: int) -> str:
    """The same digits in another Unicode script (``zero`` = code point of that script's 0)."""
    return "".join(chr(zero + int(c)) for c in text)


VALID = [
    ("100517601237", date(2010, 5, 17), "female"),
    ("091103545676", date(2009, 11, 3), "male"),
    ("851231400011", date(1985, 12, 31), "female"),
    ("000229500424", date(2000, 2, 29), "male"),
    ("990701199993", date(1899, 7, 1), "male"),
]


@pytest.mark.parametrize(("iin", "birth_date", "sex"), VALID)
def test_valid_examples(iin: str, birth_date: date, sex: str) -> None:
    assert reference_is_valid(iin)
    assert is_valid_iin(iin)
    assert parse_iin(iin) == IinInfo(birth_date=birth_date, sex=sex)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "format"),
        ("10051760123", "format"),  # 11 digits
        ("1005176012370", "format"),  # 13 digits
        ("10051760123a", "format"),
        (" 100517601237", "format"),
        ("100517601237\n", "format"),
        ("100517-601237", "format"),
        (digits_in("100517601237", 0xFF10), "format"),  # fullwidth digits
        (digits_in("100517601237", 0x0660), "format"),  # Arabic-Indic digits
        ("100517001237", "century"),
        ("100517701237", "century"),
        ("100517901237", "century"),
        ("101317601237", "date"),  # month 13
        ("100532601237", "date"),  # day 32
        ("100500601237", "date"),  # day 0
        ("000229300421", "date"),  # 1900 was not a leap year
        ("000229100421", "date"),  # nor was 1800
        ("100517601238", "checksum"),
        ("100517601230", "checksum"),
    ],
)
def test_invalid_examples(value: str, code: str) -> None:
    assert not is_valid_iin(value)
    with pytest.raises(InvalidIIN) as excinfo:
        parse_iin(value)
    assert excinfo.value.code == code
    assert isinstance(excinfo.value, ValueError)
    if value:
        assert value not in str(excinfo.value)  # the IIN is personal data: never in messages


def test_second_pass_weights_are_used() -> None:
    # 11 leading digits whose first pass gives 10, so the second pass picks the check digit.
    first_eleven = next(
        s
        for s in (f"1005176{n:04d}" for n in range(10_000))
        if sum((i + 1) * int(c) for i, c in enumerate(s)) % 11 == 10
        and sum(w * int(c) for w, c in zip((3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), s, strict=True)) % 11 != 10
    )
    digit = sum(w * int(c) for w, c in zip((3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), first_eleven, strict=True)) % 11
    assert is_valid_iin(first_eleven + str(digit))
    assert not is_valid_iin(first_eleven + str((digit + 1) % 10))


@pytest.mark.parametrize("value", [None, 100517601237, 1.0, b"100517601237", ["100517601237"], object()])
def test_non_strings_are_invalid(value: object) -> None:
    assert not is_valid_iin(value)
    with pytest.raises(InvalidIIN):
        parse_iin(value)  # type: ignore[arg-type]


@settings(database=None, max_examples=500)
@given(st.text(max_size=20))
def test_validator_never_raises_and_agrees_with_reference_on_any_text(value: str) -> None:
    assert is_valid_iin(value) == reference_is_valid(value)


@settings(database=None, max_examples=2000)
@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_validator_agrees_with_reference_on_twelve_digits(value: str) -> None:
    assert is_valid_iin(value) == reference_is_valid(value)


@settings(database=None)
@given(
    st.one_of(
        st.none(), st.integers(), st.floats(), st.binary(), st.lists(st.text()), st.dictionaries(st.text(), st.text())
    )
)
def test_validator_never_raises_on_any_object(value: object) -> None:
    assert is_valid_iin(value) is False


@settings(database=None, max_examples=500)
@given(
    birth_date=st.dates(min_value=date(1800, 1, 1), max_value=date(2099, 12, 31)),
    sex=st.sampled_from(["male", "female"]),
    serial=st.integers(min_value=0, max_value=9999),
)
def test_make_iin_round_trips(birth_date: date, sex: str, serial: int) -> None:
    iin = make_iin(birth_date, sex, serial)
    assert reference_is_valid(iin)
    assert parse_iin(iin) == IinInfo(birth_date=birth_date, sex=sex)  # type: ignore[arg-type]
    assert check_iin_matches(iin, birth_date, sex)


@settings(database=None, max_examples=300)
@given(
    birth_date=st.dates(min_value=date(1800, 1, 1), max_value=date(2099, 12, 31)),
    serial=st.integers(min_value=0, max_value=9999),
    position=st.integers(min_value=0, max_value=11),
    replacement=st.sampled_from("0123456789"),
)
def test_any_one_digit_change_agrees_with_reference(
    birth_date: date, serial: int, position: int, replacement: str
) -> None:
    iin = make_iin(birth_date, "female", serial)
    changed = iin[:position] + replacement + iin[position + 1 :]
    assert is_valid_iin(changed) == reference_is_valid(changed)


def test_make_iin_skips_serials_without_check_digit() -> None:
    # Serial 0011 on 2010-05-17 (female) gives 10 in both passes, so the next serial is used.
    assert not any(reference_is_valid(f"10051760011{d}") for d in range(10))
    assert make_iin(date(2010, 5, 17), "female", 11) == make_iin(date(2010, 5, 17), "female", 12)
    assert make_iin(date(2010, 5, 17), "female", 11)[7:11] == "0012"


@pytest.mark.parametrize(
    ("birth_date", "sex", "digit"),
    [
        (date(1850, 1, 1), "male", "1"),
        (date(1850, 1, 1), "female", "2"),
        (date(1999, 1, 1), "male", "3"),
        (date(1999, 1, 1), "female", "4"),
        (date(2012, 1, 1), "male", "5"),
        (date(2012, 1, 1), "female", "6"),
    ],
)
def test_make_iin_century_digit(birth_date: date, sex: str, digit: str) -> None:
    assert make_iin(birth_date, sex, 100)[6] == digit


@pytest.mark.parametrize(
    ("birth_date", "sex", "serial"),
    [
        (date(1799, 12, 31), "male", 1),
        (date(2100, 1, 1), "male", 1),
        (date(2010, 1, 1), "m", 1),
        (date(2010, 1, 1), "male", -1),
        (date(2010, 1, 1), "male", 10_000),
    ],
)
def test_make_iin_refuses_bad_input(birth_date: date, sex: str, serial: int) -> None:
    with pytest.raises(ValueError):
        make_iin(birth_date, sex, serial)


@pytest.mark.parametrize(
    ("iin", "birth_date", "sex", "expected"),
    [
        ("100517601237", date(2010, 5, 17), None, True),
        ("100517601237", date(2010, 5, 17), "female", True),
        ("100517601237", date(2010, 5, 17), "male", False),
        ("100517601237", date(2010, 5, 18), None, False),  # DOB inconsistent with the IIN
        ("100517601237", date(1910, 5, 17), None, False),  # same YYMMDD, other century
        ("100517601238", date(2010, 5, 17), None, False),  # bad checksum
        ("", date(2010, 5, 17), None, False),
    ],
)
def test_check_iin_matches(iin: str, birth_date: date, sex: str | None, expected: bool) -> None:
    assert check_iin_matches(iin, birth_date, sex) is expected
