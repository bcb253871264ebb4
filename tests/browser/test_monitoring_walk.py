"""The whole monitoring walk in the browser, on a phone, in English: a pupil's acute ASQ raises an alert; the
psychologist opens a case from it, writes and saves the safety plan, records a referral, records a follow-up and
takes the case through active monitoring and review to closed; the case shows closed and the alert is resolved
into it. Every page on the way passes axe and fits a 390 px screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.roles import Role
from app.extensions import db
from tests.browser.checks import PHONE, check_page
from tests.browser.pages import ASQ, LiveServer, _pupil, requires_chromium, sign_in

pytestmark = [pytest.mark.browser, requires_chromium]

ACUTE_ASQ = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}


def _open_alert(live: LiveServer, pupil_uuid: str) -> str:
    from app.screening.models import Alert, pupil_ref

    with live.app.app_context():
        pupil = _pupil(pupil_uuid)
        return db.session.execute(select(Alert.uuid).where(Alert.pupil_ref == pupil_ref(pupil.id),
                                                           Alert.resolved_at.is_(None))).scalar_one()


def _alert_state(live: LiveServer, alert_uuid: str) -> tuple[bool, str]:
    """(resolved?, its resolution note, which names the case it continues in)."""
    from app.screening.models import Alert

    with live.app.app_context():
        alert = db.session.execute(select(Alert).where(Alert.uuid == alert_uuid)).scalar_one()
        return alert.resolved_at is not None, str(alert.resolution_note)


def test_alert_case_plan_referral_follow_up_close(open_context: Callable[..., Any], live_server: LiveServer,
                                                  artifacts: Path) -> None:
    live = live_server
    pupil, name = live.fresh_pupil("10А")
    live.enter_result(pupil, ASQ, ACUTE_ASQ, language="kk")
    alert = _open_alert(live, pupil)
    account = live.create_account(Role.PSYCHOLOGIST, language="en")
    page = open_context(**PHONE).new_page()
    sign_in(page, live, account)

    # The alert inbox → "Open a case".
    page.goto("/screening/alerts")
    problems = check_page(page, artifacts, "walk-inbox", "en")
    page.locator(f'form[action="/monitoring/alerts/{alert}/case"] button').tap()
    expect(page).to_have_url(re.compile(r"/monitoring/cases/[^/]+$"))
    case_url = page.url
    case = case_url.rsplit("/", 1)[1]
    expect(page.locator(".flashes")).to_contain_text("Case opened from the alert.")
    expect(page.locator("h1")).to_contain_text(name.split()[0])
    expect(page.locator("main")).to_contain_text("Acute risk")
    problems += check_page(page, artifacts, "walk-case", "en")

    # The safety plan.
    page.get_by_role("link", name="Safety plan").tap()
    expect(page).to_have_url(re.compile(r"/safety-plan$"))
    page.locator("#plan-warning_signs").fill("I stop answering my friends")
    page.locator("#plan-coping").fill("Music\nA walk with the dog")
    page.locator("#plan-people").fill("Mum, my aunt")
    page.locator("#plan-environment").fill("Medicines locked away at home")
    page.locator('form[action$="/safety-plan/save"] button[type=submit]').tap()
    expect(page.locator(".flashes")).to_contain_text("Safety plan saved.")
    expect(page.locator("#plan-coping")).to_have_value(re.compile("A walk with the dog"))
    problems += check_page(page, artifacts, "walk-safety-plan", "en")

    # A referral from the case page.
    page.goto(case_url)
    page.locator('input[name="referral-destination"][value="specialist"]').check()
    page.locator("#referral-reason").fill("Acute ASQ; needs a child psychiatrist's assessment.")
    page.locator("#referral-sent_on").fill("2026-11-02")
    page.locator("#referral-deadline").fill("2026-11-09")
    page.locator('form[action$="/referrals"] button[type=submit]').tap()
    expect(page.locator(".flashes")).to_contain_text("Referral recorded.")
    expect(page.locator("main")).to_contain_text("needs a child psychiatrist's assessment")
    problems += check_page(page, artifacts, "walk-referral", "en")

    # A follow-up done.
    page.goto(f"/monitoring/cases/{case}/follow-ups")
    page.locator("#followup-done").fill("Talked after class; she went to the specialist")
    page.locator('form[action$="/follow-ups"] button[type=submit]').tap()
    expect(page.locator(".flashes")).to_contain_text("Follow-up recorded.")
    expect(page.locator("main")).to_contain_text("she went to the specialist")
    problems += check_page(page, artifacts, "walk-follow-up", "en")

    # The status workflow to closed, each change with its reason.
    page.goto(case_url)
    for status, reason in (("active", "Weekly conversations."), ("review", "A month without incidents."),
                           ("closed", "Stable; seen by the specialist, the family is supported.")):
        page.locator("#status-status").select_option(status)
        page.locator("#status-reason").fill(reason)
        page.locator('form[action$="/status"] button[type=submit]').tap()
        expect(page.locator(".flashes")).to_contain_text("Status changed.")
    expect(page.locator(".summary-list").first).to_contain_text("Closed")
    expect(page.locator("#case-history")).to_contain_text("Stable; seen by the specialist, the family is supported.")
    problems += check_page(page, artifacts, "walk-closed", "en")

    # The alert is resolved into the case and no longer offers a case of its own.
    assert _alert_state(live, alert) == (True, f"Continued in monitoring case {case}")
    page.goto("/screening/alerts")
    expect(page.locator(f'form[action="/monitoring/alerts/{alert}/case"]')).to_have_count(0)
    assert not problems, "axe:\n" + "\n".join(problems)
