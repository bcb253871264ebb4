"""Plans, follow-ups and the chronology in the browser: a safety plan written on a phone, printed for the pupil,
a follow-up recorded; and every page of this part passes axe on a phone and fits the screen, in kk, ru and en."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.models import User
from app.auth.roles import Role
from app.extensions import db
from tests.browser.checks import DESKTOP, FULL_LANGUAGE, PHONE, check_page
from tests.browser.pages import ASQ, LiveServer, _pupil, requires_chromium, sign_in

pytestmark = [pytest.mark.browser, requires_chromium]

NEGATIVE_ASQ = {"q1": 0, "q2": 0, "q3": 0, "q4": 0}


def _seed(live: LiveServer, username: str, pupil_uuid: str) -> str:
    """A case with a safety plan, a support action, a follow-up and a contact with parents; its uuid."""
    from app.monitoring import followups, plans, services
    from app.monitoring.models import CaseOrigin, RiskLevel
    from app.monitoring.plan_models import ContactWay

    with live.app.app_context():
        owner = db.session.execute(select(User).where(User.username == username)).scalar_one()
        pupil = _pupil(pupil_uuid)
        case = services.open_case(actor=owner, pupil=pupil, origin=CaseOrigin.REQUEST, risk=RiskLevel.HIGH,
                                  reason="Өзі келді, үйдегі ұрыс туралы айтты.")
        plans.save_safety_plan(actor=owner, case=case, version=None, review_on=date(2027, 1, 10), content={
            "warning_signs": "Ешкіммен сөйлескім келмейді", "coping": "Музыка тыңдау\nИтпен серуендеу",
            "distraction": "Ауладағы достар", "people": "Анам", "professionals": "Мектеп психологы",
            "environment": "Ата-анасымен келісім жасалды"})
        plans.add_action(actor=owner, case=case, action="Апта сайын әңгіме", responsible="Сынып жетекшісі",
                         due_on=date(2026, 12, 20))
        followups.record_followup(actor=owner, pupil=pupil, case=case, done_on=date(2026, 11, 1),
                                  done="Әңгіме өтті", outcome="Тыныш", next_on=None)
        followups.record_parent_contact(actor=owner, case=case, contacted_on=date(2026, 11, 2),
                                        way=ContactWay.PHONE, summary="Анасы келісті")
        return case.uuid


def test_a_safety_plan_is_written_printed_and_followed_up(open_context: Callable[..., Any], live_server: LiveServer,
                                                         artifacts: Path) -> None:
    live = live_server
    pupil, name = live.fresh_pupil("10А")
    live.enter_result(pupil, ASQ, NEGATIVE_ASQ)  # touched: other tests leave this pupil alone
    account = live.create_account(Role.PSYCHOLOGIST, language="en")
    from app.monitoring import services
    from app.monitoring.models import CaseOrigin, RiskLevel

    with live.app.app_context():
        owner = db.session.execute(select(User).where(User.username == account.username)).scalar_one()
        case = services.open_case(actor=owner, pupil=_pupil(pupil), origin=CaseOrigin.MANUAL,
                                  risk=RiskLevel.HIGH, reason="Started today.").uuid
    page = open_context(**PHONE).new_page()
    sign_in(page, live, account)
    page.goto(f"/monitoring/cases/{case}")
    page.get_by_role("link", name="Safety plan").tap()
    expect(page.locator("#plan-professionals")).to_have_value(re.compile("150"))
    page.locator("#plan-warning_signs").fill("I stop answering my friends")
    page.locator("#plan-coping").fill("Music\nA walk with the dog")
    page.locator("#plan-people").fill("Mum")
    page.locator('form[action$="/safety-plan/save"] button[type=submit]').tap()
    expect(page.locator(".flashes")).to_contain_text("Safety plan saved.")
    problems = check_page(page, artifacts, "safety-plan-saved", "en")
    page.locator('a[href$="/safety-plan/print?lang=ru"]').tap()
    expect(page.locator("h1")).to_contain_text("Мой план безопасности")
    expect(page.locator("main")).to_contain_text("A walk with the dog")
    expect(page.locator("#plan-helplines")).to_contain_text("150")
    page.goto(f"/monitoring/cases/{case}/follow-ups")
    page.locator("#followup-done").fill("Talked after class")
    page.locator('form[action$="/follow-ups"] button[type=submit]').tap()
    expect(page.locator(".flashes")).to_contain_text("Follow-up recorded.")
    page.goto(f"/monitoring/pupils/{pupil}/chronology")
    expect(page.locator("main")).to_contain_text("Talked after class")
    expect(page.locator("main")).to_contain_text("Safety plan saved")
    assert name
    assert not problems, "axe:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", ("kk", "ru", "en"))
def test_plan_and_follow_up_pages(open_context: Callable[..., Any], live_server: LiveServer, artifacts: Path,
                                  language: str) -> None:
    live = live_server
    account = live.create_account(Role.PSYCHOLOGIST, language=language)
    pupil, _name = live.fresh_pupil("10А")
    live.enter_result(pupil, ASQ, NEGATIVE_ASQ)
    case = _seed(live, account.username, pupil)
    pages = [("safety-plan", f"/monitoring/cases/{case}/safety-plan"),
             ("safety-print", f"/monitoring/cases/{case}/safety-plan/print?lang={language}"),
             ("support-plan", f"/monitoring/cases/{case}/support-plan"),
             ("case-followups", f"/monitoring/cases/{case}/follow-ups"),
             ("followups", "/monitoring/follow-ups"),
             ("pupil-followups", f"/monitoring/pupils/{pupil}/follow-ups"),
             ("chronology", f"/monitoring/pupils/{pupil}/chronology")]
    phone = open_context(**PHONE).new_page()
    sign_in(phone, live, account)
    devices = [(phone, "phone")]
    if language == FULL_LANGUAGE:
        desktop = open_context(storage_state=phone.context.storage_state(), **DESKTOP).new_page()
        devices.append((desktop, "desktop"))
    problems: list[str] = []
    for name, path in pages:
        for page, device in devices:
            response = page.goto(path)
            assert response.status == 200, f"{path}: {response.status}"
            problems += check_page(page, artifacts, name, language, axe=device == "phone", device=device)
    assert not problems, "axe:\n" + "\n".join(problems)
