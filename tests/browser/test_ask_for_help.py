"""A pupil on a phone, without an account, sends an anonymous request for help; it appears in the school
psychologist's inbox with the class and the message, and nothing that names the pupil."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.checks import PHONE, check_page
from tests.browser.pages import LiveServer, _demo_class, _demo_school, inbox_card, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium]


def test_an_anonymous_request_reaches_the_psychologists_inbox(open_context: Callable[..., Any],
                                                              live_server: LiveServer, artifacts: Path) -> None:
    live = live_server
    with live.app.app_context():
        school_id, class_id = _demo_school().id, _demo_class("7А").id
    message = "Мені сыныпта ренжітеді, көмектесіңізші #browser-help"
    pupil = open_context(**PHONE).new_page()
    pupil.goto("/help/ask")
    pupil.locator('select[name="school"]').select_option(str(school_id))
    pupil.locator("main form button[type=submit]").tap()
    expect(pupil).to_have_url(re.compile(rf"/help/ask\?school={school_id}"))
    pupil.locator('select[name="class_id"]').select_option(str(class_id))
    pupil.locator('textarea[name="message"]').fill(message)
    problems = check_page(pupil, artifacts, "help-ask-filled", "en")
    pupil.locator("main form button[type=submit]").tap()
    expect(pupil).to_have_url(re.compile(r"/help/sent"))
    expect(pupil.locator('main a[href="tel:150"]')).to_be_visible()
    expect(pupil.locator('main a[href="tel:112"]')).to_be_visible()
    problems += check_page(pupil, artifacts, "help-sent", "en")

    card = inbox_card(open_context(**PHONE).new_page(), live, "#browser-help")
    expect(card).to_contain_text("Anonymous pupil")
    expect(card).to_contain_text("7А")
    expect(card).to_contain_text("Pupil request for help")
    expect(card.locator('form[action*="/monitoring/alerts/"]')).to_have_count(0)
    assert not problems, "axe:\n" + "\n".join(problems)
