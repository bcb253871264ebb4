"""What the browser tests share: the live server's handle, accounts, and signing in through the real pages."""

from __future__ import annotations

import itertools
import re
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.models import User
from app.auth.roles import Role
from app.auth.totp import INTERVAL
from app.core import demo
from app.core.models import Pupil, School, SchoolClass, utcnow
from app.extensions import db
from tests import factories

CHROMIUM = shutil.which("chromium")
requires_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (no `chromium` on PATH): browser tests skipped"
)
LANGUAGES = ("kk", "ru", "en")
ASQ = "asq@1.1"  # the current version (new campaigns use it)
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

    def create_account(self, role: Role, *, language: str | None = None, class_label: str | None = None,
                       children: tuple[str, ...] = ()) -> Account:
        """A new user of the demo school (a fresh user: its TOTP codes are all unused).

        An administrator is global; ``class_label`` makes a class teacher of that class; a parent gets
        the pupils whose uuids are ``children``.
        """
        with self.app.app_context():
            scope: dict[str, Any] = {"school": _demo_school()}
            if role is Role.ADMIN:
                scope = {}
            elif class_label:
                scope = {"school_class": _demo_class(class_label)}
            elif role is Role.PARENT:
                scope = {"children": tuple(_pupil(uuid) for uuid in children)}
            user = factories.make_user(role, username=f"browser-{role.value}-{next(_serial)}", **scope)
            user.full_name = f"Браузер Тестов {user.username}"
            user.preferred_language = language
            account = Account(user.username, factories.PASSWORD, user.full_name, user.totp_secret)
            db.session.commit()
            return account

    def set_temporary_password(self, username: str, password: str) -> None:
        """The demo administrator sets a temporary password: the user must replace it at the next sign-in."""
        from app.admin import accounts

        with self.app.app_context():
            admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
            user = db.session.execute(select(User).where(User.username == username)).scalar_one()
            accounts.reset_password(actor=admin, user=user, password=password)

    def some_pupil(self) -> tuple[str, str]:
        """(uuid, full name) of a pupil of the demo school."""
        with self.app.app_context():
            pupil = db.session.execute(select(Pupil).order_by(Pupil.id)).scalars().first()
            assert pupil is not None
            return pupil.uuid, pupil.full_name

    def fresh_pupil(self, class_label: str) -> tuple[str, str]:
        """(uuid, short name) of a pupil of the demo class whom no test has touched yet.

        Untouched: no consent record and no screening session or result (so each test of a worker, which
        shares one database, gets a pupil of its own); the short name is unique in the class, so a page that
        lists names only (the class teacher's flags) shows which row is theirs.
        """
        from app.consent.models import Consent
        from app.screening.models import ScreeningResult, ScreeningSession

        with self.app.app_context():
            school_class = _demo_class(class_label)
            touched = (select(Consent.pupil_id).union(select(ScreeningSession.pupil_id),
                                                      select(ScreeningResult.pupil_id)))
            pupils = db.session.execute(select(Pupil).where(Pupil.class_id == school_class.id)
                                        .order_by(Pupil.id)).scalars().all()
            names = Counter(p.short_name for p in pupils)
            used = set(db.session.execute(touched).scalars())
            for pupil in pupils:
                if pupil.id not in used and names[pupil.short_name] == 1:
                    return pupil.uuid, pupil.short_name
            # The demo class has run out (many tests share one worker's database): add a pupil to it.
            pupil = factories.make_pupil(school_class, last_name=f"Браузерова{next(_serial)}")
            db.session.commit()
            return pupil.uuid, pupil.short_name

    def class_id(self, label: str) -> int:
        """The id of a demo class ("7А")."""
        with self.app.app_context():
            return _demo_class(label).id

    def user_uuid(self, username: str) -> str:
        """The uuid of a user."""
        with self.app.app_context():
            return db.session.execute(select(User.uuid).where(User.username == username)).scalar_one()

    def record_consent(self, pupil_uuid: str) -> None:
        """A signed paper consent for the pupil, recorded by the demo psychologist (if none is on file)."""
        from app.consent import services as consent

        with self.app.app_context():
            pupil = _pupil(pupil_uuid)
            if not consent.has_valid_consent(pupil):
                consent.record_paper_consent(actor=_psychologist(), pupil=pupil, signed_on=consent.today_local())

    def plan_campaign(self, title: str, class_labels: tuple[str, ...], ref: str = ASQ) -> str:
        """The uuid of a new online campaign (ASQ unless ``ref`` says otherwise) of the demo classes, open from an
        hour ago for a week."""
        from app.screening import campaigns

        with self.app.app_context():
            now = utcnow()
            campaign = campaigns.create_campaign(
                actor=_psychologist(), school=_demo_school(), title=title, instrument_refs=[ref],
                classes=[_demo_class(label) for label in class_labels], opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=7), mode="online")
            return campaign.uuid

    def issue_code(self, pupil_uuid: str, ref: str = ASQ) -> str:
        """A fresh one-time code for the pupil (ASQ unless ``ref`` says otherwise; consent recorded, a campaign of
        the pupil's class opened)."""
        from app.screening import campaigns
        from app.screening.models import Campaign

        self.record_consent(pupil_uuid)
        with self.app.app_context():
            label = _pupil(pupil_uuid).school_class.label
        campaign_uuid = self.plan_campaign(f"Browser {label}", (label,), ref)
        with self.app.app_context():
            campaign = db.session.execute(select(Campaign).where(Campaign.uuid == campaign_uuid)).scalar_one()
            [(_who, _ref, code)] = campaigns.issue_codes(actor=_psychologist(), campaign=campaign,
                                                         pupils=[_pupil(pupil_uuid)]).codes
            return code

    def enter_result(self, pupil_uuid: str, ref: str, answers: dict[str, int], *, language: str = "ru") -> None:
        """A paper form's answers entered by the demo psychologist (consent recorded first)."""
        from app.screening import services

        self.record_consent(pupil_uuid)
        with self.app.app_context():
            services.submit_result(actor=_psychologist(), session=None, answers=answers, pupil=_pupil(pupil_uuid),
                                   instrument=services.instrument_for(ref), language=language)

    def acknowledge_alerts(self, pupil_uuid: str, *, resolve_note: str | None = None) -> None:
        """The demo psychologist acknowledges every alert of the pupil (and resolves them, given a note)."""
        from app.screening import alerts

        with self.app.app_context():
            for history in alerts.pupil_alerts(pupil=_pupil(pupil_uuid)):
                alerts.acknowledge(actor=_psychologist(), alert=history.alert)
                if resolve_note and history.alert.resolved_at is None:
                    alerts.resolve(actor=_psychologist(), alert=history.alert, note=resolve_note)

    def escalate_overdue(self, *, days_later: int = 3) -> None:
        """Escalate the unacknowledged alerts as the overdue check would ``days_later`` days from now."""
        from app.screening import alerts

        with self.app.app_context():
            alerts.escalate_overdue(utcnow() + timedelta(days=days_later))

    def text(self, message: str, language: str, **variables: Any) -> str:
        """``message`` as the app translates it into ``language``."""
        with self.app.test_request_context(), force_locale(language):
            return gettext(message, **variables)

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


def _demo_school() -> School:
    return db.session.execute(select(School).where(School.kundelik_id == demo.DEMO_SCHOOL_IDS[0])).scalar_one()


def _demo_class(label: str) -> SchoolClass:
    return next(c for c in _demo_school().classes if c.label == label)


def _pupil(uuid: str) -> Pupil:
    return db.session.execute(select(Pupil).where(Pupil.uuid == uuid)).scalar_one()


def _psychologist() -> User:
    return db.session.execute(select(User).where(User.username == "psychologist")).scalar_one()


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
