"""A screening from start to end in the browser (issue 4's acceptance test).

The demo psychologist records consent, plans an ASQ campaign for 7А and prints the pupil's one-time
code; the pupil answers on a phone (taps and keyboard), pauses and resumes, raises an acute alert and
sees where to get help, never a score; the alert reaches the psychologist's inbox, the class teacher
sees a red flag that names no instrument, and the psychologist acknowledges and resolves it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from app.auth.roles import Role
from app.consent.services import today_local
from tests.browser.checks import DESKTOP, PHONE, check_page
from tests.browser.pages import ASQ, LANGUAGES, LiveServer, requires_chromium, sign_in, switch_language

pytestmark = [pytest.mark.browser, requires_chromium]

YES, NO = 1, 0
PHQ_A = "phq-a@1.1"
ACUTE_MESSAGE = "An adult from your school will come to talk with you very soon."
HELPLINES = ("150", "111", "112")

#: The text of the page's main column without the help-line boxes (whose descriptions hold "24/7").
_MAIN_TEXT = """() => {
  const main = document.querySelector('main').cloneNode(true);
  main.querySelectorAll('.helplines').forEach(el => el.remove());
  return main.textContent;
}"""


def _tap_choice(page: Any, name: str, value: object) -> None:
    """Tap the label of a radio option, as a finger would."""
    option_id = page.locator(f'input[name="{name}"][value="{value}"]').get_attribute("id")
    page.locator(f'label[for="{option_id}"]').tap()
    expect(page.locator(f"#{option_id}")).to_be_checked()


def _answer(page: Any, value: int, *, keyboard: bool = False) -> None:
    """Answer the current question and go on: by tapping, or with the arrow keys, Space and Enter only."""
    if keyboard:
        first = page.locator('input[name="answer"]').first
        first.focus()
        for _ in range(3):
            if page.evaluate("document.activeElement.value") == str(value):
                break
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Space")
        expect(page.locator(f'input[name="answer"][value="{value}"]')).to_be_checked()
        page.keyboard.press("Enter")  # the form's default button must be "Next", never "Back"
    else:
        _tap_choice(page, "answer", value)
        page.locator('button[name="nav"][value="next"]').tap()


def _expect_question(page: Any, number: int, total: int) -> None:
    progress = page.locator("progress.progress__bar")
    expect(progress).to_have_attribute("value", str(number))
    expect(progress).to_have_attribute("max", str(total))
    expect(page.locator(".progress__label")).to_contain_text(re.compile(rf"\b{number}\b.*\b{total}\b"))


def _enter_code(page: Any, code: str) -> None:
    page.goto("/s")
    page.locator("#code").fill(code)
    page.locator("main form button[type=submit]").tap()


def _expect_help_and_no_score(page: Any, live: LiveServer, language: str, *, acute: bool) -> None:
    expect(page).to_have_url(re.compile(r"/s/done$"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    for number in HELPLINES:
        expect(page.locator(f'main a[href="tel:{number}"]').first).to_be_visible()
    if acute:
        expect(page.locator("main .alert--danger .alert__title")).to_contain_text(live.text(ACUTE_MESSAGE, language))
    else:
        expect(page.locator("main .alert--danger")).to_have_count(0)
    text = page.evaluate(_MAIN_TEXT)
    assert set(re.findall(r"\d+", text)) <= set(HELPLINES), f"a number that is not a help line: {text!r}"
    assert not re.search(r"positive|negative|acute|score|asq", text, re.IGNORECASE), text


def _instrument_names(live: LiveServer) -> list[str]:
    from app.screening.services import instrument_for

    with live.app.app_context():
        asq = instrument_for(ASQ)
        return ["ASQ", *(asq.text(language).title for language in LANGUAGES)]


def _plan_campaign_and_print_code(staff: Any, live: LiveServer, pupil_uuid: str, pupil_name: str) -> str:
    """Consent, campaign and code through the psychologist's pages; returns the code on the printed card."""
    staff.goto(f"/consent/pupils/{pupil_uuid}")
    staff.locator("#confirm").check()
    staff.locator("main form:has(#confirm) button[type=submit]").click()
    expect(staff.locator(f"main form[action$=\"/consent/pupils/{pupil_uuid}/withdraw\"]")).to_be_visible()

    staff.goto("/screening/campaigns")
    staff.locator(".page-header__actions a.btn--primary").click()
    expect(staff).to_have_url(re.compile(r"/screening/campaigns/new$"))
    title = f"Browser acceptance {pupil_uuid[:8]}"
    with live.app.app_context():
        opens = today_local()
    staff.locator("#title").fill(title)
    staff.locator(f'input[name="instruments"][value="{ASQ}"]').check()
    staff.locator(f'input[name="classes"][value="{live.class_id("7А")}"]').check()
    staff.locator("#opens_on").fill(opens.isoformat())
    staff.locator("#closes_on").fill((opens + timedelta(days=7)).isoformat())
    staff.locator('input[name="mode"][value="online"]').check()
    staff.locator("main form button[type=submit]").click()

    expect(staff.locator("h1")).to_have_text(title)
    staff.locator(f"#p-{pupil_uuid}").check()
    staff.locator("main form button[type=submit]").click()
    card = staff.locator(".code-card", has=staff.locator(".code-card__name", has_text=pupil_name))
    expect(card).to_have_count(1)
    code = card.locator(".code-card__code").inner_text().strip()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code), code
    return code


