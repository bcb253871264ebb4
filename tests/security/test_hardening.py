"""G42/G43 production hardening and headers, B23 cookies, B24/B25 methods and Host, C29 oversized input, error pages."""

from __future__ import annotations

import base64
import re
import secrets

import pytest
from flask import Flask, abort
from sqlalchemy.exc import OperationalError

from app.core import audit
from app.core.crypto import generate_key_b64
from app.core.startup import ConfigurationError
from tests.factories import post
from tests.security.helpers import signed_in

LANGUAGES = ("kk", "ru", "en")
_TRACEBACK = re.compile(r"Traceback|File \"|\.py\"|line \d+|sqlalchemy|werkzeug", re.IGNORECASE)


def _production_env(env: pytest.MonkeyPatch, database_url: str, **extra: str) -> None:
    env.setenv("SECRET_KEY", secrets.token_urlsafe(48))
    env.setenv("DATABASE_URL", database_url)
    env.setenv("SENIM_ENCRYPTION_KEYS", f"prod1:{generate_key_b64()}")
    env.setenv("SENIM_BLIND_INDEX_KEY", f"bidx1:{generate_key_b64()}")
    env.setenv("SENIM_BASE_URL", "https://senim.example")
    for name, value in extra.items():
        env.setenv(name, value)


# --- G43: headers -------------------------------------------------------------------------------------


def test_frame_ancestors_follows_the_configuration(make_app) -> None:
    embedded = make_app(SENIM_FRAME_ANCESTORS="https://kundelik.kz")
    response = embedded.test_client().get("/login")
    assert "frame-ancestors https://kundelik.kz" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers


def test_logout_clears_the_browser(app: Flask, world) -> None:
    client = signed_in(app, world.t7a)
    response = post(client, "/logout", form_page="/")
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


# --- G42 / B23: production ------------------------------------------------------------------------------


def test_production_refuses_to_start_without_its_secrets(clean_env, make_app) -> None:
    with pytest.raises(ConfigurationError) as refused:
        make_app("production")
    for name in ("SECRET_KEY", "DATABASE_URL", "SENIM_ENCRYPTION_KEYS", "SENIM_BLIND_INDEX_KEY"):
        assert name in str(refused.value)


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "SENIM_ENCRYPTION_KEYS"])
def test_production_names_the_one_missing_setting(clean_env, make_app, app: Flask, missing: str) -> None:
    _production_env(clean_env, app.config["SQLALCHEMY_DATABASE_URI"])
    clean_env.delenv(missing)
    with pytest.raises(ConfigurationError, match=missing):
        make_app("production")


def test_production_refuses_insecure_keys(clean_env, make_app, app: Flask) -> None:
    _production_env(clean_env, app.config["SQLALCHEMY_DATABASE_URI"],
                    SENIM_ENCRYPTION_KEYS=f"insecure-dev1:{generate_key_b64()}")
    with pytest.raises(ConfigurationError, match="SENIM_ENCRYPTION_KEYS"):
        make_app("production")


def test_production_refuses_the_local_kundelik_secret(clean_env, make_app, app: Flask) -> None:
    _production_env(clean_env, app.config["SQLALCHEMY_DATABASE_URI"], SENIM_KUNDELIK_CLIENT_ID="senim-local",
                    SENIM_KUNDELIK_CLIENT_SECRET="insecure-kundelik-local-secret")
    with pytest.raises(ConfigurationError, match="SENIM_KUNDELIK_CLIENT_SECRET"):
        make_app("production")


def test_production_refuses_a_16_byte_key(clean_env, make_app, app: Flask) -> None:
    short = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode()
    _production_env(clean_env, app.config["SQLALCHEMY_DATABASE_URI"], SENIM_ENCRYPTION_KEYS=f"prod1:{short}")
    with pytest.raises(ConfigurationError, match="32 bytes"):
        make_app("production")


@pytest.fixture
def production(clean_env, make_app, app: Flask) -> Flask:
    _production_env(clean_env, app.config["SQLALCHEMY_DATABASE_URI"], SENIM_TRUSTED_HOSTS="senim.example")
    instance = make_app("production")

    @instance.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals: SELECT * FROM pupils")

    return instance


