""""Forgot your password?": one answer for everyone, throttled, single-use links that expire, die with a newer link
or a password change, end every session, and never skip the second factor (app/auth/reset.py)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, update

from app.admin import accounts
from app.auth import passwords, reset, services
from app.auth.models import FailurePurpose, LoginFailure, PasswordResetToken, User, UserSession
from app.auth.services import hasher
from app.core.audit import AuditAction, AuditEntry
from app.core.mail import OutboxMessage
from app.core.models import utcnow
from app.extensions import db
from tests.admin.helpers import fresh
from tests.factories import PASSWORD, csrf_token, login, post
from tests.migration_support import MIGRATIONS, scratch_app

NEW = "көктемгі жаңбыр мен жасыл шалғын"
ANSWER = "If an account matches what you entered"
LINK_RE = re.compile(r"https?://\S+/password/reset/([A-Za-z0-9_-]+)")


@pytest.fixture
def client(app_ctx):
    test_client = app_ctx.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client


@pytest.fixture
def smtp(app_ctx, monkeypatch):
    """An SMTP host is configured (tests never deliver: SENIM_MAIL_DELIVERY is "off")."""
    monkeypatch.setitem(app_ctx.config, "SENIM_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app_ctx.config, "SENIM_BASE_URL", "https://senim.example.kz")
    return app_ctx


@pytest.fixture
def people(world):
    """The world's teacher, psychologist and parent with e-mail addresses."""
    world.t7a.email, world.psy1.email, world.r1.email = "t7a@school.example", "psy1@school.example", "mum@home.example"
    world.psy1.preferred_language = "ru"
    db.session.commit()
    return world


def _ask(client, identifier: str):
    return post(client, "/password/forgot", {"identifier": identifier})


def _outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def _tokens(user: User) -> list[PasswordResetToken]:
    db.session.expire_all()
    return list(db.session.execute(select(PasswordResetToken).where(PasswordResetToken.user_id == user.id)
                                   .order_by(PasswordResetToken.id)).scalars())


def _link_for(client, user: User) -> str:
    """Ask for a link for ``user`` and return the token from the queued mail."""
    before = len(_outbox())
    _ask(client, user.username)
    messages = _outbox()
    assert len(messages) == before + 1
    match = LINK_RE.search(messages[-1].body)
    assert match, messages[-1].body
    return match.group(1)


def _reset(client, token: str, password: str = NEW):
    return post(client, f"/password/reset/{token}", {"new_password": password, "confirm": password})


def _entries(action: AuditAction) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == str(action))).scalars())


def _password_is(user: User, password: str) -> bool:
    return passwords.verify_password(hasher(), fresh(user).password_hash, password)


def _without_csrf(body: str) -> str:
    return re.sub(r'(name="[\w-]*csrf_token"[^>]*value=")[^"]+', r"\1", body)


# --- without an SMTP host: no link, no mail -------------------------------------------------------------


def test_without_smtp_the_sign_in_page_has_no_link_and_nothing_is_queued(client, people):
    login_page = client.get("/login").get_data(as_text=True)
    assert "/password/forgot" not in login_page
    assert "Ask your school administrator" in login_page
    page = client.get("/password/forgot")
    assert page.status_code == 200
    assert "Ask your school administrator" in page.get_data(as_text=True)
    response = _ask(client, "t7a")
    assert response.status_code == 200 and "/password/reset" not in response.get_data(as_text=True)
    assert _outbox() == [] and _tokens(people.t7a) == []


# --- asking for a link: one answer for everyone --------------------------------------------------------------


def test_the_sign_in_page_links_to_the_form_when_mail_is_configured(client, smtp):
    assert 'href="/password/forgot"' in client.get("/login").get_data(as_text=True)


