"""Monitoring in the browser: an alert becomes a case in one click and the case is worked to its end (risk with a
reason, a note, a team member, active → review → closed); and every monitoring page passes axe on a phone and fits
the screen, in kk, ru and en.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.models import User
from app.auth.roles import Role
from app.extensions import db
from tests.browser.checks import DESKTOP, FULL_LANGUAGE, PHONE, check_page
from tests.browser.pages import ASQ, LANGUAGES, LiveServer, _pupil, requires_chromium, sign_in

pytestmark = [pytest.mark.browser, requires_chromium]

ACUTE_ASQ = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}
NEGATIVE_ASQ = {"q1": 0, "q2": 0, "q3": 0, "q4": 0}


def _alert_of(live: LiveServer, pupil_uuid: str) -> str:
    from app.screening.models import Alert, pupil_ref

    with live.app.app_context():
        pupil = _pupil(pupil_uuid)
        return db.session.execute(select(Alert.uuid).where(Alert.pupil_ref == pupil_ref(pupil.id),
                                                           Alert.resolved_at.is_(None))).scalar_one()


def _seed_case(live: LiveServer, username: str, pupil_uuid: str) -> tuple[str, str]:
    """A case of the pupil owned by ``username``, with a note, and a registration: (case uuid, entry uuid)."""
    from datetime import date

    from app.monitoring import registry, services
    from app.monitoring.models import CaseOrigin, RegistryDetails, RiskLevel

    with live.app.app_context():
        owner = db.session.execute(select(User).where(User.username == username)).scalar_one()
        pupil = _pupil(pupil_uuid)
        case = services.open_case(actor=owner, pupil=pupil, origin=CaseOrigin.REQUEST, risk=RiskLevel.HIGH,
                                  reason="Пришла сама, рассказала о ссорах дома. Өзі келді.")
        services.add_note(actor=owner, case=case, body="Беседа с мамой назначена на пятницу.")
        entry = registry.add_entry(actor=owner, pupil=pupil, details=RegistryDetails(
            kind="school", basis_document="Профилактика кеңесінің хаттамасы", basis_number="4",
            basis_date=date(2026, 9, 20), reason_category="truancy", reason_text="Сабаққа жүйелі түрде келмейді"),
            started_on=date(2026, 9, 21), next_review_on=date(2026, 10, 21))
        return case.uuid, entry.uuid


def _seed_glass_and_file(live: LiveServer, case_uuid: str) -> None:
    """An emergency access of the social pedagogue waiting for review, and a PDF on the case's note."""
    from datetime import timedelta

    from app.core.models import utcnow
    from app.monitoring import attachments
    from app.monitoring.models import CaseAccessGrant, MonitoringCase

    with live.app.app_context():
        case = db.session.execute(select(MonitoringCase).where(MonitoringCase.uuid == case_uuid)).scalar_one()
        socped = db.session.execute(select(User).where(User.username == "socped")).scalar_one()
        now = utcnow()
        grant = CaseAccessGrant(school_id=case.school_id, case_id=case.id, user_id=socped.id,
                                starts_at=now - timedelta(hours=5), expires_at=now - timedelta(hours=1))
        grant.reason = "Оқушы сабақтан кейін үйге бармай, хабарсыз кетті; анасы іздеп жатыр."
        db.session.add(grant)
        db.session.commit()
        attachments.add_attachment(actor=case.owner, case=case, note=case.notes[0],
                                   filename="Емхана хаты — справка.pdf", data=b"%PDF-1.4\n%%EOF\n")


