"""The staff and parent pages of screening, consent, parents, class flags, reports and admin, in kk, ru and en.

On a 390 px phone every page must pass axe (no serious or critical violation) and must not scroll
sideways; on a desktop (in Kazakh) it must not scroll sideways either (tests/browser/checks.py). The
pupil's pages (/s ...) are checked the same way along the pupil's path in test_screening_flow.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from app.auth.roles import Role
from tests.browser.checks import DESKTOP, FULL_LANGUAGE, PHONE, check_page
from tests.browser.pages import ASQ, LANGUAGES, LiveServer, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium]

ACUTE_ASQ = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}
URGENT_ASQ = {"q1": 0, "q2": 1, "q3": 0, "q4": 0, "q5": 0}


@dataclass(frozen=True)
class Seeded:
    """What the pages show: pupils with results and alerts, a campaign, a child without consent."""

    pupil: str  # 7А, consent on paper, WHO-5 twice and an acute ASQ: alert escalated, not acknowledged
    other: str  # 7А, an urgent ASQ alert, acknowledged
    unconsented: str  # 5А, no consent: the parent's consent form
    campaign: str
    class_id: int
    user: str  # a staff member's uuid for the admin's user page


@pytest.fixture(scope="session")
def seeded(live_server: LiveServer) -> Seeded:
    """Seed the worker's live server once (each test reads, and only the code page issues codes)."""
    live = live_server
    pupil, _name = live.fresh_pupil("7А")
    for cheerful in (1, 4):
        live.enter_result(pupil, "who-5@1.1", {"cheerful": cheerful, "calm": 3, "active": 2, "rested": 3,
                                               "interest": 2})
    live.enter_result(pupil, ASQ, ACUTE_ASQ, language="kk")
    other, _name = live.fresh_pupil("7А")
    live.enter_result(other, ASQ, URGENT_ASQ)
    live.acknowledge_alerts(other)
    live.escalate_overdue()
    unconsented, _name = live.fresh_pupil("5А")
    campaign = live.plan_campaign("Күзгі скрининг / Осенний скрининг 7А, 8Б", ("7А", "8Б"))
    return Seeded(pupil, other, unconsented, campaign, live.class_id("7А"), live.user_uuid("psychologist"))


