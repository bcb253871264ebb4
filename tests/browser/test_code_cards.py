"""Code cards and consent in the browser (issue 8 items 10 and 11).

The psychologist issues a code, prints with the page's button, reloads and switches language without losing the
card, goes back to the campaign, and replaces the code after a confirmation; the old code stops working. A pupil
whose parents withdrew consent sees a calm page with the helplines, in every language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from app.auth.roles import Role
from tests.browser.checks import DESKTOP, PHONE, check_page
from tests.browser.pages import LANGUAGES, LiveServer, requires_chromium, sign_in, switch_language

pytestmark = [pytest.mark.browser, requires_chromium]

CODE = re.compile(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}")


def _card_code(page: Any, pupil_name: str) -> str:
    card = page.locator(".code-card", has=page.locator(".code-card__name", has_text=pupil_name))
    expect(card).to_have_count(1)
    code = card.locator(".code-card__code").inner_text().strip()
    assert CODE.fullmatch(code), code
    return code


def _issue(page: Any, campaign_uuid: str, pupil_uuid: str) -> None:
    page.goto(f"/screening/campaigns/{campaign_uuid}")
    page.locator(f"#p-{pupil_uuid}").check()
    page.locator(f'main form[action$="/screening/campaigns/{campaign_uuid}/codes"] button[type=submit]').click()


def _enter_code(page: Any, code: str) -> None:
    page.goto("/s")
    page.locator("#code").fill(code)
    page.locator("main form button[type=submit]").tap()


def test_cards_print_survive_reload_and_language_and_codes_are_replaced_after_asking(
        open_context: Callable[..., Any], live_server: LiveServer, artifacts: Path) -> None:
    pupil_uuid, pupil_name = live_server.fresh_pupil("7А")
    live_server.record_consent(pupil_uuid)
    campaign_uuid = live_server.plan_campaign("Browser cards", ("7А",))
    staff = open_context(**DESKTOP).new_page()
    # Its own account: switching the language while signed in is saved on the user, and the demo
    # psychologist is shared with tests that expect English.
    sign_in(staff, live_server, live_server.create_account(Role.PSYCHOLOGIST), language="en")
    problems: list[str] = []

    _issue(staff, campaign_uuid, pupil_uuid)
    expect(staff).to_have_url(re.compile(r"/cards/[0-9a-f-]+$"))
    code = _card_code(staff, pupil_name)
    problems += check_page(staff, artifacts, "code-cards", "en", device="desktop")
    staff.evaluate("() => { window.print = () => { window.__printed = (window.__printed || 0) + 1; }; }")
    staff.locator("[data-print]").click()  # visible: print.js shows it
    assert staff.evaluate("window.__printed") == 1

    staff.reload()
    assert _card_code(staff, pupil_name) == code
    switch_language(staff, "ru")
    assert _card_code(staff, pupil_name) == code
    staff.locator(f'main a[href$="/screening/campaigns/{campaign_uuid}"]').first.click()
    expect(staff).to_have_url(re.compile(rf"/screening/campaigns/{campaign_uuid}$"))
    expect(staff.locator("main a[href*='/cards/']")).to_have_count(1)  # the way back to unprinted cards

    _issue(staff, campaign_uuid, pupil_uuid)  # issuing again asks first
    expect(staff.locator("h1")).to_have_text(live_server.text("Replace codes?", "ru"))
    expect(staff.locator("main")).to_contain_text(pupil_name)
    problems += check_page(staff, artifacts, "codes-confirm", "ru", device="desktop")
    staff.locator("main form button[type=submit]").click()
    new_code = _card_code(staff, pupil_name)
    assert new_code != code

    phone = open_context(**PHONE).new_page()
    _enter_code(phone, code)
    expect(phone).to_have_url(re.compile(r"/s$"))  # the old code no longer works
    expect(phone.locator(".field-error, .error-summary").first).to_be_visible()
    _enter_code(phone, new_code)
    expect(phone).to_have_url(re.compile(r"/s/language$"))
    assert not problems, "axe:\n" + "\n".join(problems)


def test_a_pupil_whose_consent_was_withdrawn_sees_a_calm_page(
        open_context: Callable[..., Any], live_server: LiveServer, artifacts: Path) -> None:
    from app.consent import services as consent
    from app.extensions import db
    from tests.browser.pages import _psychologist, _pupil

    pupil_uuid, _name = live_server.fresh_pupil("8Б")
    code = live_server.issue_code(pupil_uuid)
    with live_server.app.app_context():
        consent.withdraw_consent(actor=_psychologist(), pupil=_pupil(pupil_uuid))
        db.session.remove()
    phone = open_context(**PHONE).new_page()
    problems: list[str] = []
    for language in LANGUAGES:
        phone.goto("/s")
        switch_language(phone, language)
        _enter_code(phone, code)
        expect(phone).to_have_url(re.compile(r"/s/unavailable$"))
        expect(phone.locator("h1")).to_have_text(live_server.text("This questionnaire is not available now",
                                                                  language))
        for number in ("150", "111", "112"):
            expect(phone.locator(f'main a[href="tel:{number}"]').first).to_be_visible()
        problems += check_page(phone, artifacts, "pupil-unavailable", language)
    assert not problems, "axe:\n" + "\n".join(problems)
