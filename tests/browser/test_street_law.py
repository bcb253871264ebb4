"""Street Law on a phone: one online visit keeps the pages of that language, which then open and link to each
other offline; back online, the pupil writes to the school psychologist without a name and the request reaches
the psychologist's inbox. The quick exit leaves at once and Back does not return to the page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.checks import PHONE, check_page
from tests.browser.pages import LiveServer, _demo_class, _demo_school, inbox_card, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium]

#: The names of the browser's caches and the paths of everything in them.
KEPT = """async () => {
  const names = await caches.keys(), urls = [];
  for (const name of names) {
    for (const request of await (await caches.open(name)).keys()) { urls.push(new URL(request.url).pathname); }
  }
  return {names, urls};
}"""


def test_street_law_offline_then_an_anonymous_request(open_context: Callable[..., Any], live_server: LiveServer,
                                                      artifacts: Path) -> None:
    live = live_server
    with live.app.app_context():
        school_id, class_id = _demo_school().id, _demo_class("7А").id
    context = open_context(**PHONE)
    pupil = context.new_page()

    # One visit online: the service worker keeps the Kazakh pages.
    pupil.goto("/street-law/kk/")
    expect(pupil.locator("html")).to_have_attribute("data-offline-ready", "kk", timeout=15000)
    expect(pupil.locator("[data-offline-status]")).to_be_visible()
    expect(pupil.get_by_role("link", name="Тез шығу")).to_be_visible()
    problems = check_page(pupil, artifacts, "street-law-home", "kk")

    # Offline: the same pages open, and their links work.
    context.set_offline(True)
    pupil.reload()
    expect(pupil.locator("h1")).to_contain_text("Көше құқығы")
    pupil.get_by_role("link", name="Сенің жасыңдағы құқықтарың").click()
    expect(pupil).to_have_url(re.compile(r"/street-law/kk/rights$"))
    expect(pupil.locator("main")).to_contain_text("Еңбек кодексі, 31-бап")
    expect(pupil.locator('main a[href="tel:150"]').first).to_be_visible()
    problems += check_page(pupil, artifacts, "street-law-rights", "kk")
    pupil.get_by_role("link", name="«Көше құқығының» барлық тақырыптары").click()
    pupil.get_by_role("link", name="Көмек қалай сұрауға болады").click()
    expect(pupil.locator("h1")).to_contain_text("Көмек қалай сұрауға болады")
    # A language not visited yet: the offline page with the help lines, not the browser's error.
    pupil.goto("/street-law/ru/bullied")
    expect(pupil.locator("h1")).to_contain_text("Сейчас нет интернета")
    expect(pupil.locator('#helplines a[href="tel:112"]')).to_be_visible()
    problems += check_page(pupil, artifacts, "street-law-offline", "ru")

    # Back online: "ask for help" from the Street Law page, without a name.
    context.set_offline(False)
    pupil.goto("/street-law/kk/ask-for-help")
    pupil.get_by_role("link", name="Мектеп психологына жазу").click()
    expect(pupil).to_have_url(re.compile(r"/help/ask"))
    expect(pupil.locator("[data-quick-exit]")).to_be_visible()
    pupil.locator('select[name="school"]').select_option(str(school_id))
    pupil.locator("main form button[type=submit]").tap()
    pupil.locator('select[name="class_id"]').select_option(str(class_id))
    pupil.locator('textarea[name="message"]').fill("Маған интернетте жазып қорқытады #street-law-offline")
    pupil.locator("main form button[type=submit]").tap()
    expect(pupil).to_have_url(re.compile(r"/help/sent"))

    # The phone kept Street Law pages and static files, in one versioned cache, and nothing else.
    kept = pupil.evaluate(KEPT)
    assert len(kept["names"]) == 1 and kept["names"][0].startswith("senim-street-law-"), kept["names"]
    assert "/street-law/kk/rights" in kept["urls"] and "/street-law/ru/offline" in kept["urls"]
    assert all(url.startswith(("/street-law/", "/static/")) for url in kept["urls"]), kept["urls"]

    card = inbox_card(open_context(**PHONE).new_page(), live, "#street-law-offline")
    expect(card).to_contain_text("Anonymous pupil")
    expect(card).to_contain_text("7А")
    assert not problems, "axe:\n" + "\n".join(problems)


@pytest.fixture
def neutral_site(live_server: LiveServer) -> Iterator[str]:
    """The quick exit leads to this server's health check instead of a real neutral site (no request may leave
    127.0.0.1 in a browser test)."""
    url, before = f"{live_server.url}/healthz", live_server.app.config["SENIM_QUICK_EXIT_URL"]
    live_server.app.config["SENIM_QUICK_EXIT_URL"] = url
    try:
        yield url
    finally:
        live_server.app.config["SENIM_QUICK_EXIT_URL"] = before


def test_quick_exit_leaves_and_back_does_not_return(open_context: Callable[..., Any], neutral_site: str) -> None:
    page = open_context(**PHONE).new_page()
    page.goto("/street-law/en/")
    page.get_by_role("link", name="If you are hurt at home").click()
    expect(page).to_have_url(re.compile(r"/street-law/en/hurt-at-home$"))
    page.get_by_role("link", name="Quick exit").tap()
    expect(page).to_have_url(neutral_site)


def test_quick_exit_tapped_while_the_page_is_still_loading(open_context: Callable[..., Any],
                                                           neutral_site: str) -> None:
    """A child in a hurry taps the button before the page has finished loading: the page is still replaced in
    the history, not pushed. The script is held back here; if the button can be tapped before the script has
    run (a deferred script would allow it), it is tapped then, and Back must still not bring the page back."""
    page = open_context(**PHONE, service_workers="block").new_page()
    page.goto("/street-law/en/")
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.route(re.compile(r"/static/js/quick-exit\.js"), hold)
    page.get_by_role("link", name="If you are hurt at home").click(no_wait_after=True)
    page.wait_for_timeout(800)
    button = page.get_by_role("link", name="Quick exit")
    tapped_early = button.is_visible()
    if tapped_early:
        button.tap(no_wait_after=True)
    assert held, "the page did not ask for the quick-exit script"
    for route in held:
        route.continue_()
    page.unroute(re.compile(r"/static/js/quick-exit\.js"), hold)
    if not tapped_early:
        button.tap()
    expect(page).to_have_url(neutral_site)
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"hurt-at-home"))
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"hurt-at-home"))

    # With the keyboard: Esc twice.
    page.goto("/street-law/en/cyberbullied")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(page).to_have_url(neutral_site)