def test_an_alert_becomes_a_case_that_is_worked_to_its_end(open_context: Callable[..., Any],
                                                              live_server: LiveServer, artifacts: Path) -> None:
    live = live_server
    pupil, name = live.fresh_pupil("7А")
    live.enter_result(pupil, ASQ, ACUTE_ASQ, language="kk")
    alert = _alert_of(live, pupil)
    account = live.create_account(Role.PSYCHOLOGIST, language="en")
    page = open_context(**PHONE).new_page()
    sign_in(page, live, account)

    page.goto("/screening/alerts")
    page.locator(f'form[action="/monitoring/alerts/{alert}/case"] button').tap()
    expect(page).to_have_url(re.compile(r"/monitoring/cases/"))
    expect(page.locator(".flashes")).to_contain_text("Case opened from the alert.")
    expect(page.locator("main")).to_contain_text("Acute risk")
    expect(page.locator("h1")).to_contain_text(name.split()[0])
    problems = check_page(page, artifacts, "case", "en")

    page.locator('input[name="risk-risk"][value="high"]').check()
    page.locator("#risk-reason").fill("Safety plan agreed with the pupil and her mother.")
    page.locator('form[action$="/risk"] button[type=submit]').tap()
    expect(page.locator(".flashes")).to_contain_text("Risk level changed.")
    expect(page.locator("main")).to_contain_text("High risk")

    page.locator("#note-body").fill("Talked for 40 minutes; she will come again on Monday.")
    page.locator('form[action$="/notes"] button[type=submit]').tap()
    expect(page.locator("article.card")).to_contain_text("she will come again on Monday")

    page.locator("#team-user_id").select_option(index=0)
    page.locator('form[action$="/team"] button[type=submit]').tap()
    expect(page.locator(".flashes")).to_contain_text("Added to the team.")

    for status, reason in (("active", "Weekly conversations."), ("review", "A month without incidents."),
                           ("closed", "Stable; the family is supported by the centre.")):
        page.locator("#status-status").select_option(status)
        page.locator("#status-reason").fill(reason)
        page.locator('form[action$="/status"] button[type=submit]').tap()
        expect(page.locator(".flashes")).to_contain_text("Status changed.")
    expect(page.locator(".summary-list")).to_contain_text("Closed")
    expect(page.locator("#note-body")).to_have_count(0)  # a closed case takes no notes
    expect(page.locator("#case-history")).to_contain_text("Stable; the family is supported by the centre.")
    problems += check_page(page, artifacts, "case-closed", "en")

    page.goto("/screening/alerts")
    expect(page.locator(f'form[action="/monitoring/alerts/{alert}/case"]')).to_have_count(0)  # resolved into it
    assert not problems, "axe:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_monitoring_pages(open_context: Callable[..., Any], live_server: LiveServer, artifacts: Path,
                          language: str) -> None:
    live = live_server
    account = live.create_account(Role.PSYCHOLOGIST, language=language)
    pupil, _name = live.fresh_pupil("7А")
    live.enter_result(pupil, ASQ, NEGATIVE_ASQ)  # touched: other tests leave this pupil alone
    other, _other = live.fresh_pupil("7А")
    live.enter_result(other, ASQ, NEGATIVE_ASQ)
    case, entry = _seed_case(live, account.username, pupil)
    _seed_glass_and_file(live, case)
    pages = [("emergency-reviews", "/monitoring/emergency-reviews"),
             ("emergency-access", f"/monitoring/pupils/{pupil}/emergency-access"),
             ("caseload", "/monitoring/cases"), ("case-file", f"/monitoring/cases/{case}"),
             ("case-new", f"/monitoring/pupils/{other}/cases/new"),
             ("pupil-registry", f"/monitoring/pupils/{pupil}/registry"),
             ("registry-new", f"/monitoring/pupils/{other}/registry/new"),
             ("registry-edit", f"/monitoring/registry/{entry}/edit"),
             ("deregister", f"/monitoring/registry/{entry}/deregister"),
             ("registries", "/monitoring/registry"),
             ("transfer-propose", f"/monitoring/cases/{case}/transfer"), ("transfers", "/monitoring/transfers")]
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
    # The conflict page: a form loaded before someone else's change, sent after it.
    phone.goto(f"/monitoring/cases/{case}")
    phone.locator("#review-next_review_on").fill("2027-01-15")
    with live.app.app_context():
        from app.monitoring import services
        from app.monitoring.models import MonitoringCase

        stored = db.session.execute(select(MonitoringCase).where(MonitoringCase.uuid == case)).scalar_one()
        services.set_review_date(actor=stored.owner, case=stored, version=stored.version, next_review_on=None)
    phone.locator('form[action$="/review-date"] button[type=submit]').tap()
    expect(phone.locator("h1")).to_be_visible()
    problems += check_page(phone, artifacts, "conflict", language)
    assert not problems, "axe:\n" + "\n".join(problems)