def test_pupil_on_a_phone_raises_an_acute_alert_that_reaches_psychologist_and_teacher(
        open_context: Callable[..., Any], live_server: LiveServer) -> None:
    pupil_uuid, pupil_name = live_server.fresh_pupil("7А")
    staff = open_context(**DESKTOP).new_page()
    sign_in(staff, live_server, live_server.demo_account("psychologist"), language="en")
    code = _plan_campaign_and_print_code(staff, live_server, pupil_uuid, pupil_name)

    # The pupil, on a phone of their own: no cookie of the psychologist's.
    phone = open_context(**PHONE).new_page()
    _enter_code(phone, code)
    expect(phone).to_have_url(re.compile(r"/s/language$"))
    _tap_choice(phone, "language", "kk")
    phone.locator("main form button[type=submit]").tap()
    expect(phone.locator("html")).to_have_attribute("lang", "kk")
    # "Question 1 of up to 5": the acuity question is asked only after a "yes", and the total never changes.
    _expect_question(phone, 1, 5)
    expect(phone.locator(".progress__label")).to_have_text(
        live_server.text("Question %(current)s of up to %(total)s", "kk", current=1, total=5))
    _answer(phone, YES)
    _expect_question(phone, 2, 5)
    _answer(phone, NO, keyboard=True)
    _expect_question(phone, 3, 5)
    _answer(phone, NO)
    _expect_question(phone, 4, 5)

    phone.locator("form[action$='/s/pause'] button").tap()
    expect(phone.locator("h1")).to_have_text(live_server.text("Your answers are saved", "kk"))
    phone.goto("/s/q")
    expect(phone).to_have_url(re.compile(r"/s$"))  # paused: the code is needed again
    _enter_code(phone, code)
    _expect_question(phone, 4, 5)  # resumes where the pupil stopped
    _answer(phone, NO, keyboard=True)
    _expect_question(phone, 5, 5)
    _answer(phone, YES)
    _expect_help_and_no_score(phone, live_server, "kk", acute=True)

    staff.goto("/screening/alerts")
    row = staff.locator("li.alert-card", has=staff.locator(f'a[href*="{pupil_uuid}"]'))
    expect(row).to_have_count(1)
    expect(row.locator(".badge--danger").first).to_have_text("Acute")
    row.get_by_role("button", name="Acknowledge").click()
    expect(row).to_contain_text("Acknowledged")

    teacher = open_context(**DESKTOP).new_page()
    sign_in(teacher, live_server, live_server.demo_account("teacher7a"))
    teacher.goto("/class/")
    teacher.locator(f'a[href$="/class/{live_server.class_id("7А")}/flags"]').click()
    flag_row = teacher.locator("tr", has=teacher.locator("th", has_text=pupil_name))
    expect(flag_row.locator(".flag--amber")).to_be_visible()  # one flag for every alert: no severity shown
    page_text = teacher.locator("main").inner_text()
    for name in _instrument_names(live_server):
        assert name.casefold() not in page_text.casefold(), f"the teacher's page names the instrument: {name}"

    row.locator("textarea").fill("Talked with the pupil at once; parents informed.")
    row.get_by_role("button", name="Resolve").click()
    expect(staff.locator("li.alert-card", has=staff.locator(f'a[href*="{pupil_uuid}"]'))).to_have_count(0)

    teacher.reload()
    expect(flag_row.locator(".flag--grey")).to_be_visible()


