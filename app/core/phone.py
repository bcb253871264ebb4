"""Phone numbers as Senim stores them: E.164 (``+7…`` for Kazakhstan), from what people type or files hold."""

from __future__ import annotations

import re


def normalise_phone(raw: str) -> str | None:
    """``+7XXXXXXXXXX`` for a Kazakh number written as 8…, 7…, +7… or 10 digits (spaces, dashes and brackets
    allowed; other characters are ignored, as a spreadsheet's leading apostrophe), ``+<8–15 digits>`` for another
    country's; None for an empty value; ValueError when the digits are not a phone number."""
    raw = (raw or "").strip()
    if not raw:
        return None
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+") and not digits.startswith("7") and 8 <= len(digits) <= 15:
        return "+" + digits
    if len(digits) == 11 and digits[0] in "78":
        digits = digits[1:]
    if len(digits) == 10 and digits[0] in "3456789":
        return "+7" + digits
    raise ValueError(raw)
