"""iCalendar (RFC 5545) files of one event: a seminar, an accepted meeting with a parent."""

from __future__ import annotations

from datetime import datetime

from app.core.models import utcnow


def text(value: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon, comma and newlines escaped; other control characters dropped."""
    value = "".join(ch for ch in value if ch == "\n" or (ord(ch) >= 0x20 and ord(ch) != 0x7F))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Lines of at most 75 octets, continued with CRLF and a space (never splitting a UTF-8 character)."""
    out: list[str] = []
    current = ""
    for ch in line:
        if len((current + ch).encode()) > (75 if not out else 74):
            out.append(current)
            current = ""
        current += ch
    out.append(current)
    return "\r\n ".join(out)


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def event(*, uid: str, product: str, starts_at: datetime, ends_at: datetime, summary: str, description: str,
          url: str, sequence: int, cancelled: bool = False, location: str | None = None,
          now: datetime | None = None) -> str:
    """One VEVENT in a VCALENDAR (times in UTC), lines folded and joined with CRLF."""
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//Senim//{product}//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
        "BEGIN:VEVENT", f"UID:{uid}@senim", f"DTSTAMP:{_utc(now or utcnow())}",
        f"DTSTART:{_utc(starts_at)}", f"DTEND:{_utc(ends_at)}",
        f"SUMMARY:{text(summary)}", f"DESCRIPTION:{text(description)}",
        f"URL:{text(url)}", f"SEQUENCE:{sequence}",
        "STATUS:CANCELLED" if cancelled else "STATUS:CONFIRMED",
    ]
    if location:
        lines.append(f"LOCATION:{text(location)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(fold(line) for line in lines) + "\r\n"
