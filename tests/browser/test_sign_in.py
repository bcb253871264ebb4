"""Signing in and out through the real pages: every demo role in every language, keyboard only, cookies."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from app.auth.roles import Role
from tests.browser.pages import LANGUAGES, LiveServer, requires_chromium, sign_in

pytestmark = [pytest.mark.browser, requires_chromium]

DEMO_USERS = ("admin", "director", "psychologist", "socped", "teacher7a", "teacher8b", "parent", "pupil",
              "district", "region")


# Languages vary slowest, so that a user's three sign-ins are spread out (see LiveServer.totp_code).
@pytest.mark.parametrize("username", DEMO_USERS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_demo_role_signs_in_in_each_language(page: Any, live_server: LiveServer, username: str,
                                                  language: str) -> None:
    account = live_server.demo_account(username)

    sign_in(page, live_server, account, language=language)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator(".user-menu__name")).to_have_text(account.name)


def _tab_to(page: Any, element_id: str, *, limit: int = 20) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    pytest.fail(f"#{element_id} cannot be reached with Tab")


@pytest.mark.parametrize("role", [Role.CLASS_TEACHER, Role.PSYCHOLOGIST])
def test_login_form_works_with_tab_and_enter_only(page: Any, live_server: LiveServer, role: Role) -> None:
    account = live_server.create_account(role)
    page.goto("/login")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')"), "the skip link comes first"
    _tab_to(page, "username")
    page.keyboard.type(account.username)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(account.password)
    page.keyboard.press("Enter")
    if account.totp_secret:
        expect(page).to_have_url(re.compile(r"/mfa"))
        expect(page.locator("#code")).to_be_focused()
        page.keyboard.type(live_server.totp_code(account))
        page.keyboard.press("Enter")

    expect(page.locator("h1")).to_contain_text(account.name)


def test_session_cookie_is_http_only(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, live_server.create_account(Role.CLASS_TEACHER))

    cookies = {c["name"]: c for c in page.context.cookies()}
    session_cookie = live_server.app.config["SESSION_COOKIE_NAME"]
    assert cookies[session_cookie]["httpOnly"] is True
    assert cookies[session_cookie]["sameSite"] == "Lax"
    assert session_cookie not in page.evaluate("document.cookie")


def test_after_logout_back_shows_the_login_page_and_storage_is_empty(page: Any, live_server: LiveServer) -> None:
    pupil_uuid, pupil_name = live_server.some_pupil()
    sign_in(page, live_server, live_server.create_account(Role.PSYCHOLOGIST))
    page.goto(f"/pupils/{pupil_uuid}")
    expect(page.locator("h1")).to_have_text(pupil_name)

    page.evaluate("localStorage.setItem('draft', 'left behind')")
    page.locator(".user-menu__logout button").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.go_back()

    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator("#password")).to_be_visible()
    assert pupil_name not in page.content()
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("sessionStorage.length") == 0
