"""Sign-in, second factor, sessions that die with logout, lockout."""

from __future__ import annotations

from app.auth.models import LoginFailure
from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from tests.factories import PASSWORD, csrf_token, login, post, totp_now


def test_login_redirects_and_home_page_shows_name(client, world):
    response = login(client, world.t7a)
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert "Тест Пайдаланушы" in page.get_data(as_text=True)


def test_psychologist_must_pass_second_factor(client, world):
    response = login(client, world.psy1, second_factor=False)
    assert response.status_code == 302
    assert client.get("/pupils").headers["Location"].endswith("/mfa")
    post(client, "/mfa", {"code": totp_now(world.psy1)})
    assert client.get("/pupils").status_code == 200


def test_totp_code_is_not_accepted_twice(client, world, app):
    login(client, world.psy1, second_factor=False)
    code = totp_now(world.psy1)
    assert post(client, "/mfa", {"code": code}).status_code == 302
    other = app.test_client()
    login(other, world.psy1, second_factor=False)
    response = post(other, "/mfa", {"code": code})
    assert response.status_code == 200  # form shown again: replayed code refused
    assert other.get("/pupils").status_code == 302


def test_cookie_replay_after_logout_is_rejected(client, world):
    login(client, world.t7a)
    cookie = client.get_cookie("senim_session").value
    post(client, "/logout", form_page="/")
    client.set_cookie("senim_session", cookie)
    response = client.get("/pupils")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_session_id_changes_at_login(client, world):
    client.get("/login")
    before = client.get_cookie("senim_session").value
    login(client, world.t7a)
    after = client.get_cookie("senim_session").value
    assert before != after


def test_lockout_after_ten_failures_even_with_correct_password(client, world):
    for _ in range(10):
        post(client, "/login", {"username": world.t7a.username, "password": "wrong password!!"})
    response = post(client, "/login", {"username": world.t7a.username, "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/pupils").status_code == 302
    actions = [e.action for e in db.session.query(AuditEntry).all()]
    assert actions.count(AuditAction.LOGIN_FAILED) == 11
    assert actions.count(AuditAction.LOCKOUT) == 1
    assert db.session.query(LoginFailure).count() == 11


def test_unknown_and_known_user_failures_look_the_same(client, world):
    known = post(client, "/login", {"username": world.t7a.username, "password": "wrong password!!"})
    unknown = post(client, "/login", {"username": "nobody-here", "password": "wrong password!!"})
    assert known.status_code == unknown.status_code == 200

    def strip(body: str) -> str:
        import re

        return re.sub(r'value="[^"]*"', "", body)

    assert strip(known.get_data(as_text=True)) == strip(unknown.get_data(as_text=True)).replace(
        "nobody-here", world.t7a.username)


def test_csrf_missing_token_is_refused(client, world):
    login(client, world.t7a)
    response = client.post("/logout")
    assert response.status_code == 400
    assert db.session.query(AuditEntry).filter_by(action=AuditAction.CSRF_FAILED).count() == 1
    assert csrf_token(client, "/")  # still signed in
