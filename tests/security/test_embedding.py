"""Embedding in Kundelik (issue 12 item 5): framing headers per configuration, the partitioned session cookie of
the frame, pages that are never framed, and the start-up checks of SENIM_FRAME_ANCESTORS."""

from __future__ import annotations

import secrets

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.auth.stepup import step_up_age
from app.core import framing
from app.core.crypto import generate_key_b64
from app.core.startup import ConfigurationError
from tests.factories import csrf_token, login, post
from tests.screening.workflow_support import campaign, session_with_code

KUNDELIK = "https://kundelik.kz https://*.kundelik.kz"
#: What Chromium sends with a navigation inside an iframe, and with a top-level one.
IN_FRAME = {"HTTP_SEC_FETCH_DEST": "iframe", "HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_SEC_FETCH_MODE": "navigate"}
TOP_LEVEL = {"HTTP_SEC_FETCH_DEST": "document", "HTTP_SEC_FETCH_SITE": "none", "HTTP_SEC_FETCH_MODE": "navigate"}


def _client(app: Flask, environ: dict[str, str]) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update(environ)
    return client


def _frame_ancestors(response: TestResponse) -> str:
    directives = dict(d.strip().split(" ", 1) for d in response.headers["Content-Security-Policy"].split(";"))
    return directives["frame-ancestors"]


def _set_cookies(response: TestResponse) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


@pytest.fixture
def embedded(make_app) -> Flask:
    return make_app(SENIM_FRAME_ANCESTORS=KUNDELIK)


# --- configuration ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    (None, ()), ("", ()), ("'none'", ()), ("  'none' ", ()),
    ("https://kundelik.kz", ("https://kundelik.kz",)),
    ("https://kundelik.kz, https://*.kundelik.kz/", ("https://kundelik.kz", "https://*.kundelik.kz")),
    (["https://kundelik.kz", "'self'"], ("https://kundelik.kz", "'self'")),
    ("http://localhost:8001 https://KUNDELIK.kz https://kundelik.kz", ("http://localhost:8001", "https://kundelik.kz")),
])
def test_frame_ancestors_are_parsed(value, expected) -> None:
    assert framing.parse_ancestors(value, production=False) == expected


@pytest.mark.parametrize("value", [
    "'none' https://kundelik.kz", "*", "https:", "kundelik.kz", "https://kundelik.kz/school",
    "https://kundelik.kz?x=1", "javascript:alert(1)", "https://kundelik.kz;script-src *",
])
def test_a_malformed_frame_ancestor_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="SENIM_FRAME_ANCESTORS"):
        framing.parse_ancestors(value, production=False)


def test_a_malformed_frame_ancestor_stops_the_start(make_app) -> None:
    with pytest.raises(ConfigurationError, match="SENIM_FRAME_ANCESTORS"):
        make_app(SENIM_FRAME_ANCESTORS="https://kundelik.kz; script-src *")


def _production(env: pytest.MonkeyPatch, database_url: str, ancestors: str) -> None:
    env.setenv("SECRET_KEY", secrets.token_urlsafe(48))
    env.setenv("DATABASE_URL", database_url)
    env.setenv("SENIM_ENCRYPTION_KEYS", f"prod1:{generate_key_b64()}")
    env.setenv("SENIM_BLIND_INDEX_KEY", f"bidx1:{generate_key_b64()}")
    env.setenv("SENIM_BASE_URL", "https://senim.example")
    env.setenv("SENIM_FRAME_ANCESTORS", ancestors)


@pytest.mark.parametrize("ancestors", ["http://kundelik.kz", "https://kundelik.kz http://school.kundelik.kz"])
def test_production_refuses_a_plain_http_ancestor(clean_env, make_app, app: Flask, ancestors: str) -> None:
    _production(clean_env, app.config["SQLALCHEMY_DATABASE_URI"], ancestors)
    with pytest.raises(ConfigurationError, match="https:// in production"):
        make_app("production")


def test_production_embedded_uses_a_host_prefixed_partitioned_cookie(clean_env, make_app, app: Flask) -> None:
    _production(clean_env, app.config["SQLALCHEMY_DATABASE_URI"], KUNDELIK)
    production = make_app("production")
    client = _client(production, IN_FRAME)
    response = client.get("/login", base_url="https://senim.example")
    assert _frame_ancestors(response) == KUNDELIK
    cookie = _set_cookies(response)["__Host-senim-frame"]
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned", "Path=/"):
        assert attribute in cookie
    assert "Domain" not in cookie
    standalone = _client(production, TOP_LEVEL).get("/login", base_url="https://senim.example")
    assert set(_set_cookies(standalone)) == {"__Host-senim"}
    assert "SameSite=Lax" in _set_cookies(standalone)["__Host-senim"]


# --- headers --------------------------------------------------------------------------------------------------


def test_not_embeddable_by_default(app: Flask) -> None:
    for environ in (TOP_LEVEL, IN_FRAME):
        response = _client(app, environ).get("/login")
        assert _frame_ancestors(response) == "'none'"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_embedded_lists_exactly_the_configured_origins(embedded: Flask) -> None:
    for environ in (TOP_LEVEL, IN_FRAME):
        response = _client(embedded, environ).get("/login")
        assert _frame_ancestors(response) == KUNDELIK
        assert "X-Frame-Options" not in response.headers


@pytest.mark.parametrize("path", ["/admin/staff", "/admin/audit", "/admin/help-services", "/reauth", "/account",
                                  "/reports/export.csv"])
