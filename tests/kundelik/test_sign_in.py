"""Sign in with Kundelik against the local Kundelik: success, denied consent, bad or missing state, expired or
refused tokens, the second factor after Kundelik, unknown persons, the linking rules and the audit trail."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, text

from app.auth.models import User
from app.auth.roles import Role
from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from app.kundelik.models import KundelikToken
from tests import factories
from tests.kundelik.conftest import consent, path_of, sign_in_with_kundelik

TEACHER7A_PERSON = "3000000000904"  # the local Kundelik's teacher7a (app.core.demo_people.DEMO_STAFF)
DIRECTOR_PERSON = "3000000000901"
PUPIL_PERSON = "3000000000013"  # the local Kundelik's "pupil": the first pupil of 7А


class _Entry:
    def __init__(self, entry: AuditEntry) -> None:
        self.user_id = entry.actor_id
        self.details = json.loads(entry.details) if isinstance(entry.details, str) else entry.details


def _entries(action: AuditAction) -> list[_Entry]:
    query = select(AuditEntry).where(AuditEntry.action == action.value).order_by(AuditEntry.id)
    return [_Entry(e) for e in db.session.execute(query).scalars()]


def _linked(role: Role, person_id: str, **kwargs: object) -> User:
    user = factories.make_user(role, **kwargs)  # type: ignore[arg-type]
    user.kundelik_person_id = person_id
    db.session.commit()
    return user


def test_the_login_page_offers_kundelik_only_when_configured(client, app_ctx):
    assert "/login/kundelik" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/kundelik").status_code == 404


def test_a_linked_teacher_signs_in_and_is_linked_to_her_kundelik_user(client, kundelik, world):
    teacher = _linked(Role.CLASS_TEACHER, TEACHER7A_PERSON, school_class=world.c7a)
    assert "/login/kundelik" in client.get("/login").get_data(as_text=True)

    response = sign_in_with_kundelik(client, "teacher7a", next_page="/account")

    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    db.session.refresh(teacher)
    assert teacher.kundelik_user_id == "4000000000904"  # the user id, not the person id
    [linked] = _entries(AuditAction.KUNDELIK_LINKED)
    assert linked.details["rule"] == "person"
    [signed_in] = _entries(AuditAction.KUNDELIK_SIGN_IN)
    assert signed_in.user_id == teacher.id
    assert signed_in.details["kundelik_roles"] == ["EduStaff"]
    assert signed_in.details["suggested_roles"] == ["class_teacher"]
    assert signed_in.details["token_kept"] is False
    assert db.session.execute(select(KundelikToken)).first() is None  # a teacher's token is dropped

    client.post("/logout", data={"csrf_token": factories.csrf_token(client, "/account")})
    assert sign_in_with_kundelik(client, "teacher7a").status_code == 302
    assert _entries(AuditAction.KUNDELIK_SIGN_IN)[-1].details["rule"] == "linked"


def test_a_director_still_gives_the_second_factor_and_her_token_is_kept_encrypted(client, kundelik, world):
    director = _linked(Role.DIRECTOR, DIRECTOR_PERSON, school=world.s1)

    response = sign_in_with_kundelik(client, "director")

    assert response.status_code == 302
    assert client.get("/").headers["Location"].startswith("/mfa")  # Kundelik is not Senim's second factor
    assert client.get("/account").headers["Location"].startswith("/mfa")
    token = client.post("/mfa", data={"code": factories.totp_now(director),
                                      "csrf_token": factories.csrf_token(client, "/mfa")})
    assert token.status_code == 302
    assert client.get("/").status_code == 200
    row = db.session.execute(select(KundelikToken)).scalar_one()
    issued = next(iter(kundelik.local.tokens))
    assert row.user_id == director.id and row.access_token == issued
    raw = db.session.execute(text("SELECT access_token_ct, refresh_token_ct FROM kundelik_tokens")).one()
    assert issued.encode() not in bytes(raw.access_token_ct)
    assert row.refresh_token is not None and row.refresh_token.encode() not in bytes(raw.refresh_token_ct)


@pytest.mark.parametrize(("language", "words"), [
    ("en", "You did not allow access"), ("ru", "Вы не разрешили доступ"), ("kk", "Сіз рұқсат бермедіңіз"),
])
def test_denied_consent_signs_nobody_in(client, kundelik, world, language, words):
    _linked(Role.CLASS_TEACHER, TEACHER7A_PERSON, school_class=world.c7a)

    response = sign_in_with_kundelik(client, "teacher7a", decision="deny", language=language)

    assert response.status_code == 200
    assert words in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # not signed in
    [failed] = _entries(AuditAction.KUNDELIK_SIGN_IN_FAILED)
    assert failed.details["reason"] == "denied"
    assert _entries(AuditAction.KUNDELIK_SIGN_IN) == []


def test_kundelik_sends_both_documented_signs_of_a_denial(client, kundelik):
    start = client.get("/login/kundelik")
    query = parse_qs(urlsplit(consent(start.headers["Location"], "teacher7a", decision="deny")).query)
    assert query["error"] == ["access_denied"] and query["is_granted"] == ["False"]


def test_a_wrong_state_a_missing_state_and_a_replayed_callback_are_refused(client, kundelik, world):
    _linked(Role.CLASS_TEACHER, TEACHER7A_PERSON, school_class=world.c7a)
    start = client.get("/login/kundelik")
    back = consent(start.headers["Location"], "teacher7a")
    forged = back.replace("state=", "state=x")
    assert client.get(path_of(forged)).status_code == 400  # the pending sign-in is used up by this attempt
    assert client.get(path_of(back)).status_code == 400  # nothing pending any more

    other = factories.make_user(Role.PARENT)  # a fresh browser: no sign-in was started in it
    assert other is not None
    with client.application.test_client() as fresh:
        start = fresh.get("/login/kundelik")
        back = consent(start.headers["Location"], "teacher7a")
        assert client.get(path_of(back)).status_code == 400  # another browser's callback (login CSRF)
        response = fresh.get(path_of(back))
        assert response.status_code == 302
    reasons = [e.details["reason"] for e in _entries(AuditAction.KUNDELIK_SIGN_IN_FAILED)]
    assert reasons == ["state", "state", "state"]


def test_a_sign_in_started_too_long_ago_is_refused(client, kundelik, world, app_ctx):
    _linked(Role.CLASS_TEACHER, TEACHER7A_PERSON, school_class=world.c7a)
    start = client.get("/login/kundelik")
    back = consent(start.headers["Location"], "teacher7a")
    with client.session_transaction() as session:
        pending = dict(session["kundelik_pending"])
        pending["at"] -= 11 * 60
        session["kundelik_pending"] = pending
    response = client.get(path_of(back))
    assert response.status_code == 400
    assert "Кіру мерзімі өтіп кетті" in response.get_data(as_text=True)


def test_an_expired_token_ends_on_a_clear_page(client, kundelik, world):
    _linked(Role.CLASS_TEACHER, TEACHER7A_PERSON, school_class=world.c7a)
    kundelik.local.expires_in = 0  # Kundelik's token is expired by the time Senim reads users/me

    response = sign_in_with_kundelik(client, "teacher7a", language="ru")

    assert response.status_code == 401
    assert "Кунделик не принял вход" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302
    assert _entries(AuditAction.KUNDELIK_SIGN_IN_FAILED)[0].details["reason"] == "expired"


def test_a_refused_client_and_a_kundelik_in_maintenance_end_on_clear_pages(client, kundelik, world, app_ctx):
    _linked(Role.CLASS_TEACHER, TEACHER7A_PERSON, school_class=world.c7a)
    app_ctx.config["SENIM_KUNDELIK_CLIENT_SECRET"] = "not-the-registered-secret"
    assert sign_in_with_kundelik(client, "teacher7a").status_code == 502
    app_ctx.config["SENIM_KUNDELIK_CLIENT_SECRET"] = kundelik.local.client_secret
    start = client.get("/login/kundelik")
    back = consent(start.headers["Location"], "teacher7a")
    kundelik.local.maintenance = True
    response = client.get(path_of(back))
    assert response.status_code == 503
    assert "Күнделік қолжетімсіз" in response.get_data(as_text=True)
    failures = _entries(AuditAction.KUNDELIK_SIGN_IN_FAILED)
    assert [(e.details["reason"], e.details.get("kind")) for e in failures] == [
        ("token", "invalid_client"), ("unavailable", None)]


@pytest.mark.parametrize(("language", "words"), [
    ("en", "Your Kundelik account is not linked to Senim yet"),
    ("ru", "Ваша учётная запись Кунделика ещё не связана с Senim"),
    ("kk", "Күнделіктегі есептік жазбаңыз Senim жүйесімен әлі байланыстырылмаған"),
])
def test_an_unknown_person_is_told_what_to_do_and_nothing_is_created(client, kundelik, language, words):
    users_before = db.session.execute(select(User.id)).all()

    response = sign_in_with_kundelik(client, "teacher5a", language=language)  # in Kundelik, not in Senim

    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert words in body
    assert "3000000000906" in body  # the number to give the administrator
    assert db.session.execute(select(User.id)).all() == users_before
    [failed] = _entries(AuditAction.KUNDELIK_SIGN_IN_FAILED)
    assert failed.details == {"reason": "unknown_person", "kundelik_user": "4000000000906",
                              "kundelik_person": "3000000000906", "kundelik_roles": ["EduStaff"]}


def test_kundelik_roles_grant_nothing_the_administrator_did_not_grant(client, kundelik, world):
    # The director's Kundelik roles suggest a school administrator; her Senim account is only a class teacher.
    user = _linked(Role.CLASS_TEACHER, DIRECTOR_PERSON, school_class=world.c7a)
    assert sign_in_with_kundelik(client, "director").status_code == 302
    db.session.refresh(user)
    assert user.roles == {Role.CLASS_TEACHER}
    assert _entries(AuditAction.KUNDELIK_SIGN_IN)[0].details["suggested_roles"] == ["director", "class_teacher"]
    assert db.session.execute(select(KundelikToken)).first() is None


def test_a_pupil_of_the_roster_gets_her_own_account_and_nothing_more(client, kundelik, world):
    pupil = factories.make_pupil(world.c7a)
    pupil.kundelik_id = PUPIL_PERSON
    db.session.commit()

    assert sign_in_with_kundelik(client, "pupil").status_code == 302

    user = db.session.execute(select(User).where(User.pupil_id == pupil.id)).scalar_one()
    assert user.roles == {Role.PUPIL} and user.kundelik_user_id == "4000000000013"
    assert [(a.role, a.school_id) for a in user.assignments] == [("pupil", world.s1.id)]
    assert _entries(AuditAction.KUNDELIK_LINKED)[0].details["rule"] == "pupil_roster"


def test_a_pupil_who_left_is_unknown(client, kundelik, world):
    pupil = factories.make_pupil(world.c7a)
    pupil.kundelik_id, pupil.active = PUPIL_PERSON, False
    db.session.commit()
    assert sign_in_with_kundelik(client, "pupil").status_code == 403


def test_a_disabled_account_cannot_sign_in_with_kundelik(client, kundelik, world):
    teacher = _linked(Role.CLASS_TEACHER, TEACHER7A_PERSON, school_class=world.c7a)
    teacher.active = False
    db.session.commit()
    assert sign_in_with_kundelik(client, "teacher7a").status_code == 403
    assert client.get("/account").status_code == 302
    assert _entries(AuditAction.KUNDELIK_SIGN_IN_FAILED)[0].details["reason"] == "disabled"


def test_an_account_linked_to_another_kundelik_user_is_not_taken_over(client, kundelik, world):
    teacher = _linked(Role.CLASS_TEACHER, TEACHER7A_PERSON, school_class=world.c7a)
    teacher.kundelik_user_id = "4000000000999"
    db.session.commit()
    assert sign_in_with_kundelik(client, "teacher7a").status_code == 403


def test_pkce_when_configured(client, kundelik, world, app_ctx):
    _linked(Role.CLASS_TEACHER, TEACHER7A_PERSON, school_class=world.c7a)
    kundelik.local.pkce_required = True
    start = client.get("/login/kundelik")
    assert "code_challenge" not in start.headers["Location"]
    assert "error=invalid_request" in consent_or_error(start.headers["Location"])

    app_ctx.config["SENIM_KUNDELIK_PKCE"] = True
    start = client.get("/login/kundelik")
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    back = consent(start.headers["Location"], "teacher7a")
    assert client.get(path_of(back)).status_code == 302


def consent_or_error(authorize_url: str) -> str:
    """Where Kundelik sends the browser for this authorization request, before any sign-in."""
    import requests

    return requests.get(authorize_url, allow_redirects=False, timeout=5).headers.get("Location", "")
