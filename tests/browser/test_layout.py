"""Phone and desktop layouts: no page scrolls sideways. Screenshots go to test-artifacts/ for a human look."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.pages import LANGUAGES, LiveServer, requires_chromium, switch_language

pytestmark = [pytest.mark.browser, requires_chromium]

VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}

#: Elements sticking out past the viewport's right edge (for the failure message).
_OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll('body *'))
    .filter(el => el.getBoundingClientRect().right > width + 1)
    .slice(0, 10)
    .map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : ''));
}"""


def _assert_no_horizontal_scroll(page: Any, what: str) -> None:
    scroll_width, client_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll_width <= client_width, (
        f"{what} scrolls sideways ({scroll_width}px > {client_width}px): {page.evaluate(_OVERFLOWING)}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("device", VIEWPORTS)
def test_pages_fit_the_screen(open_context: Callable[..., Any], live_server: LiveServer,
                              staff_state: Callable[[str], dict[str, Any]], artifacts: Path,
                              device: str, language: str) -> None:
    anonymous = open_context(**VIEWPORTS[device]).new_page()
    anonymous.goto("/login")
    switch_language(anonymous, language)

    pupil_uuid, _name = live_server.some_pupil()
    staff = open_context(storage_state=staff_state(language), **VIEWPORTS[device]).new_page()
    for name, path in [("home", "/"), ("pupils", "/pupils"), ("pupil-card", f"/pupils/{pupil_uuid}")]:
        response = staff.goto(path)
        assert response.status == 200, path
        _check(staff, artifacts, f"{name}-{device}-{language}")
    _check(anonymous, artifacts, f"login-{device}-{language}")


def _check(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"))
    _assert_no_horizontal_scroll(page, name)


#: Anything that scrolls sideways, the page or a box inside it (a table's wrapper included): the pages below must
#: read on a phone without it.
_SIDEWAYS = """() => {
  const width = document.documentElement.clientWidth;
  const name = el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '');
  const boxes = Array.from(document.querySelectorAll('main *'))
    .filter(el => el.scrollWidth > el.clientWidth + 1 && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX));
  const out = Array.from(document.querySelectorAll('main *'))
    .filter(el => el.getBoundingClientRect().right > width + 1);
  return [...boxes.map(el => 'scrolls: ' + name(el)), ...out.map(el => 'sticks out: ' + name(el))].slice(0, 10);
}"""

ACUTE_ASQ = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}
URGENT_ASQ = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0}


@pytest.mark.parametrize("language", LANGUAGES)
def test_results_and_escalations_read_on_a_phone_without_sideways_scrolling(
        open_context: Callable[..., Any], live_server: LiveServer, account_state: Callable[..., dict[str, Any]],
        staff_state: Callable[[str], dict[str, Any]], artifacts: Path, language: str) -> None:
    """A pupil's results (charts, every kind of result, an alert resolved with its history) and the director's
    escalations (class, psychologists, severity) on a 390 px phone: nothing scrolls sideways, not even a table."""
    from app.auth.roles import Role
    from tests.browser.pages import ASQ

    live = live_server
    pupil, _name = live.fresh_pupil("8Б")
    live.enter_result(pupil, ASQ, URGENT_ASQ, language="kk")
    live.acknowledge_alerts(pupil, resolve_note="Оқушымен және анасымен сөйлестік; емханаға жолдама берілді.")
    for cheerful in (1, 4):
        live.enter_result(pupil, "who-5@1.1", {"cheerful": cheerful, "calm": 3, "active": 2, "rested": 3,
                                               "interest": 2})
    live.enter_result(pupil, "phq-a@1.1", {"down": 3, "interest": 3, "sleep": 3, "tired": 3, "appetite": 2,
                                           "failure": 2, "concentration": 2, "psychomotor": 1, "self_harm": 0,
                                           "past_year": 1})
    live.enter_result(pupil, ASQ, ACUTE_ASQ, language="ru")
    live.escalate_overdue()
    pages = [
        ("results", staff_state(language), f"/screening/pupils/{pupil}/results", "main .result-card"),
        ("escalations", account_state(Role.DIRECTOR, language), "/screening/escalations", "main .alert-card"),
    ]
    problems = []
    for name, state, path, card in pages:
        page = open_context(storage_state=state, **VIEWPORTS["phone"]).new_page()
        response = page.goto(path)
        assert response.status == 200, path
        assert page.locator(card).count() >= 1, f"{name}: no {card}"
        page.screenshot(path=str(artifacts / f"{name}-phone-{language}.png"), full_page=True)
        _assert_no_horizontal_scroll(page, name)
        problems += [f"{name} ({language}): {p}" for p in page.evaluate(_SIDEWAYS)]
    assert not problems, "\n".join(problems)
