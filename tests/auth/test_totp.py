"""TOTP secrets, codes with replay protection, and the enrolment QR code (security.md §1.1, §7 B21)."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.auth.totp import new_secret, provisioning_uri, qr_svg, time_step, verify_code

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#: A moment in the middle of a 30-second step, so ±1 step is unambiguous.
NOW = datetime(2025, 3, 1, 9, 0, 15, tzinfo=UTC)
STEP = int(NOW.timestamp()) // 30


def code_at(step: int, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def test_new_secret_is_160_bit_base32() -> None:
    secret = new_secret()
    assert len(secret) == 32
    assert len(base64.b32decode(secret)) == 20
    assert new_secret() != secret


def test_rfc6238_vector() -> None:
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); we use the last 6.
    secret = base64.b32encode(b"12345678901234567890").decode()
    at = datetime.fromtimestamp(59, tz=UTC)
    assert verify_code(secret, "287082", last_used_step=None, at=at) == 1


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_codes_within_one_step_are_accepted(offset: int) -> None:
    assert verify_code(SECRET, code_at(STEP + offset), last_used_step=None, at=NOW) == STEP + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_outside_the_window_are_rejected(offset: int) -> None:
    code = code_at(STEP + offset)
    if code in {code_at(STEP - 1), code_at(STEP), code_at(STEP + 1)}:
        pytest.skip("coincidental code collision")
    assert verify_code(SECRET, code, last_used_step=None, at=NOW) is None


def test_replay_is_rejected() -> None:
    code = code_at(STEP)
    used = verify_code(SECRET, code, last_used_step=None, at=NOW)
    assert used == STEP
    assert verify_code(SECRET, code, last_used_step=used, at=NOW) is None
    assert verify_code(SECRET, code, last_used_step=used, at=NOW + timedelta(seconds=20)) is None


def test_older_code_after_newer_one_is_rejected() -> None:
    assert verify_code(SECRET, code_at(STEP - 1), last_used_step=STEP, at=NOW) is None
    assert verify_code(SECRET, code_at(STEP + 1), last_used_step=STEP, at=NOW) == STEP + 1


@pytest.mark.parametrize(
    "typed",
    [lambda c: f" {c} ", lambda c: f"{c[:3]} {c[3:]}", lambda c: f"{c[:3]}\u00a0{c[3:]}", lambda c: f"{c}\n"],
)
def test_spaces_are_ignored(typed: object) -> None:
    assert verify_code(SECRET, typed(code_at(STEP)), last_used_step=None, at=NOW) == STEP  # type: ignore[operator]


@pytest.mark.parametrize(
    "code",
    [
        "",
        "12345",
        "1234567",
        "abcdef",
        "12-345",
        "\uff11\uff12\uff13\uff14\uff15\uff16",
        "\u0663\u0664\u0665\u0666\u0667\u0668",
        "1" * 1000,
        None,
        123456,
    ],
)
def test_malformed_codes_are_rejected(code: object) -> None:
    assert verify_code(SECRET, code, last_used_step=None, at=NOW) is None  # type: ignore[arg-type]


def test_wrong_secret_is_rejected() -> None:
    other = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
    code = code_at(STEP, other)
    if code not in {code_at(s) for s in (STEP - 1, STEP, STEP + 1)}:
        assert verify_code(SECRET, code, last_used_step=None, at=NOW) is None


def test_time_zone_of_at_does_not_matter() -> None:
    almaty = NOW.astimezone(timezone(timedelta(hours=5)))
    assert verify_code(SECRET, code_at(STEP), last_used_step=None, at=almaty) == STEP


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        time_step(datetime(2025, 3, 1, 9, 0, 15))


def test_current_time_is_used_by_default() -> None:
    code = pyotp.TOTP(SECRET).now()
    assert verify_code(SECRET, code, last_used_step=None) is not None


@settings(database=None, max_examples=200)
@given(code=st.text(max_size=12))
def test_verify_never_raises_on_any_text(code: str) -> None:
    result = verify_code(SECRET, code, last_used_step=None, at=NOW)
    assert result is None or result in {STEP - 1, STEP, STEP + 1}


def test_provisioning_uri() -> None:
    uri = provisioning_uri(SECRET, account="aigerim@school7.kz")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert "Senim" in parts.path and "aigerim" in parts.path
    query = parse_qs(parts.query)
    assert query["secret"] == [SECRET]
    assert query["issuer"] == ["Senim"]
    assert pyotp.parse_uri(uri).secret == SECRET


def test_provisioning_uri_custom_issuer() -> None:
    uri = provisioning_uri(SECRET, account="a", issuer="Senim Test")
    assert parse_qs(urlsplit(uri).query)["issuer"] == ["Senim Test"]


def test_qr_svg_is_inline_and_titled() -> None:
    svg = qr_svg(provisioning_uri(SECRET, account="aigerim@school7.kz"))
    assert svg.startswith("<svg ")
    assert "<?xml" not in svg
    assert 'role="img"' in svg
    assert re.search(r"<title>[^<]+</title>", svg)
    assert svg.rstrip().endswith("</svg>")
    assert SECRET not in svg  # the secret is only in the QR modules, not in readable text


def test_qr_svg_escapes_the_title() -> None:
    svg = qr_svg("otpauth://totp/x?secret=AAAA", title='QR <script>alert("x")</script> & co')
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
