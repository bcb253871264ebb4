"""The parent portal on a phone (issue 11 done-when): a parent whose child is in a running campaign withdraws
consent online, and the psychologist's campaign page shows that pupil's consent withdrawn and the sitting stopped,
with the date. On the way, the parent asks for a meeting and the psychologist opens it; every new page passes axe
and fits 390 px."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask_babel import force_locale
from playwright.sync_api import expect
from sqlalchemy import select

from app.auth.roles import Role
from tests.browser.checks import PHONE, check_page
from tests.browser.pages import LiveServer, _pupil, requires_chromium, sign_in

pytestmark = [pytest.mark.browser, requires_chromium]


def _issue_code(live: LiveServer, campaign_uuid: str, pupil_uuid: str) -> None:
    from app.extensions import db
    from app.screening import campaigns
    from app.screening.models import Campaign
    from tests.browser.pages import _psychologist

    with live.app.app_context():
        campaign = db.session.execute(select(Campaign).where(Campaign.uuid == campaign_uuid)).scalar_one()
        campaigns.issue_codes(actor=_psychologist(), campaign=campaign, pupils=[_pupil(pupil_uuid)])


def _today(live: LiveServer) -> str:
    """Today (the school's date) as the English pages write a short date."""
    from app.consent.services import today_local
    from app.core.i18n import format_short_date

    with live.app.test_request_context(), force_locale("en"):
        return format_short_date(today_local())


def test_a_parent_withdraws_consent_and_the_campaign_page_shows_it(open_context: Callable[..., Any],
                                                                   live_server: LiveServer, artifacts: Path) -> None:
    live = live_server
    pupil_uuid, pupil_name = live.fresh_pupil("7А")
    live.record_consent(pupil_uuid)
    campaign_uuid = live.plan_campaign("Browser parent portal", ("7А",))
    _issue_code(live, campaign_uuid, pupil_uuid)
    problems: list[str] = []

    parent = open_context(**PHONE).new_page()
    parent.on("dialog", lambda dialog: dialog.accept())
    sign_in(parent, live, live.create_account(Role.PARENT, language="en", children=(pupil_uuid,)))
    parent.goto("/parents/children")
    card = parent.locator("main li.card", has_text=pupil_name.split()[0])
    expect(card).to_contain_text("Consent given")
    expect(card).to_contain_text("Browser parent portal")
    problems += check_page(parent, artifacts, "parent-home", "en")

    card.get_by_role("link", name="Open the child’s page").tap()
    expect(parent.locator("#screenings-title")).to_be_visible()
    expect(parent.locator("main")).to_contain_text("A few short questions about safety")
    problems += check_page(parent, artifacts, "parent-child", "en")

    parent.get_by_role("link", name="Ask for a meeting").first.tap()
    expect(parent).to_have_url(re.compile(r"/parents/meetings/new"))
    parent.get_by_label("When suits you").fill("Tuesday after 15:00 #browser-meeting")
    parent.get_by_label("What you would like to talk about (optional)").fill("<b>sleep</b> and exams")
    problems += check_page(parent, artifacts, "parent-meeting-new", "en")
    parent.get_by_role("button", name="Send the request").tap()
    expect(parent.locator("#meetings-title")).to_be_visible()
    expect(parent.locator("main")).to_contain_text("Waiting for the psychologist")

    parent.get_by_role("link", name="Give or withdraw consent").tap()
    expect(parent).to_have_url(re.compile(rf"/consent/my-children/{pupil_uuid}"))
    parent.get_by_role("button", name="Withdraw my consent").tap()
    expect(parent.locator("main")).to_contain_text("Your consent is withdrawn")
    problems += check_page(parent, artifacts, "parent-consent-withdrawn", "en")
    parent.goto(f"/parents/child/{pupil_uuid}")
    expect(parent.locator("main")).to_contain_text("Consent withdrawn")
    expect(parent.locator("main")).to_contain_text("(online)")

    today = _today(live)
    staff = open_context(**PHONE).new_page()
    sign_in(staff, live, live.create_account(Role.PSYCHOLOGIST, language="en"))
    staff.goto(f"/screening/campaigns/{campaign_uuid}")
    row = staff.locator("main tr", has_text=pupil_name)
    expect(row).to_contain_text(f"Consent withdrawn on {today}")
    expect(row).to_contain_text(f"stopped: consent withdrawn on {today}")
    problems += check_page(staff, artifacts, "campaign-withdrawn", "en")

    staff.goto("/parents/meetings")
    expect(staff.locator(".site-nav")).to_contain_text("request")
    problems += check_page(staff, artifacts, "meeting-list", "en")
    staff.locator("main .card", has_text=pupil_name).first.get_by_role("link").tap()
    expect(staff.locator("main")).to_contain_text("#browser-meeting")
    expect(staff.locator("main")).to_contain_text("<b>sleep</b> and exams")  # shown as text, not markup
    problems += check_page(staff, artifacts, "meeting-detail", "en")

    staff.goto(f"/parents/pupils/{pupil_uuid}/summaries")
    staff.get_by_label("Summary for the parents").fill("Settling in well #browser-summary")
    staff.get_by_role("button", name="Save the draft").tap()
    expect(staff.locator("main")).to_contain_text("Draft: parents do not see it")
    problems += check_page(staff, artifacts, "parent-summaries", "en")

    # Kazakh, whose words are the longest: the parent's pages still fit a phone.
    kazakh = open_context(**PHONE).new_page()
    sign_in(kazakh, live, live.create_account(Role.PARENT, language="kk", children=(pupil_uuid,)))
    for name, path in (("parent-home", "/parents/children"), ("parent-child", f"/parents/child/{pupil_uuid}"),
                       ("parent-meeting-new", f"/parents/meetings/new?child={pupil_uuid}")):
        kazakh.goto(path)
        problems += check_page(kazakh, artifacts, name, "kk")
    assert not problems, "axe:\n" + "\n".join(problems)


def _school_day(live: LiveServer, days: int) -> str:
    """A day ``days`` ahead of the school's today, as a date input takes it."""
    from datetime import timedelta

    from app.consent.services import today_local

    with live.app.app_context():
        return (today_local() + timedelta(days=days)).isoformat()


def test_a_parent_accepts_a_proposed_time_and_the_psychologist_sees_it_accepted(
        open_context: Callable[..., Any], live_server: LiveServer, artifacts: Path) -> None:
    live = live_server
    pupil_uuid, pupil_name = live.fresh_pupil("7А")
    problems: list[str] = []

    parent = open_context(**PHONE).new_page()
    sign_in(parent, live, live.create_account(Role.PARENT, language="en", children=(pupil_uuid,)))
    parent.goto(f"/parents/meetings/new?child={pupil_uuid}")
    parent.get_by_label("When suits you").fill("Any weekday morning #browser-accept")
    parent.get_by_role("button", name="Send the request").tap()
    expect(parent.locator("main")).to_contain_text("Waiting for the psychologist")

    staff = open_context(**PHONE).new_page()
    sign_in(staff, live, live.create_account(Role.PSYCHOLOGIST, language="en"))
    staff.goto("/parents/meetings")
    staff.locator("main .card", has_text=pupil_name).first.get_by_role("link").first.tap()
    expect(staff.locator("main")).to_contain_text("#browser-accept")
    staff.locator("#schedule-day").fill(_school_day(live, 4))
    staff.locator("#schedule-time").fill("10:30")
    staff.get_by_label("Note to the parent (optional)").fill("Room 12, first floor")
    problems += check_page(staff, artifacts, "meeting-propose", "en")
    staff.get_by_role("button", name="Propose this time").tap()
    expect(staff.locator("main")).to_contain_text("Waiting for the parent")

    parent.goto("/parents/children")
    expect(parent.locator("main")).to_contain_text("The psychologist proposed a meeting time: please answer")
    parent.goto(f"/parents/child/{pupil_uuid}")
    expect(parent.locator("main")).to_contain_text("Time proposed: please answer")
    expect(parent.locator("main")).to_contain_text("10:30")
    parent.get_by_text("Ask for another time").tap()  # the disclosure opens the optional message
    expect(parent.get_by_label("Which days and times suit you better (optional)")).to_be_visible()
    problems += check_page(parent, artifacts, "parent-meeting-proposed", "en")
    parent.get_by_role("button", name="Accept this time").tap()
    expect(parent.locator("main")).to_contain_text("Meeting confirmed")
    expect(parent.get_by_role("button", name="Accept this time")).to_have_count(0)
    problems += check_page(parent, artifacts, "parent-meeting-confirmed", "en")

    staff.goto("/parents/meetings")
    card = staff.locator("main .card", has_text=pupil_name).first
    expect(card).to_contain_text("Accepted by the parent")
    expect(card.get_by_role("link", name="Add to my calendar (.ics)")).to_be_visible()
    problems += check_page(staff, artifacts, "meeting-list-accepted", "en")

    # Kazakh, whose words are the longest: the psychologist's list of states and a Kazakh-speaking parent's
    # proposed time (asked and proposed through the services) still fit a phone.
    kazakh = open_context(**PHONE).new_page()
    sign_in(kazakh, live, live.create_account(Role.PSYCHOLOGIST, language="kk"))
    kazakh.goto("/parents/meetings")
    expect(kazakh.locator("main .card", has_text=pupil_name).first).to_contain_text("Ата-ана қабылдады")
    problems += check_page(kazakh, artifacts, "meeting-list-accepted", "kk")
    account = live.create_account(Role.PARENT, language="kk", children=(pupil_uuid,))
    _propose_for(live, account.username, pupil_uuid)
    kazakh_parent = open_context(**PHONE).new_page()
    sign_in(kazakh_parent, live, account)
    kazakh_parent.goto(f"/parents/child/{pupil_uuid}")
    expect(kazakh_parent.get_by_role("button", name="Осы уақытты қабылдау")).to_be_visible()
    kazakh_parent.get_by_text("Басқа уақыт сұрау").tap()
    problems += check_page(kazakh_parent, artifacts, "parent-meeting-proposed", "kk")
    assert not problems, "axe:\n" + "\n".join(problems)


def _propose_for(live: LiveServer, username: str, pupil_uuid: str) -> None:
    """The parent ``username`` asks for a meeting about the pupil and the demo psychologist proposes a time."""
    from datetime import timedelta

    from app.auth.models import User
    from app.core.models import utcnow
    from app.extensions import db
    from app.parents import meetings
    from tests.browser.pages import _psychologist

    with live.app.app_context():
        parent = db.session.execute(select(User).where(User.username == username)).scalar_one()
        meeting = meetings.request_meeting(actor=parent, pupil=_pupil(pupil_uuid), times="Сәрсенбі, 16:00-ден кейін",
                                           message=None)
        meetings.schedule(actor=_psychologist(), meeting=meeting, version=meeting.version,
                          meeting_at=utcnow() + timedelta(days=3), reply="12-кабинет")


def test_withdrawing_while_the_page_is_still_loading_still_asks_first(open_context: Callable[..., Any],
                                                                      live_server: LiveServer) -> None:
    """A parent on a slow phone taps "Withdraw my consent" before the page has finished loading: the question is
    still asked, and saying no keeps the consent. app.js is held back here; if the button can be tapped before the
    script has run (a deferred script would allow it), it is tapped then, and the question must still come."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from app.consent import services as consent

    pupil_uuid, _name = live_server.fresh_pupil("8Б")
    live_server.record_consent(pupil_uuid)
    parent = open_context(**PHONE).new_page()
    sign_in(parent, live_server, live_server.create_account(Role.PARENT, language="en", children=(pupil_uuid,)))
    asked: list[str] = []
    parent.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    script, held = re.compile(r"/static/js/app\.js"), []

    def hold(route: Any) -> None:
        held.append(route)

    parent.route(script, hold)
    parent.goto(f"/consent/my-children/{pupil_uuid}", wait_until="commit")
    button = parent.get_by_role("button", name="Withdraw my consent")
    try:
        button.wait_for(state="visible", timeout=1500)  # drawn while the script is still held back?
        tapped_early = True
    except PlaywrightTimeout:
        tapped_early = False
    with parent.expect_event("dialog", timeout=5000):
        if tapped_early:
            button.tap(no_wait_after=True)
        assert held, "the page did not ask for app.js"
        for route in held:
            route.continue_()
        parent.unroute(script, hold)
        if not tapped_early:
            button.tap()
    assert asked == ["Withdraw consent?"]
    expect(parent.locator("main")).to_contain_text("Your consent is on file")
    with live_server.app.app_context():
        assert consent.has_valid_consent(_pupil(pupil_uuid))
