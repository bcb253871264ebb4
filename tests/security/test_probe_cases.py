"""Issue 9, cases 6-10 and the findings beside them: denials in the object's school chain, demo accounts in
production, over-long ids, invalid UTF-8, the product's name in passwords, FHIR downloads sandboxed, and a
psychologist locked out while acute alerts are open."""

from __future__ import annotations

import json
import secrets

import pytest
from flask import Flask
from sqlalchemy import select

from app.auth.passwords import PolicyViolation, check_password_policy
from app.core import demo
from app.core.audit import AuditAction, AuditEntry
from app.core.crypto import generate_key_b64
from app.core.mail import OutboxMessage
from app.core.models import School
from app.extensions import db
from app.screening.models import LocalInstrument
from app.screening.services import instrument_for, submit_result
from tests.factories import PASSWORD, login, post
from tests.screening.workflow_support import ACUTE_ASQ, ASQ, campaign, consent
from tests.security.helpers import signed_in


def _denials() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.ACCESS_DENIED)).order_by(AuditEntry.id)).scalars())


def _acute(world, pupil=None):
    return submit_result(actor=world.psy1, session=None, answers=ACUTE_ASQ, pupil=pupil or world.p1,
                         instrument=instrument_for(ASQ), language="kk")


# --- case 6: a denial lands in the school of the object ----------------------------------------------------


def test_out_of_scope_denials_name_the_school_of_the_object(app: Flask, world) -> None:
    """A psychologist of school 2 probes school 1's class, campaign, local method, alert and result."""
    consent(world.p1)
    camp = campaign(world.psy1, world.s1, [world.c7a])
    result = _acute(world)
    alert = result.alerts[0]
    local = LocalInstrument(school_id=world.s1.id, instrument_id="mood", version="1.0", instrument_yaml="x",
                            texts_kk_yaml="x", texts_ru_yaml="x", texts_en_yaml="x", sha256="0" * 64,
                            uploaded_by_id=world.psy1.id)
    db.session.add(local)
    db.session.commit()
    intruder = signed_in(app, world.psy3)  # a psychologist of school 2
    probes = {
        "class": f"/screening/classes/{world.c7a.id}",
        "campaign": f"/screening/campaigns/{camp.uuid}",
        "local_instrument": f"/screening/local/{local.uuid}",
        "alert": f"/screening/alerts/{alert.uuid}/acknowledge",
        "screening_result": f"/screening/pupils/{world.p1.uuid}/results/{result.uuid}.fhir.json",
    }
    for kind, path in probes.items():
        before = len(_denials())
        response = post(intruder, path, form_page="/screening/alerts") if kind == "alert" else intruder.get(path)
        assert response.status_code == 404, (kind, response.status_code)
        new = _denials()[before:]
        assert new, f"{kind}: the refusal was not audited"
        assert all(entry.school_id == world.s1.id for entry in new), (kind, [e.school_id for e in new])


def test_a_teachers_probe_of_another_class_lands_in_that_school(app: Flask, world) -> None:
    teacher = signed_in(app, world.t7a)
    assert teacher.get(f"/class/{world.c8b.id}/flags").status_code == 404
    assert _denials()[-1].school_id == world.c8b.school_id


# --- case 7: demo accounts in production ----------------------------------------------------------------------


@pytest.fixture
def production_with_demo(clean_env, make_app, app: Flask, app_ctx) -> Flask:
    database = app.config["SQLALCHEMY_DATABASE_URI"]
    for name, value in {"SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": database,
                        "SENIM_ENCRYPTION_KEYS": f"prod1:{generate_key_b64()}",
                        "SENIM_BLIND_INDEX_KEY": f"bidx1:{generate_key_b64()}",
                        "SENIM_BASE_URL": "https://senim.example"}.items():
        clean_env.setenv(name, value)
    # The demo data is written with the test keys (as a development database copied to production would be).
    demo.create()
    return make_app("production")


