"""Issue 9, case 5 and two findings beside it: each purpose has its own counters; no unsalted hash of what was
typed; outbox bodies (password-reset links) encrypted at rest."""

from __future__ import annotations

import hashlib
import re

from flask import Flask
from sqlalchemy import inspect, select, text

from app.auth import services
from app.auth.models import FailurePurpose, LoginFailure
from app.core.audit import AuditAction, AuditEntry
from app.core.mail import OutboxMessage, deliver_due
from app.extensions import db
from tests.core.fake_smtp import FakeSMTP
from tests.factories import PASSWORD, login, post, totp_now
from tests.migration_support import MIGRATIONS, scratch_app
from tests.screening.workflow_support import campaign, consent, session_with_code

SCHOOL_NAT = "10.7.7.7"


def _pupil_client(app: Flask):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = SCHOOL_NAT
    return client


def _enter(client, code: str):
    return post(client, "/s", {"code": code}, form_page="/s")


def _opened(response) -> bool:
    return response.status_code == 302 and "/s/" in response.headers["Location"]


def test_a_class_of_30_behind_one_address_mistypes_without_locking_anyone_out(app_ctx, world):
    """30 pupils on one NAT address, each with 3 typos before the right code: every pupil gets in, and the
    teacher signing in from the same address afterwards is not paused."""
    consent(world.p1)
    camp = campaign(world.psy1, world.s1, [world.c7a])
    codes = [f"GOOD-{n:04d}" for n in range(30)]
    for code in codes:
        session_with_code(camp, world.p1, code=code)
    for n, code in enumerate(codes):
        pupil = _pupil_client(app_ctx)
        for typo in range(3):
            assert not _opened(_enter(pupil, f"BAD{n}-{typo}"))
        assert _opened(_enter(pupil, code)), f"pupil {n} was refused the right code"
    teacher = app_ctx.test_client()
    teacher.environ_base["REMOTE_ADDR"] = SCHOOL_NAT
    assert login(teacher, world.t7a).status_code == 302
    assert teacher.get("/pupils").status_code == 200


