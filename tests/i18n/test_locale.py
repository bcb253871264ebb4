"""Locale choice (user setting, then session, then browser, then Kazakh) and the pages it renders."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import flask_babel
import pytest
from babel.support import Translations
from flask_babel import ngettext
from markupsafe import escape

from app.core.i18n import _pattern, browser_language, format_short_date, format_short_datetime
from app.extensions import db
from tests.factories import login, post
from tests.i18n.catalogues import TRANSLATIONS, entries, load_catalog

AVAILABLE = ["kk", "ru", "en"]
SIGN_IN_TITLE = "Sign in to Senim"


def translated(language: str, msgid: str) -> str:
    """``msgid`` as the compiled catalogue of ``language`` renders it."""
    return Translations.load(str(TRANSLATIONS), [language]).gettext(msgid)


def page_language(body: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', body)
    assert match, "no <html lang> on the page"
    return match.group(1)


@pytest.mark.parametrize(("header", "expected"), [
    (["kk-KZ", "ru"], "kk"),  # Werkzeug's best_match would pick ru here
    (["ru-RU", "en"], "ru"),
    (["ru_RU"], "ru"),
    (["en-US", "en"], "en"),
    (["de-DE", "ru"], "ru"),
    (["de-DE", "fr"], None),
])
def test_browser_language_negotiation(header, expected):
    assert browser_language(header, AVAILABLE) == expected


def test_kazakh_and_russian_catalogues_are_compiled():
    for language in ("kk", "ru"):
        assert translated(language, SIGN_IN_TITLE) != SIGN_IN_TITLE, f"{language}: no compiled catalogue"


@pytest.mark.parametrize(("accept_language", "language"), [
    ("kk-KZ,ru;q=0.8", "kk"),
    ("ru-RU,ru;q=0.9,en;q=0.5", "ru"),
    ("en-US,en;q=0.9", "en"),
    ("de-DE", "kk"),  # nothing matches: the default
    (None, "kk"),
])
def test_login_page_follows_the_browser(client, accept_language, language):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    body = client.get("/login", headers=headers).get_data(as_text=True)
    assert page_language(body) == language
    assert str(escape(translated(language, SIGN_IN_TITLE))) in body
    assert str(escape(translated(language, "Forgot your password? Ask your school administrator to reset it."))) in body


def test_language_switch_beats_the_browser(client):
    response = post(client, "/language", {"language": "ru", "next": "/login"}, form_page="/login")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    body = client.get("/login", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert page_language(body) == "ru"
    assert translated("ru", SIGN_IN_TITLE) in body


def test_language_switch_refuses_an_unknown_language(client):
    response = post(client, "/language", {"language": "de"}, form_page="/login")
    assert response.status_code == 400
    assert page_language(client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)) == "en"


def test_user_setting_beats_session_and_browser(client, world):
    world.t7a.preferred_language = "en"
    db.session.commit()
    post(client, "/language", {"language": "kk", "next": "/login"}, form_page="/login")  # the session says kk
    assert login(client, world.t7a).status_code == 302
    body = client.get("/", headers={"Accept-Language": "ru-RU"}).get_data(as_text=True)
    assert page_language(body) == "en"
    assert "Home" in body


def test_signed_in_switch_is_saved_on_the_account(client, world):
    assert login(client, world.t7a).status_code == 302
    response = post(client, "/language", {"language": "ru", "next": "/"}, form_page="/")
    assert response.status_code == 302
    db.session.expire_all()
    assert world.t7a.preferred_language == "ru"
    body = client.get("/", headers={"Accept-Language": "kk-KZ"}).get_data(as_text=True)
    assert page_language(body) == "ru"
    assert str(escape(translated("ru", "Home"))) in body


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_plural_forms_render_through_flask_babel(app, language):
    catalog = load_catalog(language)
    plural = Translations.load(str(TRANSLATIONS), [language]).plural
    message = next(m for m in entries(catalog) if m.pluralizable and "%(num)d" in m.id[1])
    for number in (1, 2, 5, 21):
        with app.test_request_context(headers={"Accept-Language": language}):
            expected = message.string[plural(number)] % {"num": number}
            assert ngettext(message.id[0], message.id[1], number) == expected


@pytest.mark.parametrize("language", AVAILABLE)
@pytest.mark.parametrize("value", [datetime(2026, 3, 4, 19, 6, 7, tzinfo=UTC), datetime(2026, 12, 31, 22, 59),
                                   datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC)])
def test_short_dates_read_as_babel_writes_them(app, language, value):
    """The strftime shortcut of the short patterns gives Babel's text: same day, local time (UTC+5, so the last
    evening of a year is the next year's morning), naive values read as UTC."""
    with app.test_request_context(headers={"Accept-Language": language}):
        for format in ("short", "seconds", None):
            pattern = _pattern(format, time=True)
            assert format_short_datetime(value, format) == flask_babel.format_datetime(value, pattern)
        assert format_short_date(value, "short") == flask_babel.format_date(value, _pattern("short", time=False))
        assert format_short_date(value.date(), "short") == flask_babel.format_date(value.date(),
                                                                                   _pattern("short", time=False))
