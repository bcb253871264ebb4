"""The local Kundelik (kundelik_local) on 127.0.0.1, and Senim's test app pointed at it for one test."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.core.demo_people import DEMO_PASSWORD
from kundelik_local import LocalKundelik, Running, running

CALLBACK = "http://localhost/login/kundelik/callback"  # SENIM_BASE_URL of the tests + the callback path


@pytest.fixture
def kundelik(app_ctx: Flask) -> Iterator[Running]:
    """A fresh local Kundelik with the demo's people; Senim's Kundelik settings point at it during the test."""
    local = LocalKundelik("senim-test", "test-client-secret-value", (CALLBACK,))
    with running(local) as server:
        settings = {**server.senim_config(), "SENIM_KUNDELIK_PKCE": False}
        saved = {key: app_ctx.config.get(key) for key in settings}
        app_ctx.config.update(settings)
        try:
            yield server
        finally:
            app_ctx.config.update(saved)


@pytest.fixture
def en(client: FlaskClient) -> FlaskClient:
    """The test client, reading Senim in English."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def consent(authorize_url: str, login: str, *, decision: str = "grant", password: str = DEMO_PASSWORD) -> str:
    """Play the person on Kundelik's consent page; return the address Kundelik sends the browser back to."""
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200
    answer = requests.post(authorize_url, data={"login": login, "password": password, "decision": decision},
                           allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def sign_in_with_kundelik(client: FlaskClient, login: str, *, decision: str = "grant", next_page: str | None = None,
                          language: str | None = None) -> TestResponse:
    """The whole flow through the browser's eyes: Senim -> Kundelik's consent page -> Senim's callback."""
    headers = {"Accept-Language": language} if language else {}
    start = client.get("/login/kundelik" + (f"?next={next_page}" if next_page else ""), headers=headers)
    assert start.status_code == 302
    back = consent(start.headers["Location"], login, decision=decision)
    assert back.startswith(CALLBACK)
    return client.get(path_of(back), headers=headers)
