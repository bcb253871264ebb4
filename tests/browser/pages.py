"""What the browser tests share: the live server's handle, accounts, and signing in through the real pages."""

from __future__ import annotations

import itertools
import re
import shutil
import time
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.models import User
from app.auth.roles import Role
from app.auth.totp import INTERVAL
from app.core import demo
from app.core.models import Pupil, School
from app.extensions import db
from tests import factories

CHROMIUM = shutil.which("chromium")
requires_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (no `chromium` on PATH): browser tests skipped"
)
LANGUAGES = ("kk", "ru", "en")
_serial = itertools.count(1)


@dataclass(frozen=True)
class Account:
    """Someone who can sign in: the name the header shows, and a TOTP secret if they need one."""

    username: str
    password: str
    name: str
    totp_secret: str | None = None


@dataclass(frozen=True)
class LiveServer:
    """The app under test and where it listens."""

    app: Flask
    url: str

    def demo_account(self, username: str) -> Account:
        """A demo user (app.core.demo), with the name the page header shows."""
        with self.app.app_context():
            user = db.session.execute(select(User).where(User.username == username)).scalar_one()
            return Account(username, demo.DEMO_PASSWORD, user.display_name, demo.DEMO_TOTP.get(username))

    def create_account(self, role: Role, *, language: str | None = None) -> Account:
        """A new staff user of the demo school (a fresh user: its TOTP codes are all unused)."""
        with self.app.app_context():
            school = db.session.execute(select(School).where(School.kundelik_id == "demo-school-1")).scalar_one()
            user = factories.make_user(role, username=f"browser-{role.value}-{next(_serial)}", school=school)
            user.full_name = f"Браузер Тестов {user.username}"
            user.preferred_language = language
            account = Account(user.username, factories.PASSWORD, user.full_name, user.totp_secret)
            db.session.commit()
            return account

    def some_pupil(self) -> tuple[str, str]:
        """(uuid, full name) of a pupil of the demo school."""
        with self.app.app_context():
            pupil = db.session.execute(select(Pupil).order_by(Pupil.id)).scalars().first()
            assert pupil is not None
            return pupil.uuid, pupil.full_name

    def totp_code(self, account: Account) -> str:
        """A code the server accepts now: the oldest unused step of its ±1 window.

        A code is accepted once only, so a user can sign in three times within one 30 s step; a fourth
        sign-in waits for the next step (the tests spread a user's sign-ins so that this is rare).
        """
        assert account.totp_secret
        with self.app.app_context():
            last = db.session.execute(
                select(User.totp_last_step).where(User.username == account.username)
            ).scalar_one()
        while True:
            now, elapsed = divmod(time.time(), INTERVAL)
            # The previous step's code expires when the clock moves on: skip it near a step's end.
            candidates = (now, now + 1) if elapsed > INTERVAL - 5 else (now - 1, now, now + 1)
            usable = [int(step) for step in candidates if last is None or step > last]
            if usable:
                return pyotp.TOTP(account.totp_secret, interval=INTERVAL).at(usable[0] * INTERVAL)
            time.sleep(INTERVAL - elapsed + 0.1)


def switch_language(page: Any, language: str) -> None:
    """Use the header's language switcher; the page comes back in ``language``."""
    page.locator(f'form.lang-switch button[value="{language}"]').click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def sign_in(page: Any, live: LiveServer, account: Account, *, language: str | None = None) -> None:
    """Sign in through the real login page (and the second-factor page) and land on the home page."""
    page.goto("/login")
    if language:
        switch_language(page, language)
    page.locator("#username").fill(account.username)
    page.locator("#password").fill(account.password)
    page.locator("main form button[type=submit]").click()
    if account.totp_secret:
        expect(page).to_have_url(re.compile(r"/mfa"))
        page.locator("#code").fill(live.totp_code(account))
        page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text(account.name)