@pytest.mark.parametrize("username", ["director", "teacher7a", "parent", "pupil", "psychologist"])
def test_demo_accounts_are_refused_at_sign_in_in_production(production_with_demo: Flask, username: str) -> None:
    from app.auth.services import LoginOutcome, attempt_login

    with production_with_demo.test_request_context("/login", base_url="https://senim.example"):
        result = attempt_login(username=username, password=demo.DEMO_PASSWORD, ip="1.2.3.4", user_agent=None)
        assert result.outcome is LoginOutcome.FAILED and result.user is None  # the same answer as a wrong password
        failed = db.session.execute(select(AuditEntry).where(
            AuditEntry.action == str(AuditAction.LOGIN_FAILED)).order_by(AuditEntry.id.desc())).scalars().first()
        assert json.loads(failed.details)["reason"] == "demo_account"


def test_a_demo_account_with_a_changed_password_is_still_refused(production_with_demo: Flask) -> None:
    from app.auth.models import User
    from app.auth.passwords import hash_password
    from app.auth.services import attempt_login, hasher

    with production_with_demo.test_request_context("/login", base_url="https://senim.example"):
        user = db.session.execute(select(User).where(User.username == "teacher7a")).scalar_one()
        user.password_hash = hash_password(hasher(), "a private passphrase of the teacher")
        db.session.commit()
        result = attempt_login(username="teacher7a", password="a private passphrase of the teacher", ip="1.2.3.4",
                               user_agent=None)
        assert result.user is None


def test_the_demo_password_is_refused_in_production_for_any_account(production_with_demo: Flask, world) -> None:
    from app.auth.services import attempt_login

    with production_with_demo.test_request_context("/login", base_url="https://senim.example"):
        result = attempt_login(username=world.t7a.username, password=demo.DEMO_PASSWORD, ip="1.2.3.4",
                               user_agent=None)
        assert result.user is None
        ok = attempt_login(username=world.t8b.username, password=PASSWORD, ip="1.2.3.4", user_agent=None)
        assert ok.user is not None  # a real account with its own password still signs in


# --- case 8: over-long ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/class/100000000000000000000000/flags",
    "/class/2147483648/flags",
    "/screening/classes/99999999999999999999999999",
    "/admin/classes/100000000000000000000000/edit",
    "/admin/schools/100000000000000000000000/edit",
    "/reports/?school=100000000000000000000000",
])
def test_over_long_ids_answer_an_audited_404(app: Flask, world, path: str) -> None:
    user = world.admin if path.startswith(("/admin", "/reports")) else (
        world.psy1 if path.startswith("/screening") else world.t7a)
    client = signed_in(app, user)
    before = len(_denials())
    assert client.get(path).status_code == 404
    assert len(_denials()) == before + 1


def test_over_long_page_numbers_do_not_break_lists(app: Flask, world) -> None:
    client = signed_in(app, world.admin)
    assert client.get("/admin/staff?page=100000000000000000000000").status_code == 200
    assert client.get("/admin/audit?page=100000000000000000000000").status_code == 200


# --- case 9: invalid UTF-8 --------------------------------------------------------------------------------------


def test_invalid_utf8_in_a_query_answers_400(app: Flask, world) -> None:
    client = signed_in(app, world.psy1)
    assert client.get("/pupils?q=%FF%FE").status_code == 400
    assert client.get("/pupils?q=%D0%90%D1%81%D0%B0%D0%BD").status_code == 200  # "Асан" is fine