#: group -> (role, account scope builder, [(page name, endpoint, path template)]).
#: Paths are formatted with the Seeded fields and the language.
GROUPS: dict[str, tuple[Role, Callable[[Seeded], dict[str, Any]], list[tuple[str, str, str]]]] = {
    "psychologist": (Role.PSYCHOLOGIST, lambda s: {}, [
        ("campaigns", "screening.campaign_list", "/screening/campaigns"),
        ("campaign-new", "screening.campaign_new", "/screening/campaigns/new"),
        ("campaign", "screening.campaign_detail", "/screening/campaigns/{campaign}"),
        ("alerts", "screening.alert_inbox", "/screening/alerts"),
        ("paper-start", "screening.paper_start", "/screening/paper"),
        ("paper-form", "screening.paper_entry", "/screening/paper/{pupil}?instrument=" + ASQ + "&language={language}"),
        ("results", "screening.pupil_results", "/screening/pupils/{pupil}/results"),
        ("consent-staff", "consent.staff_record", "/consent/pupils/{pupil}"),
        ("class-overview-list", "screening.class_overview_list", "/screening/classes"),
        ("class-overview", "screening.class_overview", "/screening/classes/{class_id}"),
        ("local-methods", "screening.local_list", "/screening/local"),
        ("local-upload", "screening.local_upload", "/screening/local/upload"),
    ]),
    "director": (Role.DIRECTOR, lambda s: {}, [
        ("escalations", "screening.escalations", "/screening/escalations"),
        ("reports", "reports.overview", "/reports/"),
        ("roster-import", "roster.index", "/roster/"),
    ]),
    "teacher": (Role.CLASS_TEACHER, lambda s: {"class_label": "7А"}, [
        ("class-index", "classes.index", "/class/"),
        ("class-flags", "classes.flags", "/class/{class_id}/flags"),
        ("guidance-staff", "guidance.staff", "/guidance/staff"),
    ]),
    "parent": (Role.PARENT, lambda s: {"children": (s.pupil, s.unconsented)}, [
        ("parent-children", "parents.children", "/parents/children"),
        ("parent-child", "parents.child", "/parents/child/{pupil}"),
        ("parent-consent", "consent.parent_consent", "/consent/my-children/{unconsented}"),
        ("guidance", "guidance.parents", "/guidance/parents"),
        ("help-directory", "help.directory", "/help"),
        ("help-ask", "help.ask", "/help/ask"),
        ("help-ask-school", "help.ask", "/help/ask?school=1"),
    ]),
    "admin": (Role.ADMIN, lambda s: {}, [
        ("admin-schools", "admin.schools", "/admin/schools"),
        ("admin-classes", "admin.classes", "/admin/classes"),
        ("admin-staff", "admin.staff", "/admin/staff"),
        ("admin-user", "admin.user_detail", "/admin/staff/{user}"),
        ("admin-guardians", "admin.guardian_new", "/admin/guardians/new"),
        ("admin-audit", "admin.audit_log", "/admin/audit"),
        ("admin-help-services", "help.services_admin", "/admin/help-services"),
        ("admin-help-service-new", "help.service_new", "/admin/help-services/new"),
    ]),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("group", GROUPS)
def test_new_pages(open_context: Callable[..., Any], live_server: LiveServer,
                   account_state: Callable[..., dict[str, Any]], seeded: Seeded, artifacts: Path,
                   group: str, language: str) -> None:
    role, scope, pages = GROUPS[group]
    state = account_state(role, language, **scope(seeded))
    phone = open_context(storage_state=state, **PHONE).new_page()
    devices = [(phone, "phone")]
    if language == FULL_LANGUAGE:
        devices.append((open_context(storage_state=state, **DESKTOP).new_page(), "desktop"))
    registered = live_server.app.view_functions
    fields = {**seeded.__dict__, "language": language}
    problems: list[str] = []
    for name, endpoint, template in pages:
        if endpoint not in registered:  # a page still being built elsewhere
            continue
        path = template.format(**fields)
        for page, device in devices:
            response = page.goto(path)
            assert response.status == 200, f"{path}: {response.status}"
            problems += check_page(page, artifacts, name, language, axe=device == "phone", device=device)
    if group == "psychologist":  # the printed code cards: a POST from the campaign page
        phone.goto(f"/screening/campaigns/{seeded.campaign}")
        phone.locator(f'input[name="pupils"][value="{seeded.other}"]').check()
        phone.locator("main form button[type=submit]").last.click()
        expect(phone.locator('.code-card, input[name="replace"]').first).to_be_attached()
        if phone.locator('input[name="replace"]').count():  # issued in an earlier language: replacing asks first
            problems += check_page(phone, artifacts, "codes-confirm", language)
            phone.locator("main form button[type=submit]").first.click()
        expect(phone.locator(".code-card")).to_have_count(1)
        problems += check_page(phone, artifacts, "codes-print", language)
    assert not problems, "axe:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_password_change_required_page(open_context: Callable[..., Any], live_server: LiveServer,
                                       artifacts: Path, language: str) -> None:
    """A temporary password set by the admin: sign-in lands on /account, which says why; changing it opens the app."""
    account = live_server.create_account(Role.CLASS_TEACHER, language=language, class_label="8Б")
    temporary = "уақытша құпия сөз браузер"
    live_server.set_temporary_password(account.username, temporary)
    phone = open_context(**PHONE).new_page()
    phone.goto("/login")
    phone.locator("#username").fill(account.username)
    phone.locator("#password").fill(temporary)
    phone.locator("main form button[type=submit]").click()
    expect(phone).to_have_url(re.compile(r"/account$"))
    expect(phone.locator("main .alert--warning")).to_contain_text(
        live_server.text("Change your password to continue", language))
    problems = check_page(phone, artifacts, "password-change-required", language)
    if language == FULL_LANGUAGE:
        desktop = open_context(storage_state=phone.context.storage_state(), **DESKTOP).new_page()
        desktop.goto("/pupils")  # any other page leads back here
        expect(desktop).to_have_url(re.compile(r"/account$"))
        problems += check_page(desktop, artifacts, "password-change-required", language, axe=False, device="desktop")
    assert not problems, "axe:\n" + "\n".join(problems)

    phone.locator("#pw-current_password").fill(temporary)
    phone.locator("#pw-new_password").fill(account.password)
    phone.locator("#pw-confirm").fill(account.password)
    phone.locator("main form button[type=submit]").first.click()
    expect(phone).to_have_url(f"{live_server.url}/")
    expect(phone.locator("h1")).to_contain_text(account.name)


