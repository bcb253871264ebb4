"""A password someone else set (a new account, a temporary password) must be replaced by its owner first.

The flag is set by the admin services and cleared by the owner's own change; the guard
(app.auth.password_guard) sends a flagged user from every endpoint but a few to /account.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect, select, text

from app.admin import accounts
from app.auth import password_guard, services
from app.auth.models import User
from app.auth.roles import Role
from app.core import demo
from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from tests.admin.helpers import fresh
from tests.factories import csrf_token, login, post, totp_now
from tests.migration_support import MIGRATIONS, scratch_app

TEMPORARY = "уақытша құпия сөз 2026"
OWN = "таңертеңгі шай мен бауырсақ"
EXPLANATION = "Your current password was set by someone else"


@pytest.fixture
def client(app_ctx):
    test_client = app_ctx.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client


def _entries(action: AuditAction) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == str(action))).scalars())


def _temporary_password(world, user: User) -> User:
    """The admin sets a temporary password for ``user`` (the real service)."""
    accounts.reset_password(actor=world.admin, user=user, password=TEMPORARY)
    return fresh(user)


def _change(client, current: str, new: str):
    return post(client, "/account", {"pw-current_password": current, "pw-new_password": new, "pw-confirm": new})


# --- the flag: set by someone else's password, cleared by the owner's ---------------------------------------


def test_new_accounts_start_without_the_flag(world):
    assert not any(u.password_change_required for u in world.users.values())


def test_temporary_password_sets_the_flag_and_audits_it(world):
    teacher = _temporary_password(world, world.t7a)
    assert teacher.password_change_required
    [required] = _entries(AuditAction.PASSWORD_CHANGE_REQUIRED)
    assert (required.actor_id, required.object_type, required.object_id) == (world.admin.id, "user",
                                                                              str(world.t7a.id))
    assert len(_entries(AuditAction.PASSWORD_RESET)) == 1


@pytest.mark.parametrize("actor", ["admin", "a1"])
def test_account_created_with_a_password_is_flagged(world, actor):
    account = accounts.NewAccount(username="newsoc", full_name="Жаңа Педагог", email=None, password=TEMPORARY)
    # A director appoints class teachers; a role that reads pupil data is an admin's to give.
    role = Role.SOCIAL_PEDAGOGUE if actor == "admin" else Role.CLASS_TEACHER
    user = accounts.create_user(actor=getattr(world, actor), account=account, role=role,
                                scope=accounts.Scope(school=world.s1, school_class=world.c7a))
    assert fresh(user).password_change_required
    [required] = _entries(AuditAction.PASSWORD_CHANGE_REQUIRED)
    [created] = _entries(AuditAction.USER_CREATE)
    assert required.object_id == created.object_id == str(user.id)
    assert required.chain_id == created.chain_id  # one transaction, one chain


def test_new_parent_account_is_flagged(world):
    account = accounts.NewAccount(username="father2", full_name="Әке Тестов", email=None, password=TEMPORARY)
    link = accounts.link_guardian(actor=world.a1, pupil=world.p1, username="father2", relation="father",
                                  is_legal_representative=True, new_account=account)
    assert fresh(link.user).password_change_required


def test_own_change_clears_the_flag_and_audits_that_it_was_required(app, world):
    teacher = _temporary_password(world, world.t7a)
    with app.test_request_context():
        assert services.change_password(user=teacher, current_password=TEMPORARY, new_password=OWN)
    assert not fresh(world.t7a).password_change_required
    [changed] = _entries(AuditAction.PASSWORD_CHANGED)
    assert changed.actor_id == world.t7a.id and json.loads(changed.details) == {"was_required": True}


def test_ordinary_change_is_audited_without_the_mark(app, world):
    from tests.factories import PASSWORD

    with app.test_request_context():
        assert services.change_password(user=world.t8b, current_password=PASSWORD, new_password=OWN)
    [changed] = _entries(AuditAction.PASSWORD_CHANGED)
    assert json.loads(changed.details) == {}


def test_service_refuses_to_keep_the_temporary_password(app, world):
    teacher = _temporary_password(world, world.t7a)
    before = teacher.password_hash
    with app.test_request_context(), pytest.raises(services.SamePassword):
        services.change_password(user=teacher, current_password=TEMPORARY, new_password=TEMPORARY)
    db.session.rollback()
    assert fresh(world.t7a).password_change_required and fresh(world.t7a).password_hash == before
    assert not _entries(AuditAction.PASSWORD_CHANGED)


def test_demo_users_are_not_flagged(client, app_ctx):
    demo.create(pupils_per_class=1)
    users = db.session.execute(select(User)).scalars().all()
    assert users and not any(u.password_change_required for u in users)
    director = db.session.execute(select(User).where(User.username == "director")).scalar_one()
    assert login(client, director, demo.DEMO_PASSWORD).status_code == 302
    assert client.get("/").status_code == 200


# --- the guard ----------------------------------------------------------------------------------------------


def test_the_allowed_endpoints_are_exactly_these():
    # Widening this list lets a user with someone else's password past the change page: think twice.
    allowed = {"auth.account", "auth.mfa_verify", "auth.mfa_enroll", "auth.logout", "core.set_language", "static"}
    assert allowed == password_guard.ALLOWED_ENDPOINTS


def test_sign_in_leads_to_the_change_page_which_says_why(client, world):
    teacher = _temporary_password(world, world.t7a)
    response = login(client, teacher, TEMPORARY)
    assert response.status_code == 302
    home = client.get(response.headers["Location"])
    assert home.status_code == 302 and home.headers["Location"].endswith("/account")
    page = client.get("/account").get_data(as_text=True)
    assert EXPLANATION in page and "Change your password to continue" in page
    assert 'href="/pupils"' not in page  # no navigation to pages that would only send them back


def test_every_other_endpoint_sends_a_flagged_user_to_the_change_page(client, world, app):
    teacher = _temporary_password(world, world.t7a)
    login(client, teacher, TEMPORARY)
    headers = {"X-CSRFToken": csrf_token(client, "/account")}
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in password_guard.ALLOWED_ENDPOINTS:
            continue
        _domain, path = rule.build({name: "1" for name in rule.arguments})
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        response = client.open(path, method=method, headers=headers)
        assert response.status_code == 302, f"{method} {path} ({rule.endpoint}): {response.status_code}"
        assert response.headers["Location"].endswith("/account"), f"{method} {path} ({rule.endpoint})"
        checked += 1
    assert checked > 50
    assert client.get("/no-such-page").headers["Location"].endswith("/account")
    assert fresh(world.t7a).password_change_required


def test_downloads_and_json_go_to_the_change_page_then_work(client, world):
    psychologist = _temporary_password(world, world.psy1)
    login(client, psychologist, TEMPORARY)
    downloads = ["/reports/export.csv", "/screening/instruments/asq/1.0/questionnaire.json", "/healthz"]
    for path in downloads:
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account"), path
    assert _change(client, TEMPORARY, OWN).status_code == 302
    for path in downloads:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype in ("text/csv", "application/fhir+json", "application/json"), path


def test_second_factor_comes_before_the_change_page(client, world):
    psychologist = _temporary_password(world, world.psy1)
    assert login(client, psychologist, TEMPORARY, second_factor=False).status_code == 302
    assert client.get("/pupils").headers["Location"].endswith("/account")
    assert client.get("/account").headers["Location"].endswith("/mfa")  # the code first
    response = post(client, "/mfa", {"code": totp_now(psychologist)})
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).headers["Location"].endswith("/account")
    assert EXPLANATION in client.get("/account").get_data(as_text=True)


def test_sign_out_language_and_static_files_still_work(client, world):
    teacher = _temporary_password(world, world.t7a)
    login(client, teacher, TEMPORARY)
    with client.get("/static/css/app.css") as stylesheet:
        assert stylesheet.status_code == 200
    response = post(client, "/language", {"language": "ru", "next": "/account"}, form_page="/account")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")
    assert fresh(world.t7a).preferred_language == "ru"
    response = post(client, "/logout", form_page="/account")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert "/login" in client.get("/pupils").headers["Location"]
    assert client.get("/login").status_code == 200


def test_changing_the_password_opens_the_other_pages(client, world):
    teacher = _temporary_password(world, world.t7a)
    login(client, teacher, TEMPORARY)
    response = _change(client, TEMPORARY, OWN)
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert not fresh(world.t7a).password_change_required
    assert client.get("/pupils").status_code == 200
    assert EXPLANATION not in client.get("/account").get_data(as_text=True)
    assert login(client.application.test_client(), teacher, OWN).status_code == 302


def test_the_new_password_must_differ_and_follow_the_policy(client, world):
    teacher = _temporary_password(world, world.t7a)
    login(client, teacher, TEMPORARY)
    for new, message in ((TEMPORARY, "differs from the current one"), ("short", "Use at least 10 characters."),
                         ("password123", "too common")):
        response = _change(client, TEMPORARY, new)
        assert response.status_code == 200 and message in response.get_data(as_text=True), new
    assert fresh(world.t7a).password_change_required
    assert not _entries(AuditAction.PASSWORD_CHANGED)
    assert client.get("/pupils").headers["Location"].endswith("/account")


def test_a_user_without_the_flag_is_not_redirected(client, world):
    login(client, world.t7a)
    assert client.get("/pupils").status_code == 200
    assert EXPLANATION not in client.get("/account").get_data(as_text=True)


# --- the migration ------------------------------------------------------------------------------------------


def test_migration_adds_the_column_false_for_existing_accounts_and_downgrades(tmp_path):
    from flask_migrate import downgrade, upgrade

    migrations = MIGRATIONS

    def columns() -> set[str]:
        return {c["name"] for c in inspect(db.engine).get_columns("users")}

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=migrations, revision="0003_local_instruments")
        assert "password_change_required" not in columns()
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO users (uuid, username, password_hash, active, created_at) "
                              "VALUES ('u-1', 'existing', 'x', 1, '2026-01-01 00:00:00')"))
        upgrade(directory=migrations, revision="0004_password_change_required")
        assert "password_change_required" in columns()
        with db.engine.connect() as conn:
            flag = conn.execute(text("SELECT password_change_required FROM users")).scalar_one()
        assert not flag  # nobody already signed up is forced to change
        downgrade(directory=migrations, revision="0003_local_instruments")
        assert "password_change_required" not in columns()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT username FROM users")).scalar_one() == "existing"
        upgrade(directory=migrations)
        assert "password_change_required" in columns()