@pytest.mark.parametrize("language", LANGUAGES)
def test_pupil_pages_in_each_language(open_context: Callable[..., Any], live_server: LiveServer, artifacts: Path,
                                      language: str) -> None:
    """The pupil's path in one language, each page checked with axe and at 390 px (checks.py)."""
    from app.screening.services import instrument_for

    pupil_uuid, _name = live_server.fresh_pupil("8Б")
    code = live_server.issue_code(pupil_uuid)
    with live_server.app.app_context():
        items = instrument_for(ASQ).text(language).items
    phone = open_context(**PHONE).new_page()
    problems: list[str] = []

    phone.goto("/s")
    switch_language(phone, language)
    problems += check_page(phone, artifacts, "pupil-code", language)
    phone.locator("#code").fill(code.lower().replace("-", ""))  # as a pupil may type it
    phone.keyboard.press("Enter")  # a key press does not wait for the page it submits to
    expect(phone).to_have_url(re.compile(r"/s/language$"))
    problems += check_page(phone, artifacts, "pupil-language", language)
    _tap_choice(phone, "language", language)
    phone.locator("main form button[type=submit]").tap()
    for number, (item, value) in enumerate([("q1", YES), ("q2", NO), ("q3", NO), ("q4", NO), ("q5", YES)], 1):
        if number == 5:  # pause before the last question, and come back with the same code
            # Question 4 was answered with Enter, which does not wait: its page has a pause button too.
            _expect_question(phone, number, 5)
            phone.locator("form[action$='/s/pause'] button").tap()
            expect(phone.locator("h1")).to_have_text(live_server.text("Your answers are saved", language))
            problems += check_page(phone, artifacts, "pupil-paused", language)
            _enter_code(phone, code)
        expect(phone.locator("html")).to_have_attribute("lang", language)
        expect(phone.locator("main legend")).to_contain_text(items[item])
        _expect_question(phone, number, 5)
        if number in (1, 5):
            problems += check_page(phone, artifacts, f"pupil-question-{number}", language)
        _answer(phone, value, keyboard=number % 2 == 0)
    _expect_help_and_no_score(phone, live_server, language, acute=True)
    problems += check_page(phone, artifacts, "pupil-done-acute", language)
    assert not problems, "axe:\n" + "\n".join(problems)


def test_all_no_skips_the_acuity_question_and_ends_calmly(open_context: Callable[..., Any],
                                                          live_server: LiveServer) -> None:
    pupil_uuid, _name = live_server.fresh_pupil("9Ә")
    code = live_server.issue_code(pupil_uuid)
    phone = open_context(**PHONE).new_page()
    phone.goto("/s")
    phone.locator("#code").fill(code)
    phone.keyboard.press("Enter")
    _tap_choice(phone, "language", "ru")
    phone.keyboard.press("Enter")
    for number in range(1, 5):
        _expect_question(phone, number, 5)  # "up to 5": the fifth question is never asked here
        _answer(phone, NO, keyboard=True)
    _expect_help_and_no_score(phone, live_server, "ru", acute=False)
    phone.go_back()
    expect(phone).not_to_have_url(re.compile(r"/s/q"))  # a finished session cannot be reopened


def _texts(live: LiveServer, ref: str, language: str) -> Any:
    from app.screening.services import instrument_for

    with live.app.app_context():
        return instrument_for(ref).text(language)


