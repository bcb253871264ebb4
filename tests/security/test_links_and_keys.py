"""Issue 9, cases 1 and 4: absolute links come from the configured address; published keys are refused."""

from __future__ import annotations

import base64
import re
import secrets
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.core.crypto import KeyConfigError, decode_key_b64, generate_key_b64
from app.core.mail import OutboxMessage
from app.core.startup import ConfigurationError
from app.extensions import db
from config import PUBLISHED_SECRETS
from tests.factories import login, post
from tests.screening.workflow_support import campaign, consent

REPOSITORY = Path(__file__).resolve().parents[2]


def _production_env(env: pytest.MonkeyPatch, database_url: str, **extra: str) -> None:
    values = {"SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": database_url,
              "SENIM_ENCRYPTION_KEYS": f"prod1:{generate_key_b64()}",
              "SENIM_BLIND_INDEX_KEY": f"bidx1:{generate_key_b64()}",
              "SENIM_BASE_URL": "https://senim.example.kz"}
    values.update(extra)
    for name, value in values.items():
        if value:
            env.setenv(name, value)
        else:
            env.delenv(name, raising=False)


# --- case 1: links in mail and on code cards ------------------------------------------------------------


def test_production_refuses_to_start_without_a_base_url(clean_env, make_app, app: Flask) -> None:
    _production_env(clean_env, app.config["SQLALCHEMY_DATABASE_URI"], SENIM_BASE_URL="",
                    SENIM_TRUSTED_HOSTS="senim.example.kz")
    with pytest.raises(ConfigurationError, match="SENIM_BASE_URL"):
        make_app("production")


@pytest.mark.parametrize("value", ["http://senim.example.kz", "senim.example.kz", "https://senim.example.kz/?a=1"])
def test_production_refuses_a_base_url_that_is_not_https(clean_env, make_app, app: Flask, value: str) -> None:
    _production_env(clean_env, app.config["SQLALCHEMY_DATABASE_URI"], SENIM_BASE_URL=value)
    with pytest.raises(ConfigurationError, match="SENIM_BASE_URL"):
        make_app("production")


def test_production_answers_only_its_own_host_when_no_trusted_hosts_are_given(clean_env, make_app,
                                                                              app: Flask) -> None:
    _production_env(clean_env, app.config["SQLALCHEMY_DATABASE_URI"])
    production = make_app("production")
    client = production.test_client()
    assert client.get("/login", base_url="https://senim.example.kz").status_code == 200
    assert client.get("/login", headers={"Host": "attacker.example"},
                      base_url="https://senim.example.kz").status_code == 400


def _reset_mail_body(client, world) -> str:
    world.t7a.email = "t7a@school.example"
    db.session.commit()
    response = post(client, "/password/forgot", {"identifier": "t7a"})
    assert response.status_code in (200, 302)
    db.session.expire_all()
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    return message.body


