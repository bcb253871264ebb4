"""Senim inside a frame of another site (issue 12 item 5), in real Chromium.

A small parent page is served from ``http://localhost:PORT``, the app from ``http://127.0.0.1:PORT``: two
different sites, as Kundelik and Senim are, so the browser applies its cross-site rules to the frame
(SameSite, cookie partitioning). Chromium treats both loopback hosts as secure contexts, so it stores the
frame's ``Secure; Partitioned`` cookie over plain HTTP just as it would over HTTPS.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.auth.roles import Role
from tests.browser.checks import assert_fits
from tests.browser.pages import LiveServer, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium]

FRAME = "iframe[name=senim]"


class ParentSite:
    """The stand-in for Kundelik: one page that frames ``src`` (a path on the live server)."""

    def __init__(self, live: LiveServer) -> None:
        self.live = live

        @Request.application
        def parent(request: Request) -> Response:
            src = live.url + (request.args.get("src") or "/login")
            return Response(
                "<!doctype html><html lang='en'><head><title>Kundelik</title>"
                "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
                "<body><h1>Kundelik</h1>"
                f"<iframe name='senim' title='Senim' src='{src}' width='100%' height='800'></iframe></body></html>",
                mimetype="text/html")

        self._server = make_server("127.0.0.1", 0, parent, threaded=True)
        self.url = f"http://localhost:{self._server.server_port}"  # "localhost": another site than 127.0.0.1
        self._thread = threading.Thread(target=self._server.serve_forever, name="parent-site", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


@pytest.fixture(scope="module")
def parent_site(live_server: LiveServer) -> Iterator[ParentSite]:
    site = ParentSite(live_server)
    yield site
    site.close()


@pytest.fixture
def embedding(live_server: LiveServer, parent_site: ParentSite) -> Iterator[None]:
    """The live server lets the parent site frame it (as SENIM_FRAME_ANCESTORS=http://localhost:PORT would)."""
    config = live_server.app.config
    before = config["SENIM_FRAME_ANCESTORS"]
    config["SENIM_FRAME_ANCESTORS"] = parent_site.url
    yield
    config["SENIM_FRAME_ANCESTORS"] = before


@pytest.fixture
def parent_page(browser: Any, live_server: LiveServer, parent_site: ParentSite) -> Iterator[Callable[..., Any]]:
    """Pages of fresh contexts; every request goes to the live server or the parent site, nowhere else."""
    contexts: list[Any] = []
    requested: list[str] = []

    def _open(width: int = 1280) -> Any:
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.on("request", lambda req: requested.append(req.url))
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()
    allowed = {urlsplit(live_server.url).netloc, urlsplit(parent_site.url).netloc}
    foreign = [u for u in requested if urlsplit(u).scheme not in ("data", "blob", "about")
               and urlsplit(u).netloc not in allowed]
    assert not foreign, f"requests left the two test sites: {foreign}"


def _sign_in_inside(page: Any, live: LiveServer, frame: Any, role: Role) -> Any:
    account = live.create_account(role, language="en")
    frame.locator("#username").fill(account.username)
    frame.locator("#password").fill(account.password)
    frame.get_by_role("button", name="Sign in").click()
    if account.totp_secret:
        expect(frame.locator("#code")).to_be_visible()
        frame.locator("#code").fill(live.totp_code(account))
        frame.locator("main form button[type=submit]").click()
    return account


@pytest.mark.usefixtures("embedding")
@pytest.mark.parametrize("role", [Role.PSYCHOLOGIST, Role.CLASS_TEACHER])
def test_sign_in_inside_a_frame_of_another_site(parent_page: Callable[..., Any], live_server: LiveServer,
                                                parent_site: ParentSite, role: Role) -> None:
    page = parent_page()
    page.goto(parent_site.url + "/")
    frame = page.frame_locator(FRAME)
    expect(frame.locator("h1")).to_have_text(re.compile("Senim"))

    account = _sign_in_inside(page, live_server, frame, role)

    expect(frame.locator("h1")).to_contain_text(account.name)  # the home page, signed in, inside the frame
    expect(frame.locator(".user-menu__name")).to_have_text(account.name)
    cookies = {c["name"]: c for c in page.context.cookies(live_server.url)}
    frame_cookie = cookies[live_server.app.config["SENIM_FRAME_SESSION_COOKIE_NAME"]]
    assert frame_cookie["sameSite"] == "None" and frame_cookie["secure"] and frame_cookie["httpOnly"]
    assert frame_cookie.get("partitionKey") == "http://localhost", "the frame's cookie is partitioned by the parent"
    assert live_server.app.config["SESSION_COOKIE_NAME"] not in cookies
    if role is Role.PSYCHOLOGIST:  # the session holds from page to page inside the frame
        frame.get_by_role("link", name="Pupils").first.click()
        expect(frame.locator("h1")).to_have_text("Pupils")
    # A never-framed page (the password change) is offered in a window of its own, not shown in the frame.
    frame.get_by_role("link", name="My account").first.click()
    expect(frame.get_by_role("link", name="Open in a new window")).to_have_attribute("href", "/account")
    expect(frame.locator("#pw-current_password")).to_have_count(0)

    # Senim opened on its own in the same browser: the frame's session does not follow (its own sign-in).
    standalone = page.context.new_page()
    standalone.goto(live_server.url + "/")
    expect(standalone).to_have_url(re.compile(r"/login"))


@pytest.mark.usefixtures("embedding")
def test_the_lax_cookie_alone_would_not_work_in_the_frame(parent_page: Callable[..., Any], live_server: LiveServer,
                                                          parent_site: ParentSite) -> None:
    """Why the frame needs its own cookie: a session started at top level is not sent into the frame."""
    page = parent_page()
    account = live_server.create_account(Role.CLASS_TEACHER, language="en")
    page.goto(live_server.url + "/login")
    page.locator("#username").fill(account.username)
    page.locator("#password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_contain_text(account.name)

    page.goto(parent_site.url + "/?src=/")
    frame = page.frame_locator(FRAME)
    expect(frame.locator("#username")).to_be_visible()  # signed out inside the frame
    expect(frame.get_by_role("link", name="Open Senim in a new window")).to_have_attribute("target", "_blank")


@pytest.mark.usefixtures("embedding")
def test_a_never_framed_page_offers_its_own_window(parent_page: Callable[..., Any], live_server: LiveServer,
                                                   parent_site: ParentSite, artifacts: Any) -> None:
    page = parent_page(width=390)
    page.goto(parent_site.url + "/?src=/admin/staff")
    frame = page.frame_locator(FRAME)
    link = frame.get_by_role("link", name="Open in a new window")
    expect(link).to_have_attribute("href", "/admin/staff")
    expect(link).to_have_attribute("target", "_blank")
    inner = page.frame(name="senim")
    assert_fits(inner, "open-in-own-window notice (390 px)")
    from axe_playwright_python.sync_playwright import Axe

    blocking = [v["id"] for v in Axe().run(inner).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not blocking, blocking


def test_without_frame_ancestors_the_frame_is_blocked(parent_page: Callable[..., Any], live_server: LiveServer,
                                                      parent_site: ParentSite) -> None:
    assert live_server.app.config["SENIM_FRAME_ANCESTORS"] == "'none'"
    page = parent_page()
    responses: list[Any] = []
    page.on("response", lambda r: responses.append(r) if r.url.startswith(live_server.url) else None)
    page.goto(parent_site.url + "/")
    expect(page.locator("h1")).to_have_text("Kundelik")
    page.wait_for_load_state("load")

    login = next(r for r in responses if urlsplit(r.url).path == "/login")
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    frame = page.frame(name="senim")
    assert frame is not None
    assert not frame.url.startswith(live_server.url), f"the frame shows {frame.url}"
    assert page.frame_locator(FRAME).locator("#username").count() == 0
