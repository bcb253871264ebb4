"""The guidance library on a 390 px phone: a psychologist writes a draft and sends it for review, another
psychologist of the school publishes it, and a parent finds it by search and reads it (axe on every page)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from app.auth.roles import Role
from tests.browser.checks import PHONE, check_page
from tests.browser.pages import LiveServer, requires_chromium, sign_in

pytestmark = [pytest.mark.browser, requires_chromium]

TITLE = "Sleep before exams (browser test)"


def test_write_review_publish_and_find(open_context: Callable[..., Any], live_server: LiveServer,
                                       artifacts: Path) -> None:
    live = live_server
    writer = open_context(**PHONE).new_page()
    sign_in(writer, live, live.create_account(Role.PSYCHOLOGIST, language="en"))
    writer.goto("/guidance/manage")
    problems = check_page(writer, artifacts, "guidance-manage", "en")
    writer.get_by_role("link", name="New article").click()
    writer.get_by_label("Topic").select_option("exam-stress")
    writer.get_by_label("Parents", exact=True).check()
    writer.get_by_label("Title in English").fill(TITLE)
    writer.get_by_label("Summary in English").fill("Rest helps memory more than a night of revision.")
    writer.get_by_label("Text in English").fill("Keep **regular sleep** in exam weeks.\n\n- short breaks\n- meals")
    writer.get_by_label("Sources").fill("NHS. Help your child beat exam stress. | https://www.nhs.uk/")
    problems += check_page(writer, artifacts, "guidance-edit", "en")
    writer.get_by_role("button", name="Save draft").click()
    expect(writer.locator("main")).to_contain_text("Draft saved.")
    article_url = writer.url
    problems += check_page(writer, artifacts, "guidance-article-admin", "en")
    writer.get_by_role("button", name="Send for review").click()
    expect(writer.locator("main")).to_contain_text("Sent for review.")
    expect(writer.get_by_role("button", name="Publish")).to_have_count(0)  # not one's own text

    reviewer = open_context(**PHONE).new_page()
    sign_in(reviewer, live, live.create_account(Role.PSYCHOLOGIST, language="en"))
    reviewer.goto("/guidance/manage")
    reviewer.locator("main").get_by_role("link", name=TITLE).first.click()
    expect(reviewer).to_have_url(article_url)
    reviewer.get_by_role("button", name="Publish").click()
    expect(reviewer.locator("main")).to_contain_text("Published: readers now see this version.")
    reviewer.get_by_role("link", name="Version history").click()
    problems += check_page(reviewer, artifacts, "guidance-history", "en")

    uuid, _name = live.some_pupil()
    parent = open_context(**PHONE).new_page()
    sign_in(parent, live, live.create_account(Role.PARENT, language="en", children=(uuid,)))
    parent.goto("/guidance/parents")
    parent.get_by_label("Search the articles").fill("regular sleep")
    parent.get_by_role("button", name="Search").click()
    expect(parent).to_have_url(re.compile(r"/guidance/parents\?"))
    problems += check_page(parent, artifacts, "guidance-search", "en")
    parent.get_by_role("link", name=TITLE).click()
    expect(parent.locator("h1")).to_contain_text(TITLE)
    expect(parent.locator("main")).to_contain_text("Last reviewed:")
    expect(parent.get_by_role("button", name="Print")).to_be_visible()
    problems += check_page(parent, artifacts, "guidance-article", "en")

    pupil = open_context(**PHONE).new_page()
    sign_in(pupil, live, live.create_account(Role.PUPIL, language="kk"))
    pupil.goto("/guidance/pupils")
    expect(pupil.locator('main a[href="tel:150"]')).to_be_visible()
    problems += check_page(pupil, artifacts, "guidance-pupils", "kk")
    assert not problems, "axe:\n" + "\n".join(problems)
