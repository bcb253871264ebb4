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
