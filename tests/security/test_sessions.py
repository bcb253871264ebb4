"""B18-B21: session fixation, idle and absolute timeouts, sessions that die with credentials, MFA."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select, update

from app.auth import sessions
from app.auth.models import UserSession
from app.auth.roles import Role
from app.core.audit import AuditAction
from app.core.models import utcnow
from app.extensions import db
from tests.factories import PASSWORD, csrf_token, login, make_user, post, totp_now
from tests.security.helpers import audit_count, location_path, signed_in

COOKIE = "senim_session"


def _freeze(monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
    monkeypatch.setattr(sessions, "utcnow", lambda: at)


def _signed_out(response) -> bool:
    return response.status_code == 302 and location_path(response) == "/login"


# --- B18: session fixation -----------------------------------------------------------------------------


def test_session_cookie_changes_at_sign_in(app: Flask, world) -> None:
    client = app.test_client()
    client.get("/login")
    before = client.get_cookie(COOKIE).value
    login(client, world.t7a)
    assert client.get_cookie(COOKIE).value != before
    planted = app.test_client()
    planted.set_cookie(COOKIE, before)
    assert _signed_out(planted.get("/pupils")), "the pre-login cookie must not authenticate"


# --- B19: idle and absolute timeouts ------------------------------------------------------------------


def test_psychologist_is_signed_out_after_16_idle_minutes(app: Flask, world, monkeypatch) -> None:
    client = signed_in(app, world.psy1)
    _freeze(monkeypatch, utcnow() + timedelta(minutes=16))
    assert _signed_out(client.get("/pupils"))
    monkeypatch.undo()
    assert _signed_out(client.get("/pupils")), "the expired session must stay dead"


def test_teacher_survives_16_idle_minutes_but_not_31(app: Flask, world, monkeypatch) -> None:
    client = signed_in(app, world.t7a)
    start = utcnow()
    _freeze(monkeypatch, start + timedelta(minutes=16))
    assert client.get("/pupils").status_code == 200
    _freeze(monkeypatch, start + timedelta(minutes=16 + 31))
    assert _signed_out(client.get("/pupils"))


def test_absolute_timeout_after_12_hours_even_when_active(app: Flask, world, monkeypatch) -> None:
    client = signed_in(app, world.t7a)
    start = utcnow()
    for elapsed in (timedelta(hours=11, minutes=59), timedelta(hours=12, minutes=1)):
        now = start + elapsed
        db.session.execute(update(UserSession).values(last_seen_at=now - timedelta(minutes=1)))
        db.session.commit()
        _freeze(monkeypatch, now)
        response = client.get("/pupils")
        if elapsed < timedelta(hours=12):
            assert response.status_code == 200, "still active within 12 hours"
        else:
            assert _signed_out(response)


# --- B20: sessions die with credentials ---------------------------------------------------------------------


def test_password_change_ends_the_users_other_sessions(app: Flask, world) -> None:
    here, elsewhere = signed_in(app, world.t7a), signed_in(app, world.t7a)
    new_password = "көктемгі жаңбыр тамшылары тынды"
    response = post(here, "/account", {"pw-current_password": PASSWORD, "pw-new_password": new_password,
                                       "pw-confirm": new_password})
    assert response.status_code == 302
    assert here.get("/pupils").status_code == 200
    assert _signed_out(elsewhere.get("/pupils"))
    assert audit_count(action=str(AuditAction.PASSWORD_CHANGED), outcome="success") == 1


def test_disabled_account_is_bounced_at_once(app: Flask, world) -> None:
    client = signed_in(app, world.t8b)
    assert client.get("/pupils").status_code == 200
    world.t8b.active = False
    sessions.revoke_all(world.t8b)
    db.session.commit()
    assert _signed_out(client.get("/pupils"))
    post_response = client.post("/logout")
    assert post_response.status_code in (400, 401)


def test_disabling_alone_is_enough(app: Flask, world) -> None:
    client = signed_in(app, world.t8b)
    world.t8b.active = False
    db.session.commit()
    assert _signed_out(client.get("/pupils"))


def test_logout_revokes_the_record(app: Flask, world) -> None:
    client = signed_in(app, world.t7a)
    response = post(client, "/logout", form_page="/")
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    open_sessions = db.session.execute(
        select(UserSession).where(UserSession.user_id == world.t7a.id, UserSession.revoked_at.is_(None))
    ).scalars().all()
    assert open_sessions == []


# --- B21: second factor ----------------------------------------------------------------------------


def test_psychologist_without_totp_must_enroll_first(app: Flask, world) -> None:
    newcomer = make_user(Role.PSYCHOLOGIST, school=world.s1, mfa=False)
    db.session.commit()
    client = app.test_client()
    assert login(client, newcomer).status_code == 302
    for path in ("/pupils", f"/pupils/{world.p1.uuid}", "/"):
        response = client.get(path)
        assert response.status_code == 302 and location_path(response) == "/mfa/enroll", path


def _wrong_code(secret: str) -> str:
    valid = {pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30 * step)) for step in range(-2, 3)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def test_six_wrong_codes_throttle_the_second_factor(app: Flask, world) -> None:
    client = app.test_client()
    login(client, world.psy1, second_factor=False)
    wrong = _wrong_code(world.psy1.totp_secret)
    for _ in range(6):
        assert post(client, "/mfa", {"code": wrong}).status_code == 200
    response = post(client, "/mfa", {"code": totp_now(world.psy1)})
    assert response.status_code == 200, "a correct code must be refused while throttled"
    assert location_path(client.get("/pupils")) == "/mfa"
    assert audit_count(action=str(AuditAction.MFA_FAILED), outcome="denied") == 7
    assert audit_count(action=str(AuditAction.MFA_VERIFIED)) == 0


def test_a_code_cannot_be_replayed_in_another_session(app: Flask, world) -> None:
    first = app.test_client()
    login(first, world.psy1, second_factor=False)
    code = totp_now(world.psy1)
    assert post(first, "/mfa", {"code": code}).status_code == 302
    second = app.test_client()
    login(second, world.psy1, second_factor=False)
    assert post(second, "/mfa", {"code": code}).status_code == 200
    assert location_path(second.get("/pupils")) == "/mfa"
    assert csrf_token(first, "/pupils")