def test_phq_a_question_9_goes_on_to_the_asq_at_once_then_back_to_the_phq_a_and_ends_with_help(
        open_context: Callable[..., Any], live_server: LiveServer, artifacts: Path) -> None:
    """Issue 8 item 2: PHQ-A question 9 above "not at all" → the ASQ at once, no new code → the rest of the PHQ-A
    → acute end page."""
    pupil_uuid, _name = live_server.fresh_pupil("7А")
    code = live_server.issue_code(pupil_uuid, PHQ_A)
    phq, asq = _texts(live_server, PHQ_A, "ru"), _texts(live_server, ASQ, "ru")
    phone = open_context(**PHONE).new_page()
    _enter_code(phone, code)
    _tap_choice(phone, "language", "ru")
    phone.locator("main form button[type=submit]").tap()
    expect(phone.locator("h1")).to_have_text(phq.title)
    for number in range(1, 9):
        _expect_question(phone, number, 11)  # "up to 11": the difficulty question depends on the answers
        _answer(phone, NO, keyboard=number % 2 == 0)
    _expect_question(phone, 9, 11)
    expect(phone.locator("main legend")).to_contain_text(phq.items["self_harm"])
    _answer(phone, 1)  # "several days": the ASQ comes now, before the PHQ-A's last two questions

    # The ASQ, at once, in the same visit: no code page, no language page, and no pause (there is no card).
    expect(phone).to_have_url(re.compile(r"/s/q"))
    expect(phone.locator("h1")).to_have_text(asq.title)
    expect(phone.locator("main")).to_contain_text(live_server.text("Thank you. Please answer a few more questions.",
                                                                   "ru"))
    expect(phone.locator("form[action$='/s/pause']")).to_have_count(0)
    problems = check_page(phone, artifacts, "pupil-follow-up-question", "ru")  # axe, and at 390 px
    for number, (item, value) in enumerate([("q1", YES), ("q2", NO), ("q3", NO), ("q4", NO), ("q5", YES)], 1):
        _expect_question(phone, number, 5)
        expect(phone.locator("main legend")).to_contain_text(asq.items[item])
        _answer(phone, value)

    # Back to the PHQ-A where it stopped: question 10 of (up to) 11, the counter's total as before.
    expect(phone.locator("h1")).to_have_text(phq.title)
    _expect_question(phone, 10, 11)
    expect(phone.locator("main legend")).to_contain_text(phq.items["past_year"])
    expect(phone.locator("main .alert--danger")).to_contain_text(live_server.text(
        "Thank you for telling us. An adult from your school will come to talk with you soon.", "ru"))
    problems += check_page(phone, artifacts, "pupil-question-after-follow-up", "ru")
    assert not problems, "axe:\n" + "\n".join(problems)
    _answer(phone, NO)  # past year
    _expect_question(phone, 11, 11)
    expect(phone.locator("main legend")).to_contain_text(phq.items["difficulty"])
    _answer(phone, NO)  # difficulty (asked: question 9 was above 0)
    _expect_help_and_no_score(phone, live_server, "ru", acute=True)

    staff = open_context(**DESKTOP).new_page()
    sign_in(staff, live_server, live_server.create_account(Role.PSYCHOLOGIST), language="en")
    staff.goto("/screening/alerts")
    cards = staff.locator("li.alert-card", has=staff.locator(f'a[href*="{pupil_uuid}"]'))
    expect(cards).to_have_count(2)  # one alert per sitting: the PHQ-A's (urgent) and the ASQ's (acute)
    expect(cards.and_(staff.locator(".alert-card--acute"))).to_have_count(1)
    expect(cards.and_(staff.locator(".alert-card--urgent"))).to_have_count(1)


def test_a_pupil_who_stops_after_a_yes_to_asq_question_1_leaves_an_alert_in_the_inbox(
        open_context: Callable[..., Any], live_server: LiveServer) -> None:
    pupil_uuid, _name = live_server.fresh_pupil("8Б")
    code = live_server.issue_code(pupil_uuid)
    phone_context = open_context(**PHONE)
    phone = phone_context.new_page()
    _enter_code(phone, code)
    _tap_choice(phone, "language", "kk")
    phone.locator("main form button[type=submit]").tap()
    _answer(phone, YES)
    _expect_question(phone, 2, 5)
    phone_context.close()  # the pupil walks away: no pause, no submission, nobody runs close-expired

    staff = open_context(**DESKTOP).new_page()
    sign_in(staff, live_server, live_server.create_account(Role.PSYCHOLOGIST), language="en")
    staff.goto("/screening/alerts")
    card = staff.locator("li.alert-card", has=staff.locator(f'a[href*="{pupil_uuid}"]'))
    expect(card).to_have_count(1)
    expect(card).to_have_class(re.compile(r"alert-card--urgent"))
    expect(card.locator(".badge--warning").first).to_have_text("Urgent")
    expect(card).to_contain_text(_texts(live_server, ASQ, "en").title)
