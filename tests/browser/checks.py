"""Checks the page tests share: axe (serious and critical findings fail), no sideways scrolling, screenshots.

Screenshots go to test-artifacts/new-<page>-<phone|desktop>-<language>.png and the full axe reports (all
impacts) to test-artifacts/axe-new-<page>-<language>.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
#: Whole-page phone screenshots and the desktop pass are taken in Kazakh only (its words are the
#: longest, so pages break there first); the other languages get the phone's first screen.
FULL_LANGUAGE = "kk"
BLOCKING = {"serious", "critical"}

_axe = Axe()

#: Elements sticking out past the viewport's right edge (for the failure message); a table may
#: scroll inside its own wrapper.
_OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll('body *'))
    .filter(el => el.getBoundingClientRect().right > width + 1 && !el.closest('.table-wrap'))
    .slice(0, 10)
    .map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : ''));
}"""


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}: {node['html'][:200]}")
    return "\n".join(lines)


def assert_fits(page: Any, what: str) -> None:
    """The page does not scroll sideways."""
    scroll_width, client_width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll_width <= client_width, (
        f"{what} scrolls sideways ({scroll_width}px > {client_width}px): {page.evaluate(_OVERFLOWING)}")


def check_page(page: Any, artifacts: Path, name: str, language: str, *, axe: bool = True,
               device: str = "phone") -> list[str]:
    """Language, screenshot, no sideways scroll and (optionally) axe; returns the blocking axe findings.

    The findings are returned, not asserted, so that one test reports every page's problems at once.
    """
    expect(page.locator("html")).to_have_attribute("lang", language)
    full = device == "phone" and language == FULL_LANGUAGE
    page.screenshot(path=str(artifacts / f"new-{name}-{device}-{language}.png"), full_page=full)
    assert_fits(page, f"{name} ({device}, {language})")
    if not axe:
        return []
    violations = _axe.run(page).response["violations"]
    (artifacts / f"axe-new-{name}-{language}.json").write_text(
        json.dumps(violations, ensure_ascii=False, indent=1), "utf-8")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    return [f"{name} ({language}):\n{_describe(blocking)}"] if blocking else []
