"""Locale choice: the user's setting, then the session's choice, then the browser, then the school."""

from __future__ import annotations

from datetime import UTC, date, datetime

import flask_babel
from babel import Locale, negotiate_locale
from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def _available() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def browser_language(header_languages: list[str], available: list[str]) -> str | None:
    """Babel's negotiation (``kk-KZ`` → ``kk``), unlike Werkzeug's best_match."""
    preferred = [lang.replace("_", "-") for lang in header_languages]
    choice = negotiate_locale(preferred, available, sep="-")
    if choice:
        return choice
    # "kk-KZ" negotiates against "kk" only through the language part.
    return negotiate_locale([p.split("-")[0] for p in preferred], available, sep="-")


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    available = _available()
    if current_user and current_user.is_authenticated and current_user.preferred_language in available:
        return current_user.preferred_language
    chosen = session.get("language")
    if chosen in available:
        return chosen
    header = [lang for lang, _q in request.accept_languages] if request else []
    from_browser = browser_language(header, available) if header else None
    if from_browser:
        return from_browser
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "kk")


def select_timezone() -> str:
    """Kazakhstan uses one time zone since March 2024 (UTC+5)."""
    return current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Almaty")


def language_choices() -> list[tuple[str, str]]:
    """(code, native name) of every interface language."""
    return [(code, LANGUAGE_NAMES.get(code) or Locale.parse(code).display_name or code) for code in _available()]


#: "short" dates in each language: the same full-year pattern in Kazakh and Russian (CLDR gives Kazakh a
#: two-digit year), and an unambiguous one in English.
SHORT_DATE = {"kk": "dd.MM.yyyy", "ru": "dd.MM.yyyy", "en": "d MMM yyyy"}

#: The same patterns for ``strftime`` where they have no word in them (no month name to translate): a date and
#: time of a list line costs a few microseconds this way instead of Babel's hundred (its pattern parser and time
#: zone lookup run per call), which a chronology of 50 lines or a caseload of 100 cards notices.
_STRFTIME = {"dd.MM.yyyy": "%d.%m.%Y", "dd.MM.yyyy HH:mm": "%d.%m.%Y %H:%M", "dd.MM.yyyy HH:mm:ss": "%d.%m.%Y %H:%M:%S"}


def _pattern(format: str | None, time: bool) -> str | None:
    if format not in (None, "short", "seconds"):
        return format
    language = str(get_locale() or "kk")
    pattern = SHORT_DATE.get(language, SHORT_DATE["ru"])
    if not time:
        return pattern
    return pattern + (" HH:mm:ss" if format == "seconds" else " HH:mm")


def format_short_date(value: date | datetime, format: str | None = None) -> str:
    """Jinja's ``dateformat``: "short" means :data:`SHORT_DATE` (others go to Flask-Babel as they are)."""
    pattern = _pattern(format, time=False)
    fast = _STRFTIME.get(pattern or "")
    if fast is not None:
        return (flask_babel.to_user_timezone(value) if isinstance(value, datetime) else value).strftime(fast)
    return flask_babel.format_date(value, pattern)


def format_short_datetime(value: datetime, format: str | None = None) -> str:
    """Jinja's ``datetimeformat``: "short" means :data:`SHORT_DATE` and the time (24-hour); "seconds" adds the
    seconds (the audit log)."""
    pattern = _pattern(format, time=True)
    fast = _STRFTIME.get(pattern or "")
    if fast is not None and isinstance(value, datetime):
        return flask_babel.to_user_timezone(value).strftime(fast)
    return flask_babel.format_datetime(value, pattern)


def ago(value: datetime, now: datetime | None = None) -> str:
    """How far ``value`` is from now, in words of the interface language: "26 minutes ago" ("26 минут назад",
    "26 минут бұрын") for a past moment, "in 10 minutes" for a coming one (a deadline)."""
    # Babel reads a positive timedelta as the future ("in 26 minutes"): the difference is taken from ``value``.
    return flask_babel.format_timedelta(value - (now or datetime.now(UTC)), add_direction=True)