def test_one_browser_guessing_is_stopped_without_stopping_its_classmates(app_ctx, world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    session_with_code(camp, world.p1, code="GOOD-0001")
    session_with_code(camp, world.p2, code="GOOD-0002")
    guesser = _pupil_client(app_ctx)
    for n in range(app_ctx.config["SENIM_OTC_DEVICE_THRESHOLD"]):
        _enter(guesser, f"WRONG-{n:04d}")
    assert not _opened(_enter(guesser, "GOOD-0001")), "the guessing browser is paused"
    assert _opened(_enter(_pupil_client(app_ctx), "GOOD-0002")), "a classmate on the same address still gets in"


def test_guessing_from_one_address_without_cookies_hits_the_address_limit(app_ctx, world, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "SENIM_OTC_IP_THRESHOLD", 5)
    camp = campaign(world.psy1, world.s1, [world.c7a])
    session_with_code(camp, world.p1, code="GOOD-0001")
    for n in range(5):
        _enter(_pupil_client(app_ctx), f"WRONG-{n:04d}")  # a new browser (no cookie) every time
    assert not _opened(_enter(_pupil_client(app_ctx), "GOOD-0001"))


def test_second_factor_failures_do_not_pause_password_sign_in_from_the_address(app_ctx, world):
    address = "10.8.8.8"
    for n in range(app_ctx.config["SENIM_IP_THROTTLE_THRESHOLD"]):
        services.count_failure(FailurePurpose.MFA, key=f"k{n}", ip=address)
        services.count_failure(FailurePurpose.CODE, key=f"d{n}", ip=address)
        services.count_failure(FailurePurpose.RESET, key=f"r{n}", ip=address)
    db.session.commit()
    assert not services.ip_throttled(address)
    client = app_ctx.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    assert login(client, world.psy1).status_code == 302
    assert client.get("/pupils").status_code == 200


def test_failed_sign_in_keeps_a_keyed_hmac_not_a_plain_hash(app_ctx, world):
    client = app_ctx.test_client()
    post(client, "/login", {"username": "Нұрлан.Тестов", "password": "wrong"}, form_page="/login")
    plain = hashlib.sha256("нұрлан.тестов".encode()).hexdigest()
    keys = db.session.execute(select(LoginFailure.account_key)).scalars().all()
    assert keys and all(plain[:16] not in key for key in keys)
    for entry in db.session.execute(select(AuditEntry).where(
            AuditEntry.action == str(AuditAction.LOGIN_FAILED))).scalars():
        assert plain[:16] not in str(entry.details)
    # The keyed key still counts the same name together (lockout works).
    assert services.account_key("НҰРЛАН.тестов ") == services.account_key("нұрлан.тестов")


def test_reset_links_are_encrypted_at_rest_and_sent_in_clear(app_ctx, world):
    world.t7a.email = "t7a@school.example"
    db.session.commit()
    with FakeSMTP().running(app_ctx) as smtp:
        client = app_ctx.test_client()
        post(client, "/password/forgot", {"identifier": "t7a"}, form_page="/password/forgot")
        message = db.session.execute(select(OutboxMessage)).scalar_one()
        token = re.search(r"/password/reset/([\w-]+)", message.body).group(1)
        with db.engine.connect() as connection:
            raw = connection.execute(text("SELECT subject, body, body_ct, recipients FROM mail_outbox")).one()
        assert raw.body is None and token.encode() not in bytes(raw.body_ct)
        assert all(token not in str(value) for value in raw)
        assert deliver_due().sent == 1
    assert token in smtp.messages[0]


def test_migration_0008_both_ways(tmp_path):
    from flask_migrate import downgrade, upgrade

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0007_password_reset")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO login_failures (account_key, ip, at) VALUES ('abc', '1.2.3.4', "
                              "'2026-01-01 00:00:00')"))
            conn.execute(text(
                "INSERT INTO mail_outbox (recipients, subject, body, language, created_at, attempts, next_attempt_at, "
                "sent_at) VALUES ('[]', 's', 'sent link', 'kk', '2026-01-01', 1, '2026-01-01', '2026-01-01'), "
                "('[]', 's', 'waiting link', 'kk', '2026-01-01', 0, '2026-01-01', NULL)"))
        upgrade(directory=MIGRATIONS, revision="0008_security_findings")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM login_failures")).scalar_one() == 0
            rows = conn.execute(text("SELECT uuid, body FROM mail_outbox ORDER BY id")).all()
        assert [r.body for r in rows] == [None, "waiting link"]  # the unsent one is still sendable
        assert all(len(r.uuid) == 36 for r in rows) and rows[0].uuid != rows[1].uuid
        assert "purpose" in {c["name"] for c in inspect(db.engine).get_columns("login_failures")}
        downgrade(directory=MIGRATIONS, revision="0007_password_reset")
        assert "body_ct" not in {c["name"] for c in inspect(db.engine).get_columns("mail_outbox")}
        with db.engine.connect() as conn:
            bodies = conn.execute(text("SELECT body FROM mail_outbox ORDER BY id")).scalars().all()
        assert bodies == ["", "waiting link"]


def test_a_legacy_plaintext_body_is_sent_and_then_cleared(app_ctx):
    message = OutboxMessage(uuid="00000000-0000-4000-8000-000000000001", recipients='["a@b.example"]',
                            subject="s", language="kk", legacy_body="queued before 0008")
    db.session.add(message)
    db.session.commit()
    with FakeSMTP().running(app_ctx) as smtp:
        assert deliver_due().sent == 1
    assert "queued before 0008" in smtp.messages[0]
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT body FROM mail_outbox")).scalar_one() is None


def test_totp_helper_still_signs_in(app_ctx, world):
    """The security suite's sign-in helper (password, then code) is unaffected by per-purpose counting."""
    client = app_ctx.test_client()
    assert login(client, world.psy1, PASSWORD).status_code == 302
    assert totp_now(world.psy1)
