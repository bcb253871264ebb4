"""B14 lockout and per-address throttling, B15 no enumeration, B17 hash parameters, B25 open redirect and XFF."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.auth.models import LoginFailure, User
from app.auth.passwords import PRODUCTION_PARAMS, make_hasher
from app.auth.roles import Role
from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from config import environment_overrides
from tests.factories import PASSWORD, csrf_token, make_user
from tests.security.helpers import audit_count, location_path, strip_values

ATTACKER = "203.0.113.7"
OTHER_ADDRESS = "198.51.100.20"


def _attempt(client: FlaskClient, username: str, password: str, *, ip: str, next_url: str = "") -> TestResponse:
    token = csrf_token(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "next": next_url,
                                       "csrf_token": token}, environ_overrides={"REMOTE_ADDR": ip})


def _failure_page(response: TestResponse, username: str) -> str:
    assert response.status_code == 200
    return strip_values(response.get_data(as_text=True)).replace(username, "<name>")


# --- B14 ---------------------------------------------------------------------------------------------


def test_one_address_is_throttled_across_many_accounts(app: Flask, world) -> None:
    accounts: list[User] = [make_user(Role.PARENT, username=f"parent-x{n}") for n in range(24)]
    db.session.commit()
    threshold = app.config["SENIM_IP_THROTTLE_THRESHOLD"]
    assert threshold // len(accounts) < app.config["SENIM_LOCKOUT_THRESHOLD"] - 1, "no account may lock itself"
    client = app.test_client()
    for n in range(threshold):
        account = accounts[n % len(accounts)]
        first = _attempt(client, account.username, "not the password at all", ip=ATTACKER)
        assert first.status_code == 200
    wrong = _failure_page(first, accounts[(threshold - 1) % len(accounts)].username)

    # The right password for an account never attacked is refused from that address, with the same page...
    throttled = _attempt(client, world.t7a.username, PASSWORD, ip=ATTACKER)
    assert _failure_page(throttled, world.t7a.username) == wrong
    assert location_path(client.get("/pupils")) == "/login"
    # ...and accepted from another address: the account itself is not locked.
    elsewhere = app.test_client()
    assert _attempt(elsewhere, world.t7a.username, PASSWORD, ip=OTHER_ADDRESS).status_code == 302
    assert audit_count(action=str(AuditAction.LOGIN_FAILED)) == threshold + 1


def test_account_lockout_even_with_the_right_password(app: Flask, world) -> None:
    client = app.test_client()
    limit = app.config["SENIM_LOCKOUT_THRESHOLD"]
    for n in range(limit):  # spread over addresses: the account key counts, not the address
        _attempt(client, world.psy1.username, "wrong password again", ip=f"192.0.2.{n + 1}")
    locked = _attempt(client, world.psy1.username, PASSWORD, ip="192.0.2.200")
    assert locked.status_code == 200
    assert audit_count(action=str(AuditAction.LOGIN_FAILED)) == limit + 1
    assert audit_count(action=str(AuditAction.LOCKOUT)) == 1


# --- B15 --------------------------------------------------------------------------------------------------


def test_unknown_and_known_names_fail_the_same_way(app: Flask, world) -> None:
    client = app.test_client()
    known = _attempt(client, world.psy1.username, "wrong password again", ip=ATTACKER)
    unknown = _attempt(client, "nobody-by-this-name", "wrong password again", ip=ATTACKER)
    disabled_user = make_user(Role.CLASS_TEACHER, school_class=world.c7a, username="gone-teacher")
    disabled_user.active = False
    db.session.commit()
    disabled = _attempt(client, "gone-teacher", PASSWORD, ip=ATTACKER)
    pages = {_failure_page(known, world.psy1.username), _failure_page(unknown, "nobody-by-this-name"),
             _failure_page(disabled, "gone-teacher")}
    assert len(pages) == 1


# --- B17 --------------------------------------------------------------------------------------------------


def test_production_hash_parameters() -> None:
    stored = make_hasher(**PRODUCTION_PARAMS).hash("жасыл алма терезе астында")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_configured_parameters_match_production(app: Flask) -> None:
    from config import BaseConfig, ProductionConfig

    assert ProductionConfig.SENIM_ARGON2 == BaseConfig.SENIM_ARGON2 == dict(PRODUCTION_PARAMS)


# --- B25: open redirect ---------------------------------------------------------------------------------


def test_next_never_leaves_the_site(app: Flask, world) -> None:
    for target in ("https://evil.example", "//evil.example", "/\\evil.example", "https:/evil.example",
                   "javascript:alert(1)"):
        client = app.test_client()
        page = client.get("/login", query_string={"next": target})
        assert page.status_code == 200
        response = _attempt(client, world.t7a.username, PASSWORD, ip=OTHER_ADDRESS, next_url=target)
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/", target


def test_a_local_next_is_honoured(app: Flask, world) -> None:
    client = app.test_client()
    response = _attempt(client, world.t7a.username, PASSWORD, ip=OTHER_ADDRESS, next_url="/pupils?class_id=1")
    assert response.headers["Location"] == "/pupils?class_id=1"


# --- B25: X-Forwarded-For ----------------------------------------------------------------------------------

SPOOFED = "1.2.3.4"


def _failed_with_forwarded_for(application: Flask, username: str) -> None:
    client = application.test_client()
    token = csrf_token(client, "/login")
    client.post("/login", data={"username": username, "password": "not the password at all", "csrf_token": token},
                headers={"X-Forwarded-For": SPOOFED}, environ_overrides={"REMOTE_ADDR": ATTACKER})


def _recorded_addresses() -> tuple[set[str], set[str | None]]:
    """The addresses the throttle counts (LoginFailure.ip) and the audit trail records."""
    db.session.rollback()  # see the other app instance's commits
    throttle = set(db.session.execute(select(LoginFailure.ip)).scalars())
    audited = set(db.session.execute(
        select(AuditEntry.ip).where(AuditEntry.action == str(AuditAction.LOGIN_FAILED))).scalars())
    return throttle, audited


def test_forwarded_for_from_a_client_is_ignored(app: Flask, world) -> None:
    assert not app.config.get("SENIM_BEHIND_PROXY")
    _failed_with_forwarded_for(app, world.t7a.username)
    assert _recorded_addresses() == ({ATTACKER}, {ATTACKER})


def test_forwarded_for_counts_behind_the_configured_proxy(make_app, app: Flask, world) -> None:
    proxied = make_app(SENIM_BEHIND_PROXY=True)
    _failed_with_forwarded_for(proxied, world.t7a.username)
    assert _recorded_addresses() == ({SPOOFED}, {SPOOFED})


def test_behind_proxy_is_read_from_the_environment_in_production(monkeypatch) -> None:
    monkeypatch.setenv("SENIM_BEHIND_PROXY", "1")
    assert environment_overrides("production")["SENIM_BEHIND_PROXY"] is True
    monkeypatch.delenv("SENIM_BEHIND_PROXY")
    assert environment_overrides("production")["SENIM_BEHIND_PROXY"] is False