def _latest_reset_link(live: LiveServer, username: str) -> str:
    """The link in the newest reset mail queued for ``username`` (mail is never delivered in tests)."""
    from sqlalchemy import select

    from app.auth.models import User
    from app.core.mail import OutboxMessage
    from app.extensions import db

    with live.app.app_context():
        email = db.session.execute(select(User.email).where(User.username == username)).scalar_one()
        body = db.session.execute(select(OutboxMessage).where(OutboxMessage.recipients.contains(email))
                                  .order_by(OutboxMessage.id.desc()).limit(1)).scalar_one().body
    match = re.search(r"https?://\S+/password/reset/[A-Za-z0-9_-]+", body)
    assert match, "no reset link in the mail"
    return match.group(0)


@pytest.mark.parametrize("language", LANGUAGES)
def test_password_reset_pages(open_context: Callable[..., Any], live_server: LiveServer, artifacts: Path,
                              monkeypatch: pytest.MonkeyPatch, language: str) -> None:
    """"Forgot your password?" from the sign-in page, the answer, the new-password page and a used link."""
    from sqlalchemy import update

    from app.auth.models import User
    from app.extensions import db
    from tests.browser.pages import switch_language

    monkeypatch.setitem(live_server.app.config, "SENIM_SMTP_HOST", "127.0.0.1")  # queued only: delivery is off
    account = live_server.create_account(Role.CLASS_TEACHER, language=language, class_label="8Б")
    with live_server.app.app_context():
        db.session.execute(update(User).where(User.username == account.username)
                           .values(email=f"{account.username}@school.example"))
        db.session.commit()
    phone = open_context(**PHONE).new_page()
    phone.goto("/login")
    switch_language(phone, language)
    phone.locator('main a[href="/password/forgot"]').click()
    expect(phone).to_have_url(re.compile(r"/password/forgot$"))
    problems = check_page(phone, artifacts, "password-forgot", language)
    phone.locator("#identifier").fill(account.username)
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator("main .alert--info")).to_be_visible()
    problems += check_page(phone, artifacts, "password-forgot-sent", language)

    link = _latest_reset_link(live_server, account.username)
    assert phone.goto(link).status == 200
    problems += check_page(phone, artifacts, "password-reset", language)
    if language == FULL_LANGUAGE:
        desktop = open_context(**DESKTOP).new_page()
        desktop.goto("/login")
        switch_language(desktop, language)
        for path in ("/password/forgot", link):
            desktop.goto(path)
            problems += check_page(desktop, artifacts, "password-reset", language, axe=False, device="desktop")
    new_password = "биік тау мен көк аспан астында"
    phone.locator("#new_password").fill(new_password)
    phone.locator("#confirm").fill(new_password)
    phone.locator("main form button[type=submit]").click()
    expect(phone).to_have_url(re.compile(r"/login$"))

    assert phone.goto(link).status == 404  # used once: now a clear page, nothing changed
    problems += check_page(phone, artifacts, "password-reset-invalid", language)
    assert not problems, "axe:\n" + "\n".join(problems)

    phone.goto("/login")
    phone.locator("#username").fill(account.username)
    phone.locator("#password").fill(new_password)
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator("h1")).to_contain_text(account.name)
