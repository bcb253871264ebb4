"""Seminars on a phone: the psychologist schedules one, a parent registers, the psychologist marks attendance
and adds materials after it, and the parent reads them. Each page fits 390 px and passes axe."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from app.auth.roles import Role
from app.core.models import utcnow
from app.extensions import db
from app.seminars import services
from app.seminars.models import Seminar
from tests.browser.checks import PHONE, check_page
from tests.browser.pages import LiveServer, requires_chromium, sign_in

pytestmark = [pytest.mark.browser, requires_chromium]

TITLE = "Exam stress: how parents can help #browser-seminar"


def _move_to_past(live: LiveServer, seminar_uuid: str) -> None:
    """The seminar began an hour ago (what the clock would say the day after)."""
    with live.app.app_context():
        start = utcnow().replace(microsecond=0) - timedelta(hours=1)
        db.session.execute(Seminar.__table__.update().where(Seminar.__table__.c.uuid == seminar_uuid).values(
            registration_closes_at=start - timedelta(hours=1), starts_at=start, ends_at=start + timedelta(minutes=50)))
        db.session.commit()


def test_schedule_register_attend_and_read_the_materials(open_context: Callable[..., Any], live_server: LiveServer,
                                                         artifacts: Path) -> None:
    live = live_server
    pupil_uuid, _name = live.some_pupil()
    parent_account = live.create_account(Role.PARENT, language="en", children=(pupil_uuid,))

    organiser = open_context(**PHONE).new_page()
    sign_in(organiser, live, live.create_account(Role.PSYCHOLOGIST, language="en"))
    organiser.goto("/seminars/organise")
    problems = check_page(organiser, artifacts, "seminars-organise", "en")
    organiser.get_by_role("link", name="Schedule a seminar").click()
    with live.app.app_context():
        day = (services.to_local(utcnow()) + timedelta(days=7)).date().isoformat()
    organiser.get_by_label("Title").fill(TITLE)
    organiser.get_by_label("Description").fill("What helps before exams:\n\n- sleep\n- **short breaks**")
    organiser.get_by_label("Parents", exact=True).check()
    organiser.get_by_label("Day").fill(day)
    organiser.get_by_label("Starts at").fill("18:00")
    organiser.get_by_label("Ends at").fill("19:00")
    organiser.get_by_label("Online link").fill("https://meet.example.kz/exam-stress")
    organiser.get_by_label("Places").fill("25")
    problems += check_page(organiser, artifacts, "seminars-form", "en")
    organiser.get_by_role("button", name="Save").click()
    expect(organiser).to_have_url(re.compile(r"/seminars/organise/[0-9a-f-]{36}$"))
    seminar_uuid = organiser.url.rsplit("/", 1)[-1]
    expect(organiser.locator("h1")).to_contain_text(TITLE)

    parent = open_context(**PHONE).new_page()
    sign_in(parent, live, parent_account)
    parent.goto("/seminars")
    problems += check_page(parent, artifacts, "seminars-list", "en")
    parent.get_by_role("link", name=TITLE).click()
    parent.get_by_role("button", name="Register").click()
    expect(parent.locator("main")).to_contain_text("You are registered")
    expect(parent.locator('main a[href="https://meet.example.kz/exam-stress"]')).to_be_visible()
    problems += check_page(parent, artifacts, "seminars-detail", "en")

    organiser.get_by_role("link", name="Change").click()  # moved an hour earlier: the parent is told
    organiser.get_by_label("Starts at").fill("17:00")
    organiser.get_by_label("Ends at").fill("18:00")
    organiser.get_by_label("Registration closes").fill(f"{day}T17:00")
    organiser.get_by_role("button", name="Save").click()
    expect(organiser.locator("main")).to_contain_text("Changes saved.")
    parent.reload()
    expect(parent.locator("main")).to_contain_text("after you registered")
    expect(parent.locator("main")).to_contain_text("17:00")
    problems += check_page(parent, artifacts, "seminars-changed", "en")

    _move_to_past(live, seminar_uuid)
    organiser.reload()
    organiser.get_by_label(re.compile(re.escape(parent_account.name))).check()
    organiser.get_by_role("button", name="Save attendance").click()
    expect(organiser.locator("main")).to_contain_text("Attendance saved: 1 present.")
    problems += check_page(organiser, artifacts, "seminars-manage", "en")
    organiser.get_by_role("link", name="Add materials").click()
    organiser.get_by_label("Materials").fill("[Slides](https://example.kz/exam-stress.pdf) and a checklist.")
    organiser.get_by_role("button", name="Publish").click()
    expect(organiser.locator("main")).to_contain_text("Materials published.")
    organiser.goto("/seminars/organise")
    expect(organiser.locator("tr", has_text=TITLE)).to_contain_text("1 / 25")

    parent.goto("/seminars")
    parent.get_by_role("link", name=TITLE).click()
    expect(parent.get_by_role("link", name="Slides")).to_have_attribute(
        "href", "https://example.kz/exam-stress.pdf")
    problems += check_page(parent, artifacts, "seminars-materials", "en")
    assert not problems, "axe:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_seminar_pages_in_kazakh_and_russian_fit_a_phone(open_context: Callable[..., Any], live_server: LiveServer,
                                                         artifacts: Path, language: str) -> None:
    live = live_server
    pupil_uuid, _name = live.some_pupil()
    organiser_account = live.create_account(Role.PSYCHOLOGIST, language=language)
    with live.app.app_context():
        from sqlalchemy import select

        from app.auth.models import User
        from tests.seminars.support import make_seminar

        organiser = db.session.execute(select(User).where(User.username == organiser_account.username)).scalar_one()
        school_id = organiser.assignments[0].school_id
        seminar = make_seminar(organiser, where=("school", school_id), audience="both",
                               title=f"Жасөспірімдегі күйзеліс белгілері {language}",
                               online_url="https://meet.example.kz/a-very-long-meeting-room-name-1234567890")
        seminar_uuid = seminar.uuid
    page = open_context(**PHONE).new_page()
    sign_in(page, live, organiser_account)
    problems = []
    for path, name in ((f"/seminars/{seminar_uuid}", "detail"), ("/seminars/organise/new", "form"),
                       (f"/seminars/organise/{seminar_uuid}", "manage"), (f"/seminars/organise/{seminar_uuid}/cancel",
                                                                          "cancel")):
        page.goto(path)
        problems += check_page(page, artifacts, f"seminars-{name}", language)
    parent = open_context(**PHONE).new_page()
    sign_in(parent, live, live.create_account(Role.PARENT, language=language, children=(pupil_uuid,)))
    parent.goto("/seminars")
    problems += check_page(parent, artifacts, "seminars-list", language)
    assert not problems, "axe:\n" + "\n".join(problems)