def test_reset_link_ignores_the_host_header(app_ctx, world, monkeypatch) -> None:
    monkeypatch.setitem(app_ctx.config, "SENIM_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app_ctx.config, "SENIM_BASE_URL", "https://senim.example.kz")
    client = app_ctx.test_client()
    client.environ_base["HTTP_HOST"] = "attacker.example"
    body = _reset_mail_body(client, world)
    links = re.findall(r"https?://[^\s/]+", body)
    assert links and set(links) == {"https://senim.example.kz"}, body
    assert "attacker.example" not in body


def test_code_cards_print_the_configured_address(app_ctx, world, monkeypatch) -> None:
    monkeypatch.setitem(app_ctx.config, "SENIM_BASE_URL", "https://senim.example.kz")
    consent(world.p1)
    camp = campaign(world.psy1, world.s1, [world.c7a])
    client = app_ctx.test_client()
    client.environ_base["HTTP_HOST"] = "attacker.example"
    login(client, world.psy1)
    detail = f"/screening/campaigns/{camp.uuid}"
    page = post(client, detail + "/codes", {"pupils": [world.p1.uuid]}, form_page=detail)
    if page.status_code == 302:  # the cards are kept server-side and shown on their own page
        page = client.get(page.headers["Location"])
    body = page.get_data(as_text=True)
    assert "https://senim.example.kz/s" in body
    assert "attacker.example" not in body


# --- case 4: keys published in the repository -----------------------------------------------------------


def _published_key_texts() -> list[str]:
    return [spec.partition(":")[2] for spec in PUBLISHED_SECRETS if ":" in spec]


@pytest.mark.parametrize("setting", ["SENIM_ENCRYPTION_KEYS", "SENIM_BLIND_INDEX_KEY"])
@pytest.mark.parametrize("published", _published_key_texts())
def test_production_refuses_a_published_key_under_a_new_id(clean_env, make_app, app: Flask, setting: str,
                                                           published: str) -> None:
    raw = decode_key_b64(published)
    # The same bytes in the other base64 alphabet and without padding are the same key.
    disguised = base64.b64encode(raw).decode().rstrip("=")
    value = (f"prod9:{disguised}" if setting == "SENIM_BLIND_INDEX_KEY"
             else f"prod9:{generate_key_b64()},old:{disguised}")
    _production_env(clean_env, app.config["SQLALCHEMY_DATABASE_URI"], **{setting: value})
    with pytest.raises(ConfigurationError, match=setting):
        make_app("production")


@pytest.mark.parametrize("secret", [
    "insecure-development-secret-key",
    "insecure-development-secret-key-but-longer-than-32-characters",
    "INSECURE-DEVELOPMENT-SECRET-KEY-padded-to-32+chars",
    "c2VuaW0taW5zZWN1cmUtZGV2ZWxvcG1lbnQta2V5MDE=",
])
def test_production_refuses_the_development_secret_key(clean_env, make_app, app: Flask, secret: str) -> None:
    _production_env(clean_env, app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY=secret)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        make_app("production")


def test_production_starts_with_fresh_keys(clean_env, make_app, app: Flask) -> None:
    _production_env(clean_env, app.config["SQLALCHEMY_DATABASE_URI"])
    assert make_app("production").config["SENIM_BASE_URL"] == "https://senim.example.kz"


#: 32 bytes in base64 (43 characters and maybe "="), not inside a longer token or a "$"-separated hash.
_KEY_LIKE = re.compile(r"(?<![A-Za-z0-9_\-+/$])[A-Za-z0-9_\-+/]{43}=?(?![A-Za-z0-9_\-+/=$])")
_SECRET_ASSIGNMENT = re.compile(r"SECRET_KEY\s*=\s*[\"']([^\"']+)[\"']")
_TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".cfg", ".yaml", ".yml", ".json", ".ini", ".sh", ".html", ""}
_SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__", "instance", ".mypy_cache", ".ruff_cache",
              ".pytest_cache", ".hypothesis", "test-artifacts", "translations"}


def _repository_files():
    for path in REPOSITORY.rglob("*"):
        if any(part in _SKIP_DIRS for part in path.relative_to(REPOSITORY).parts):
            continue
        if path.is_file() and path.suffix in _TEXT_SUFFIXES and path.stat().st_size < 2_000_000:
            yield path


def test_every_key_written_in_the_repository_is_refused_in_production() -> None:
    """A key-like literal anywhere in the repository must be in config.PUBLISHED_SECRETS (so refused)."""
    published = {decode_key_b64(text) for text in _published_key_texts()}
    missing = []
    for path in _repository_files():
        text = path.read_text(encoding="utf-8", errors="ignore")
        for candidate in _KEY_LIKE.findall(text):
            try:
                raw = decode_key_b64(candidate)
            except KeyConfigError:  # not 32 bytes of base64: not a key
                continue
            random_looking = all(re.search(p, candidate) for p in ("[a-z]", "[A-Z]", "[0-9]"))
            if random_looking and raw not in published:
                missing.append(f"{path.relative_to(REPOSITORY)}: {candidate[:8]}…")
        for secret in _SECRET_ASSIGNMENT.findall(text):
            if secret not in PUBLISHED_SECRETS:
                missing.append(f"{path.relative_to(REPOSITORY)}: SECRET_KEY {secret[:8]}…")
    assert not missing, "key-like values not listed in config.PUBLISHED_SECRETS: " + ", ".join(missing)
