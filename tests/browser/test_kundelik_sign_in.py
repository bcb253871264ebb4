"""Sign in with Kundelik on a phone: Senim's sign-in page -> the local Kundelik's consent page -> back signed in;
and an unknown Kundelik person sees what to do. Each page passes axe and fits 390 px."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.models import User
from app.auth.roles import Role
from app.core.demo_people import DEMO_PASSWORD
from app.extensions import db
from kundelik_local import LocalKundelik, Running, running
from tests.browser.checks import PHONE, check_page
from tests.browser.pages import LiveServer, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium]

#: The local Kundelik's class teacher of 5А: not linked to any demo account, so each test links its own.
TEACHER5A_PERSON = "3000000000906"


@pytest.fixture
def kundelik(live_server: LiveServer) -> Iterator[Running]:
    local = LocalKundelik("senim-browser", "browser-client-secret-value",
                          (f"{live_server.url}/login/kundelik/callback",))
    with running(local) as server:
        saved = {key: live_server.app.config.get(key) for key in server.senim_config()}
        live_server.app.config.update(server.senim_config())
        try:
            yield server
        finally:
            live_server.app.config.update(saved)


def _consent(page: Any, login: str) -> None:
    expect(page.get_by_role("heading", name="Kundelik")).to_be_visible()
    page.get_by_label("Login / Логин").fill(login)
    page.get_by_label("Password / Пароль").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Allow / Разрешить").tap()


def test_a_teacher_signs_in_with_kundelik_on_a_phone(open_context: Callable[..., Any], live_server: LiveServer,
                                                    kundelik: Running, artifacts: Path) -> None:
    account = live_server.create_account(Role.CLASS_TEACHER, language="en", class_label="5А")
    with live_server.app.app_context():
        user = db.session.execute(select(User).where(User.username == account.username)).scalar_one()
        user.kundelik_person_id = TEACHER5A_PERSON
        db.session.commit()
    page = open_context(**PHONE, locale="en-US").new_page()
    page.goto("/login")
    problems = check_page(page, artifacts, "login-with-kundelik", "en")
    page.get_by_role("link", name="Sign in with Kundelik").tap()
    expect(page).to_have_url(re.compile(rf"^{kundelik.url}/oauth2\?"))
    _consent(page, "teacher5a")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".user-menu__name")).to_have_text(account.name)
    problems += check_page(page, artifacts, "home-after-kundelik", "en")
    with live_server.app.app_context():
        user = db.session.execute(select(User).where(User.username == account.username)).scalar_one()
        assert user.kundelik_user_id == "4000000000906"
        user.kundelik_person_id = user.kundelik_user_id = None  # the next run of this test links again
        db.session.commit()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_an_unknown_person_reads_what_to_do(open_context: Callable[..., Any], live_server: LiveServer,
                                            kundelik: Running, artifacts: Path, language: str) -> None:
    page = open_context(**PHONE, locale={"kk": "kk-KZ", "ru": "ru-RU", "en": "en-US"}[language]).new_page()
    page.goto("/login/kundelik")
    _consent(page, "parent-14")  # a mother in Kundelik whom no Senim account is linked to
    expect(page).to_have_url(re.compile(r"/login/kundelik/callback"))
    expect(page.locator(".kundelik-number")).to_have_text("3000000002014")
    problems = check_page(page, artifacts, "kundelik-unknown-person", language)
    assert not problems, "\n".join(problems)
