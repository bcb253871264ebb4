"""Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30 s) with replay protection.

The caller stores the step returned by :func:`verify_code` as the user's ``last_used_step`` and passes it
back on the next attempt, so a code can be used once only (ASVS 6.5.1).
"""

from __future__ import annotations

import hmac
import re
import time
from datetime import datetime

import pyotp
import segno

INTERVAL = 30
DIGITS = 6
#: Steps accepted either side of the current one, for clock drift and typing time.
WINDOW = 1
SECRET_LENGTH = 32  # base32 characters = 160 bits
DEFAULT_QR_TITLE = "QR code for setting up two-factor authentication"

_CODE_RE = re.compile(rf"[0-9]{{{DIGITS}}}")
_WHITESPACE_RE = re.compile(r"\s+")


def new_secret() -> str:
    """Return a new random base32 secret of 160 bits (from ``secrets``)."""
    return pyotp.random_base32(length=SECRET_LENGTH)


def provisioning_uri(secret: str, *, account: str, issuer: str = "Senim") -> str:
    """Return the ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(name=account, issuer_name=issuer)


def time_step(at: datetime | None = None) -> int:
    """Return the 30-second step number at ``at`` (timezone-aware) or now."""
    if at is None:
        return int(time.time()) // INTERVAL
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be a timezone-aware datetime")
    return int(at.timestamp()) // INTERVAL


def normalize_code(code: str) -> str:
    """Remove the spaces people type or paste inside a code ("123 456")."""
    return _WHITESPACE_RE.sub("", code)


def verify_code(secret: str, code: str, *, last_used_step: int | None, at: datetime | None = None) -> int | None:
    """Return the time step ``code`` belongs to (±1 step), or None if wrong or not newer than ``last_used_step``."""
    if not isinstance(code, str) or len(code) > 64:
        return None
    code = normalize_code(code)
    if not _CODE_RE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    current = time_step(at)
    matched: int | None = None
    # Check every candidate step (no early exit) and keep the latest match.
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and (last_used_step is None or step > last_used_step):
            matched = step
    return matched


def qr_svg(uri: str, *, title: str = DEFAULT_QR_TITLE, scale: int = 4) -> str:
    """Return the QR code of ``uri`` as inline SVG (no XML declaration), titled, with role="img"."""
    # make_qr, not make: segno would pick a Micro QR for short data, which authenticator apps cannot read.
    svg = segno.make_qr(uri, error="m").svg_inline(scale=scale, border=4, title=title, svgclass="totp-qr")
    # segno escapes the title; the role makes screen readers announce it as one image.
    return svg.replace("<svg ", '<svg role="img" ', 1)
