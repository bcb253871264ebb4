"""Browser fixtures: the real app served on 127.0.0.1 with the demo data, and headless Chromium.

Each pytest-xdist worker starts its own server on a free port, with its own SQLite file (the shared
``app`` fixture empties its database after every test, so the live server cannot share it), and one
browser. Every test gets fresh browser contexts; every request they make is recorded and must go to
127.0.0.1: the pages may load nothing from elsewhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from app.auth.roles import Role
from app.extensions import db
from tests.browser.pages import CHROMIUM, LiveServer, sign_in

#: Chromium flags: no sandbox (containers), and no traffic of the browser's own.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """The access log would only drown pytest's output."""


def _buffered(app: Any) -> Any:
    """Read each response in full before sending it.

    When the browser drops a connection mid-response (a context closing while a stylesheet loads),
    werkzeug's server can skip closing the response, leaving a static file open: a ResourceWarning,
    which ``filterwarnings = error`` turns into an error in whichever test runs next.
    """

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            if hasattr(iterable, "close"):
                iterable.close()

    return wsgi


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app, migrated and seeded with the demo data, served from a background thread."""
    from flask_migrate import upgrade

    from app.core import demo

    database = tmp_path_factory.mktemp("live") / "senim-live.db"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        demo.create()
    server = make_server("127.0.0.1", 0, _buffered(app), threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["SENIM_BASE_URL"] = url  # links in mail and on code cards point at this server
    try:
        yield LiveServer(app=app, url=url)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium per worker (the system's, Playwright cannot download one here)."""
    if not CHROMIUM:
        pytest.skip("Chromium is not installed (no `chromium` on PATH)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _foreign(urls: list[str]) -> list[str]:
    """Requests to any host but the live server's (data: and blob: URLs never leave the page)."""
    return [u for u in urls if urlsplit(u).scheme not in ("data", "blob", "about")
            and urlsplit(u).hostname != "127.0.0.1"]


@pytest.fixture
def open_context(browser: Any, live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """Open browser contexts (new_context's options) whose requests are recorded and checked."""
    contexts: list[Any] = []
    requested: list[str] = []

    def _open(**options: Any) -> Any:
        context = browser.new_context(base_url=live_server.url, **options)
        context.on("request", lambda req: requested.append(req.url))
        contexts.append(context)
        return context

    yield _open
    for context in contexts:
        context.close()
    assert requested, "the test made no request at all"
    assert not _foreign(requested), f"requests left 127.0.0.1: {_foreign(requested)}"


@pytest.fixture
def page(open_context: Callable[..., Any]) -> Any:
    """A page in a fresh desktop context."""
    return open_context(viewport={"width": 1280, "height": 900}).new_page()


@pytest.fixture(scope="session")
def account_state(browser: Any, live_server: LiveServer) -> Callable[..., dict[str, Any]]:
    """Storage state of a new user of the demo school with ``role`` and language ``language``, signed in.

    ``account_state(role, language, **scope)``: the scope is LiveServer.create_account's. One sign-in per
    role, language, scope and worker, each by a user of its own (the demo users' TOTP codes are left to
    the sign-in tests: a code is accepted once only).
    """
    states: dict[tuple[Any, ...], dict[str, Any]] = {}

    def _state(role: Role, language: str, **scope: Any) -> dict[str, Any]:
        key = (role, language, *sorted(scope.items()))
        if key not in states:
            account = live_server.create_account(role, language=language, **scope)
            context = browser.new_context(base_url=live_server.url)
            requested: list[str] = []
            context.on("request", lambda req: requested.append(req.url))
            sign_in(context.new_page(), live_server, account)
            states[key] = context.storage_state()
            context.close()
            assert not _foreign(requested), f"requests left 127.0.0.1: {_foreign(requested)}"
        return states[key]

    return _state


@pytest.fixture(scope="session")
def staff_state(account_state: Callable[..., dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    """Storage state of a signed-in psychologist of the demo school whose language is ``language``."""
    return lambda language: account_state(Role.PSYCHOLOGIST, language)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/ (git-ignored): screenshots and axe reports."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