def test_known_and_unknown_accounts_get_the_same_answer(client, smtp, people):
    people.norole.active = False
    people.norole.email = "gone@school.example"
    db.session.commit()
    answers = []
    for identifier in ("t7a", "nobody-here", "T7A@school.EXAMPLE", "nobody@school.example", "norole", "pupil1"):
        response = _ask(client, identifier)
        page = client.get(response.headers["Location"])
        answers.append((response.status_code, response.headers["Location"], response.get_data(),
                        page.status_code, _without_csrf(page.get_data(as_text=True))))
    assert all(answer == answers[0] for answer in answers)
    assert answers[0][0] == 302 and ANSWER in answers[0][4]
    # Mail only for the real, active account with an address: by name and by e-mail (case-insensitive).
    assert [m.recipients for m in _outbox()] == ['["t7a@school.example"]'] * 2


def test_the_form_needs_its_csrf_token(client, smtp, people):
    response = client.post("/password/forgot", data={"identifier": "t7a"})
    assert response.status_code == 400
    assert _outbox() == []


def test_the_mail_holds_an_absolute_link_in_the_users_language_and_the_token_only_as_a_hash(
        client, smtp, people, caplog):
    caplog.set_level(logging.DEBUG)
    token = _link_for(client, people.psy1)
    [message] = _outbox()
    assert (message.recipients, message.language) == ('["psy1@school.example"]', "ru")
    assert f"https://senim.example.kz/password/reset/{token}" in message.body
    assert PASSWORD not in message.body
    [row] = _tokens(people.psy1)
    assert row.token_hash == reset.token_hash(token) and token.encode() not in row.token_hash
    assert row.expires_at - row.created_at == timedelta(minutes=30)
    _reset(client, token)
    audit_text = " ".join(f"{e.details}" for e in db.session.execute(select(AuditEntry)).scalars())
    for secret in (token, NEW, PASSWORD):
        assert secret not in caplog.text and secret not in audit_text
    assert [e.outcome for e in _entries(AuditAction.PASSWORD_RESET_REQUESTED)] == ["success"]
    assert len(_entries(AuditAction.PASSWORD_RESET_COMPLETED)) == 1


def test_links_per_account_are_throttled_with_the_same_answer(client, smtp, people):
    limit = smtp.config["SENIM_RESET_ACCOUNT_THRESHOLD"]
    first = _ask(client, "t7a")
    for _ in range(limit - 1):
        _ask(client, "t7a@school.example")  # the name and the address count together
    throttled = _ask(client, "t7a")
    assert (throttled.status_code, throttled.headers["Location"]) == (first.status_code, first.headers["Location"])
    assert len(_outbox()) == limit
    assert _entries(AuditAction.PASSWORD_RESET_REQUESTED)[-1].outcome == "denied"
    _ask(client, "psy1")  # another account is not affected
    assert len(_outbox()) == limit + 1


def test_requests_per_address_are_throttled(client, smtp, people, monkeypatch):
    monkeypatch.setitem(smtp.config, "SENIM_RESET_IP_THRESHOLD", 3)
    for n in range(3):
        _ask(client, f"nobody{n}")
    _ask(client, "t7a")
    assert _outbox() == []
    other = smtp.test_client()
    other.environ_base.update(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="10.0.0.7")
    _ask(other, "t7a")
    assert len(_outbox()) == 1


def test_reset_requests_do_not_count_as_sign_in_failures_and_a_locked_user_can_reset(client, smtp, people):
    key = services.account_key("t7a")
    for _ in range(smtp.config["SENIM_LOCKOUT_THRESHOLD"]):
        db.session.add(LoginFailure(account_key=key, ip="127.0.0.1"))
    db.session.commit()
    assert services.is_locked(key)
    token = _link_for(client, people.t7a)
    assert _reset(client, token).status_code == 302
    assert _password_is(people.t7a, NEW)
    for _ in range(5):
        _ask(client, "nobody")
    assert not services.ip_throttled("10.9.9.9")
    assert services.failures_since(FailurePurpose.PASSWORD, ip="127.0.0.1") == smtp.config["SENIM_LOCKOUT_THRESHOLD"]