def test_production_starts_with_secure_settings(production: Flask) -> None:
    assert production.config["DEBUG"] is False and production.debug is False
    assert production.config["SESSION_COOKIE_NAME"] == "__Host-senim"
    client = production.test_client()
    response = client.get("/login", base_url="https://senim.example")
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-senim=")
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    assert "Domain" not in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert client.get("/console", base_url="https://senim.example").status_code == 404


def test_production_error_page_has_a_reference_and_no_traceback(production: Flask) -> None:
    response = production.test_client().get("/boom", base_url="https://senim.example")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    request_id = response.headers["X-Request-Id"]
    assert request_id and request_id in body
    assert "secret internals" not in body and "SELECT" not in body
    assert not _TRACEBACK.search(body)


def test_untrusted_host_is_refused(production: Flask) -> None:
    client = production.test_client()
    assert client.get("/login", base_url="https://evil.example").status_code == 400
    assert client.get("/login", headers={"Host": "evil.example"}, base_url="https://senim.example").status_code == 400


# --- B24: methods ----------------------------------------------------------------------------------------


def test_state_changing_routes_refuse_get(app: Flask, world) -> None:
    client = signed_in(app, world.t7a)
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200, "GET /logout must not sign out"
    assert client.get("/language").status_code == 405
    assert client.open("/", method="TRACE").status_code == 405


# --- C29: oversized input ----------------------------------------------------------------------------------


def test_a_13_mb_post_is_refused_with_a_localised_page(app: Flask, world) -> None:
    client = app.test_client()
    response = client.post("/login", data={"username": "x" * (13 * 1024 * 1024)}, headers={"Accept-Language": "ru"})
    assert response.status_code == 413
    assert '<html lang="ru">' in response.get_data(as_text=True)


@pytest.mark.parametrize("multipart", [True, False])
def test_two_thousand_form_fields_are_refused(app: Flask, world, multipart: bool) -> None:
    fields = {f"field{n}": "x" for n in range(2000)}
    client = app.test_client()
    if multipart:
        response = client.post("/login", data=fields, content_type="multipart/form-data")
    else:
        response = client.post("/login", data=fields)
    assert response.status_code == 413


# --- error pages in every language -------------------------------------------------------------------------


def _error_responses(app: Flask, world, make_app, monkeypatch, language: str) -> dict[int, object]:
    headers = {"Accept-Language": language}
    teacher = signed_in(app, world.t7a)
    psychologist = signed_in(app, world.psy1)
    responses = {
        403: teacher.get("/admin/audit", headers=headers),
        404: teacher.get("/no-such-page", headers=headers),
        405: teacher.get("/logout", headers=headers),
        413: app.test_client().post("/login", data={f"f{n}": "x" for n in range(2000)}, headers=headers),
    }
    broken = make_app()

    @broken.route("/boom")
    def boom() -> str:
        abort(500)

    responses[500] = broken.test_client().get("/boom", headers=headers)
    with monkeypatch.context() as patch:
        patch.setattr(audit, "record", _refuse)
        responses[503] = psychologist.get(f"/pupils/{world.p1.uuid}", headers=headers)
    return responses


def _refuse(*args: object, **kwargs: object) -> None:
    raise OperationalError("INSERT", {}, Exception("down"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_error_pages_render_in_each_language(app: Flask, world, make_app, monkeypatch, language: str) -> None:
    for code, response in _error_responses(app, world, make_app, monkeypatch, language).items():
        assert response.status_code == code
        body = response.get_data(as_text=True)
        assert f'<html lang="{language}">' in body, code
        assert f"{code}" in body, code
        assert not _TRACEBACK.search(body), code


def test_error_pages_are_translated(app: Flask, world) -> None:
    headings = set()
    for language in LANGUAGES:
        body = app.test_client().get("/no-such-page", headers={"Accept-Language": language}).get_data(as_text=True)
        headings.add(re.search(r"<h1>(.*?)</h1>", body, re.DOTALL).group(1).strip())
    assert len(headings) == len(LANGUAGES), f"the 404 heading is not translated: {headings}"
