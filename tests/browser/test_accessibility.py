"""axe-core on the main pages in each language: no serious or critical violation.

Every page's full axe report (all impacts) is written to test-artifacts/axe-<page>-<language>.json.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.pages import LANGUAGES, LiveServer, requires_chromium, switch_language

pytestmark = [pytest.mark.browser, requires_chromium]

BLOCKING = {"serious", "critical"}
#: page name -> (path, expected HTTP status); "{pupil}" is a demo pupil's uuid.
SIGNED_IN_PAGES = {
    "home": ("/", 200),
    "pupils": ("/pupils", 200),
    "pupil-card": ("/pupils/{pupil}", 200),
    "access-log": ("/pupils/{pupil}/access-log", 200),
    "account": ("/account", 200),
    "not-found": ("/no-such-page", 404),
}

_axe = Axe()


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '').splitlines()[-1:]}")
            lines.append(f"      {node['html'][:200]}")
    return "\n".join(lines)


def _check(page: Any, artifacts: Path, name: str) -> None:
    violations = _axe.run(page).response["violations"]
    (artifacts / f"axe-{name}.json").write_text(json.dumps(violations, ensure_ascii=False, indent=1), "utf-8")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {name}:\n{_describe(blocking)}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_login_page(page: Any, artifacts: Path, language: str) -> None:
    page.goto("/login")
    switch_language(page, language)
    _check(page, artifacts, f"login-{language}")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", SIGNED_IN_PAGES)
def test_signed_in_page(open_context: Callable[..., Any], live_server: LiveServer,
                        staff_state: Callable[[str], dict[str, Any]], artifacts: Path,
                        name: str, language: str) -> None:
    path, status = SIGNED_IN_PAGES[name]
    page = open_context(storage_state=staff_state(language)).new_page()
    response = page.goto(path.format(pupil=live_server.some_pupil()[0]))
    assert response.status == status
    assert page.locator("html").get_attribute("lang") == language
    _check(page, artifacts, f"{name}-{language}")