def test_invalid_utf8_in_a_form_changes_nothing(app: Flask, world) -> None:
    client = signed_in(app, world.admin)
    from tests.factories import csrf_token

    token = csrf_token(client, "/admin/schools/new")
    before = db.session.execute(select(School.id)).scalars().all()
    body = f"csrf_token={token}&name=%D0%A8%D0%BA%D0%BE%FF&district_id={world.s1.district_id}".encode()
    response = client.post("/admin/schools/new", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert db.session.execute(select(School.id)).scalars().all() == before
    multipart = client.post("/admin/schools/new", data={"csrf_token": token, "name": "Мектеп\ufffd"},
                            content_type="multipart/form-data")
    assert multipart.status_code == 400


def test_invalid_utf8_in_the_path_answers_400(app: Flask, world) -> None:
    assert app.test_client().get("/s/%FF").status_code == 400


def test_a_nul_byte_in_a_query_a_form_or_the_path_answers_400(app: Flask, world) -> None:
    """PostgreSQL refuses U+0000 in a text parameter: a NUL in the sign-in name or the staff search was a 500
    there (found by probing the running app); now it is refused before any view, on every database."""
    from tests.factories import csrf_token

    anonymous = app.test_client()
    token = csrf_token(anonymous)
    body = f"csrf_token={token}&username=admin%00x&password=x".encode()
    assert anonymous.post("/login", data=body, content_type="application/x-www-form-urlencoded").status_code == 400
    assert anonymous.get("/s/a%00b").status_code == 400
    client = signed_in(app, world.admin)
    assert client.get("/admin/staff?q=%00").status_code == 400
    assert client.get("/admin/staff?q=a").status_code == 200
    token = csrf_token(client, "/admin/schools/new")
    before = db.session.execute(select(School.id)).scalars().all()
    multipart = client.post("/admin/schools/new", data={"csrf_token": token, "name": "Мектеп\x00"},
                            content_type="multipart/form-data")
    assert multipart.status_code == 400
    assert db.session.execute(select(School.id)).scalars().all() == before


# --- case 10: the product's name in a password -------------------------------------------------------------------


@pytest.mark.parametrize("password", ["мой Senim пароль 2026", "SEnIM-forever-2026", "Sеnіm-forever-2026",
                                      "сенім құпия сөзім", "kundelik-forever-1"])
def test_the_products_name_is_refused_inside_a_password(password: str) -> None:
    assert PolicyViolation.CONTAINS_CONTEXT in check_password_policy(password)


def test_an_ordinary_passphrase_is_still_accepted() -> None:
    assert check_password_policy("көк аспан астында жүгіру") == []
    assert check_password_policy("seminar of the nine rivers") == []  # "semin…" is not "senim"


# --- the FHIR downloads run nothing in a browser -------------------------------------------------------------------


def test_fhir_downloads_are_sandboxed(app: Flask, world) -> None:
    result = _acute(world)
    client = signed_in(app, world.psy1)
    for path in (f"/screening/pupils/{world.p1.uuid}/results/{result.uuid}.fhir.json",
                 "/screening/instruments/asq/1.0/questionnaire.json"):
        response = client.get(path)
        if response.status_code == 302:  # step-up first
            from tests.factories import totp_now

            post(client, response.headers["Location"], {"password": PASSWORD, "code": totp_now(world.psy1)})
            response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Security-Policy"].startswith("sandbox"), path


# --- a psychologist locked out during an open acute alert ---------------------------------------------------------


def _lock_out(app: Flask, user) -> None:
    client = app.test_client()
    for _ in range(app.config["SENIM_LOCKOUT_THRESHOLD"]):
        post(client, "/login", {"username": user.username, "password": "wrong password"}, form_page="/login")


def test_a_psychologist_locked_out_during_an_acute_alert_is_reported_to_the_director(app_ctx, world,
                                                                                    monkeypatch) -> None:
    monkeypatch.setitem(app_ctx.config, "SENIM_SMTP_HOST", "127.0.0.1")
    world.a1.email = "director@s1.example"
    db.session.commit()
    _acute(world)
    _lock_out(app_ctx, world.psy1)
    db.session.expire_all()
    messages = [m for m in db.session.execute(select(OutboxMessage)).scalars() if "director@s1" in m.recipients]
    assert len(messages) == 1 and "/screening/escalations" in messages[0].body
    reported = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.LOCKOUT_REPORTED))).scalars().all()
    assert [(e.school_id, e.object_id) for e in reported] == [(world.s1.id, str(world.psy1.id))]
    director = app_ctx.test_client()
    director.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(director, world.a1)
    page = director.get("/screening/escalations").get_data(as_text=True)
    assert "cannot sign in while acute alerts are open" in page and world.psy1.display_name in page


def test_a_lockout_without_open_acute_alerts_tells_nobody(app_ctx, world, monkeypatch) -> None:
    monkeypatch.setitem(app_ctx.config, "SENIM_SMTP_HOST", "127.0.0.1")
    world.a1.email = "director@s1.example"
    db.session.commit()
    _lock_out(app_ctx, world.psy1)
    assert db.session.execute(select(OutboxMessage)).first() is None
    assert not db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.LOCKOUT_REPORTED))).first()