# --- using the link ---------------------------------------------------------------------------------------


def test_a_reset_changes_the_password_ends_every_session_and_spends_the_link(client, smtp, people):
    accounts.reset_password(actor=people.admin, user=people.t7a, password="уақытша құпия сөз 2026")
    signed_in = smtp.test_client()
    login(signed_in, people.t7a, "уақытша құпия сөз 2026")
    assert signed_in.get("/account").status_code == 200
    token = _link_for(client, people.t7a)
    page = client.get(f"/password/reset/{token}")
    assert page.status_code == 200 and "t7a" in page.get_data(as_text=True)

    response = _reset(client, token)

    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    user = fresh(people.t7a)
    assert _password_is(user, NEW) and not user.password_change_required
    assert all(s.revoked_at is not None for s in db.session.execute(
        select(UserSession).where(UserSession.user_id == user.id)).scalars())
    assert signed_in.get("/account").status_code == 302
    assert all(t.spent_at is not None for t in _tokens(user))
    [done] = _entries(AuditAction.PASSWORD_RESET_COMPLETED)
    assert (done.actor_id, done.object_id) == (user.id, str(user.id))
    # Single use: the same link again changes nothing.
    again = _reset(client, token, "другой пароль для проверки")
    assert again.status_code == 404 and "This link does not work" in again.get_data(as_text=True)
    assert _password_is(user, NEW)
    assert login(client, user, NEW).status_code == 302


@pytest.mark.parametrize("how", ["expired", "newer_link", "own_change", "admin_reset", "disabled", "made_up"])
def test_a_dead_link_shows_a_clear_page_and_changes_nothing(client, smtp, people, how):
    user = people.t7a
    token = _link_for(client, user)
    current = PASSWORD
    if how == "expired":
        db.session.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    elif how == "newer_link":
        newer = _link_for(client, user)
        assert client.get(f"/password/reset/{newer}").status_code == 200
    elif how == "own_change":
        current = "өзім таңдаған жаңа құпия сөз"
        assert services.change_password(user=fresh(user), current_password=PASSWORD, new_password=current)
    elif how == "admin_reset":
        current = "уақытша құпия сөз 2026"
        accounts.reset_password(actor=people.admin, user=fresh(user), password=current)
    elif how == "disabled":
        fresh(user).active = False
        db.session.commit()
    else:
        token = token[:-4] + "AAAA"
    page = client.get(f"/password/reset/{token}")
    assert page.status_code == 404 and "Nothing was changed" in page.get_data(as_text=True)
    assert _reset(client, token).status_code == 404
    assert _password_is(user, current)
    assert _entries(AuditAction.PASSWORD_RESET_REFUSED) and not _entries(AuditAction.PASSWORD_RESET_COMPLETED)


def test_the_new_password_follows_the_policy_and_must_differ(client, smtp, people):
    token = _link_for(client, people.t7a)
    short = _reset(client, token, "short")
    assert short.status_code == 200 and "Use at least 10 characters" in short.get_data(as_text=True)
    same = _reset(client, token, PASSWORD)
    assert same.status_code == 200 and "differs from the current one" in same.get_data(as_text=True)
    missing_csrf = client.post(f"/password/reset/{token}", data={"new_password": NEW, "confirm": NEW})
    assert missing_csrf.status_code == 400
    assert _password_is(people.t7a, PASSWORD) and _tokens(people.t7a)[0].spent_at is None
    assert _reset(client, token).status_code == 302


def test_after_a_reset_the_second_factor_is_still_required(client, smtp, people):
    token = _link_for(client, people.psy1)
    _reset(client, token)
    assert login(client, fresh(people.psy1), NEW, second_factor=False).status_code == 302
    for path in ("/pupils", "/account"):
        assert "/mfa" in client.get(path).headers["Location"]
    assert fresh(people.psy1).mfa_enrolled