def test_never_framed_pages_forbid_framing_even_when_embedding(embedded: Flask, world, path: str) -> None:
    client = _client(embedded, TOP_LEVEL)
    login(client, world.admin if path.startswith("/admin") else world.psy1)
    response = client.get(path)
    assert _frame_ancestors(response) == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_every_step_up_and_admin_page_is_top_level_only(embedded: Flask) -> None:
    for rule in embedded.url_map.iter_rules():
        view = embedded.view_functions[rule.endpoint]
        if step_up_age(view) or rule.rule.startswith("/admin/"):
            assert getattr(view, "senim_top_level_only", False) or rule.rule.startswith(framing.TOP_LEVEL_PATH_PREFIXES)
    for endpoint in ("monitoring.emergency_access", "monitoring.emergency_reviews", "auth.reauth", "auth.account"):
        assert getattr(embedded.view_functions[endpoint], "senim_top_level_only", False), endpoint
    for endpoint in ("auth.login", "auth.mfa_verify", "auth.mfa_enroll", "screening.enter_code", "core.index"):
        assert not getattr(embedded.view_functions[endpoint], "senim_top_level_only", False), endpoint


def test_a_never_framed_page_asked_for_in_the_frame_links_to_its_own_window(embedded: Flask, world) -> None:
    client = _client(embedded, IN_FRAME)
    login(client, world.admin)
    response = client.get("/admin/staff?page=2")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="/admin/staff?page=2" target="_blank" rel="noopener"' in body
    assert _frame_ancestors(response) == KUNDELIK  # the notice itself shows in the frame; the page never does
    assert "X-Frame-Options" not in response.headers
    assert world.t7a.username not in body  # no staff list in the frame


# --- the session inside the frame ---------------------------------------------------------------------------------


def test_standalone_cookie_is_unchanged_when_embedding(embedded: Flask) -> None:
    for environ in (TOP_LEVEL, {}):  # a browser without Fetch Metadata is treated as top level
        cookies = _set_cookies(_client(embedded, environ).get("/login"))
        assert set(cookies) == {"senim_session"}
        assert "SameSite=Lax" in cookies["senim_session"] and "Partitioned" not in cookies["senim_session"]


def test_frame_requests_get_the_partitioned_cookie(embedded: Flask) -> None:
    cookies = _set_cookies(_client(embedded, IN_FRAME).get("/login"))
    assert set(cookies) == {"senim_frame"}
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned", "Path=/"):
        assert attribute in cookies["senim_frame"]


def test_without_embedding_a_frame_request_keeps_the_lax_cookie(app: Flask) -> None:
    assert set(_set_cookies(_client(app, IN_FRAME).get("/login"))) == {"senim_session"}


def test_sign_in_inside_the_frame_stays_inside_the_frame(embedded: Flask, world) -> None:
    client = _client(embedded, IN_FRAME)
    response = login(client, world.psy1)  # password, then the second factor, all in the frame
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200 and world.psy1.display_name in home.get_data(as_text=True)
    # The same cookie jar at top level: the partitioned cookie does not sign anyone in there.
    client.environ_base.update(TOP_LEVEL)
    client.delete_cookie("senim_session")
    assert client.get("/").status_code == 302


def test_a_script_request_from_the_frame_follows_the_cookie_sent(embedded: Flask, world) -> None:
    client = _client(embedded, IN_FRAME)
    login(client, world.psy1)
    client.environ_base.update({"HTTP_SEC_FETCH_DEST": "empty", "HTTP_SEC_FETCH_MODE": "cors"})
    assert client.get("/").status_code == 200


def test_a_cross_site_post_into_the_frame_is_refused(embedded: Flask, world) -> None:
    client = _client(embedded, IN_FRAME)
    login(client, world.t7a)
    token = csrf_token(client, "/")
    client.environ_base["HTTP_SEC_FETCH_SITE"] = "cross-site"
    assert client.post("/logout", data={"csrf_token": token}).status_code == 403
    client.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    assert client.get("/").status_code == 200, "the refused post did not sign out"
    assert post(client, "/logout", form_page="/").status_code == 302


def test_csrf_tokens_still_guard_the_frame(embedded: Flask, world) -> None:
    client = _client(embedded, IN_FRAME)
    login(client, world.t7a)
    assert client.post("/logout", data={}).status_code == 400
    assert client.get("/").status_code == 200


def test_the_embedded_sign_in_page_offers_its_own_window(embedded: Flask) -> None:
    framed = _client(embedded, IN_FRAME).get("/login").get_data(as_text=True)
    assert 'href="/login" target="_blank" rel="noopener"' in framed
    standalone = _client(embedded, TOP_LEVEL).get("/login").get_data(as_text=True)
    assert 'target="_blank"' not in standalone


def test_a_pupil_answers_with_a_code_inside_the_frame(embedded: Flask, world) -> None:
    session_with_code(campaign(world.psy1, world.s1, [world.c7a]), world.p1, code="FRAM-2345", language="en")
    client = _client(embedded, IN_FRAME)
    response = post(client, "/s", {"code": "FRAM-2345"})
    assert response.status_code == 302 and response.headers["Location"].endswith(("/s/language", "/s/q"))
    assert set(_set_cookies(response)) == {"senim_frame"}
    question = client.get("/s/q", follow_redirects=True)
    assert question.status_code == 200 and 'name="answer' in question.get_data(as_text=True)