def test_links_stop_working_when_mail_is_switched_off(client, smtp, people, monkeypatch):
    token = _link_for(client, people.t7a)
    monkeypatch.setitem(smtp.config, "SENIM_SMTP_HOST", "")
    assert client.get(f"/password/reset/{token}").status_code == 404


def test_a_signed_in_user_is_sent_to_the_account_page(client, smtp, people):
    login(client, people.t7a)
    response = client.get("/password/forgot")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")
    assert csrf_token(client, "/account")


# --- the table ---------------------------------------------------------------------------------------------


def test_migration_creates_and_drops_the_token_table(tmp_path):
    from flask_migrate import downgrade, upgrade

    migrations = MIGRATIONS
    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=migrations)
        assert "password_reset_tokens" in inspect(db.engine).get_table_names()
        downgrade(directory=migrations, revision="0006_mail_outbox")
        assert "password_reset_tokens" not in inspect(db.engine).get_table_names()
        assert "mail_outbox" in inspect(db.engine).get_table_names()
        upgrade(directory=migrations)
        assert "password_reset_tokens" in inspect(db.engine).get_table_names()


def test_the_token_model_and_its_migration_agree(app_ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert [d for d in diff if "password_reset_tokens" in repr(d)] == []


# --- an administrator e-mails the link ----------------------------------------------------------------------


def _send_from_admin_page(client, user: User):
    return post(client, f"/admin/staff/{user.uuid}/reset-link", form_page=f"/admin/staff/{user.uuid}")


def test_admin_emails_a_link_the_person_then_uses(client, smtp, people):
    login(client, people.admin)
    page = client.get(f"/admin/staff/{people.psy1.uuid}").get_data(as_text=True)
    assert "E-mail a link to psy1@school.example" in page
    response = _send_from_admin_page(client, people.psy1)
    assert response.status_code == 302
    assert "was e-mailed to psy1@school.example" in client.get(response.headers["Location"]).get_data(as_text=True)
    (message,) = _outbox()
    assert message.language == "ru" and "psy1@school.example" in message.recipients
    token = LINK_RE.search(message.body).group(1)
    assert reset.check_link(token).user.id == people.psy1.id
    entry = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.PASSWORD_RESET_REQUESTED))).scalars().one()
    assert entry.actor_id == people.admin.id and entry.object_id == str(people.psy1.id)


def test_no_link_button_or_mail_without_smtp_or_address(client, people, world, monkeypatch):
    login(client, people.admin)
    page = client.get(f"/admin/staff/{people.psy1.uuid}").get_data(as_text=True)
    assert "E-mail a link" not in page  # mail is not configured
    response = _send_from_admin_page(client, people.psy1)
    assert "No link was sent" in client.get(response.headers["Location"]).get_data(as_text=True)
    monkeypatch.setitem(client.application.config, "SENIM_SMTP_HOST", "127.0.0.1")
    world.psy2.email = None
    db.session.commit()
    assert "E-mail a link" not in client.get(f"/admin/staff/{world.psy2.uuid}").get_data(as_text=True)
    _send_from_admin_page(client, world.psy2)
    assert _outbox() == [] and _tokens(world.psy2) == []


def test_a_director_cannot_send_a_link_outside_their_school(client, smtp, people, world):
    world.psy3.email = "psy3@school.example"
    db.session.commit()
    login(client, world.a1)  # director of S1; psy3 works at S2
    assert client.get(f"/admin/staff/{world.psy3.uuid}").status_code == 404
    assert post(client, f"/admin/staff/{world.psy3.uuid}/reset-link", form_page="/admin/staff").status_code == 404
    assert _outbox() == []


def test_admin_links_count_towards_the_hourly_limit(client, smtp, people):
    login(client, people.admin)
    for _ in range(3):
        _send_from_admin_page(client, people.psy1)
    response = _send_from_admin_page(client, people.psy1)
    assert "No link was sent" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert len(_outbox()) == 3
