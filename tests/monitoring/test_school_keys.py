"""Per-school data keys: made on first use and wrapped by the master key; a school's damaged key stops that school
only (the integrity page, audited in its chain); `flask keys rotate` re-wraps them (`--school` for one school)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask, template_rendered
from sqlalchemy import func, select, update

from app import create_app
from app.auth.roles import Role
from app.core.audit import AuditAction
from app.core.crypto import DecryptionError, generate_key_b64
from app.core.encryption import keyring
from app.core.school_keys import SchoolKey, SchoolKeyUnavailable, _create, school_keyring
from app.extensions import db
from app.monitoring import services
from app.monitoring.models import CaseOrigin, MonitoringCase, RiskLevel
from app.monitoring.services import add_note
from tests.factories import make_pupil, make_user
from tests.monitoring.support import NOTE_MARKER, entries, open_case
from tests.security.helpers import signed_in


def _keys(school_id: int) -> list[SchoolKey]:
    db.session.expire_all()
    return list(db.session.execute(select(SchoolKey).where(SchoolKey.school_id == school_id)).scalars())


def test_a_school_key_is_made_on_first_use_and_wrapped_by_the_master_key(world) -> None:
    assert db.session.execute(select(func.count()).select_from(SchoolKey)).scalar_one() == 0
    case = open_case(world)
    (key,) = _keys(world.s1.id)
    assert _keys(world.s2.id) == []
    assert key.key_id == f"s{world.s1.id}-1"
    assert keyring().key_id_of(bytes(key.wrapped_key)) == keyring().primary_id  # wrapped under the master key
    assert keyring().key_id_of(bytes(case.risk_ct)) == key.key_id  # the record under the school's key
    assert len(school_keyring(world.s1.id).key_ids) == 1
    open_case(world, pupil=world.p2)
    assert len(_keys(world.s1.id)) == 1  # the same key for every record of the school


def test_two_first_uses_at_once_leave_one_key(world) -> None:
    _create(world.s1.id)
    _create(world.s1.id)  # the second insert meets the first and does nothing
    db.session.commit()
    assert len(_keys(world.s1.id)) == 1


def test_a_wrapped_key_copied_to_another_school_does_not_unwrap(world) -> None:
    open_case(world)
    (key,) = _keys(world.s1.id)
    db.session.add(SchoolKey(school_id=world.s2.id, key_id=f"s{world.s2.id}-1", wrapped_key=key.wrapped_key))
    db.session.commit()
    with pytest.raises(SchoolKeyUnavailable):
        school_keyring(world.s2.id)
    db.session.rollback()


def test_a_record_moved_to_another_school_fails_to_decrypt(world) -> None:
    case = open_case(world)
    open_case(world, pupil=world.p3, owner=world.psy3)  # school 2 has its own key
    db.session.execute(update(MonitoringCase).where(MonitoringCase.id == case.id).values(school_id=world.s2.id))
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(DecryptionError):
        _ = case.risk_level
    db.session.rollback()


def test_a_damaged_school_key_stops_that_school_only(app: Flask, world) -> None:
    here = open_case(world)
    add_note(actor=world.psy1, case=here, body=f"{NOTE_MARKER} здесь")
    there = open_case(world, pupil=world.p3, owner=world.psy3)
    add_note(actor=world.psy3, case=there, body="Записка другой школы")
    (key,) = _keys(world.s1.id)
    damaged = bytearray(key.wrapped_key)
    damaged[-1] ^= 0x01
    db.session.execute(update(SchoolKey).where(SchoolKey.id == key.id).values(wrapped_key=bytes(damaged)))
    db.session.commit()

    rendered: list[str] = []

    def remember(sender: Any, template: Any, context: Any, **extra: Any) -> None:
        rendered.append(template.name)

    psy1, psy3 = signed_in(app, world.psy1), signed_in(app, world.psy3)
    with template_rendered.connected_to(remember, app):
        response = psy1.get(f"/monitoring/cases/{here.uuid}")
    assert response.status_code == 500 and rendered[-1] == "errors/integrity.html"
    assert NOTE_MARKER not in response.get_data(as_text=True)
    (failure,) = entries(AuditAction.CRYPTO_INTEGRITY_FAILED)
    assert failure.school_id == world.s1.id and failure.actor_id == world.psy1.id  # in that school's chain
    assert psy1.get("/monitoring/cases").status_code == 500  # the school's caseload decrypts risk levels too
    assert psy1.get("/pupils").status_code == 200  # what is not under the school key still works

    other = psy3.get(f"/monitoring/cases/{there.uuid}")
    assert other.status_code == 200 and "Записка другой школы" in other.get_data(as_text=True)
    assert psy3.get("/monitoring/cases").status_code == 200


# --- rotation ----------------------------------------------------------------------------------------------


@pytest.fixture
def make_app(app: Flask) -> Iterator[Callable[..., Flask]]:
    made: list[Flask] = []

    def build(keys: str) -> Flask:
        instance = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                          "SENIM_ENCRYPTION_KEYS": keys})
        made.append(instance)
        return instance

    yield build
    for instance in made:
        with instance.app_context():
            db.engine.dispose()


def _wrapped_under() -> dict[int, str]:
    rows = db.session.execute(select(SchoolKey.school_id, SchoolKey.wrapped_key)).all()
    result = {school_id: keyring().key_id_of(bytes(wrapped)) for school_id, wrapped in rows}
    db.session.rollback()
    return result


def test_keys_rotate_rewraps_one_school_then_all(app_ctx: Flask, make_app) -> None:
    k1, k2 = generate_key_b64(), generate_key_b64()
    old, both, new = make_app(f"k1:{k1}"), make_app(f"k2:{k2},k1:{k1}"), make_app(f"k2:{k2}")
    db.session.commit()  # the suite's own session holds no lock while the other apps write

    with old.app_context():
        cases = {}
        for _ in range(2):
            pupil = make_pupil()
            psychologist = make_user(Role.PSYCHOLOGIST, school=pupil.school)
            db.session.commit()
            case = services.open_case(actor=psychologist, pupil=pupil, origin=CaseOrigin.MANUAL,
                                     risk=RiskLevel.ACUTE, reason="r")
            cases[pupil.school_id] = case.id
        first, second = sorted(cases)
        assert set(_wrapped_under().values()) == {"k1"}

    with both.app_context():
        result = both.test_cli_runner().invoke(args=["keys", "rotate", "--school", str(first)])
        assert result.exit_code == 0, result.output
        assert f"1 data key(s) of school {first} re-wrapped under key k2" in result.output
        assert _wrapped_under() == {first: "k2", second: "k1"}
        (rotated,) = entries(AuditAction.KEYS_ROTATED, school_id=first)
        assert '"school_keys": 1' in rotated.details
        assert both.test_cli_runner().invoke(args=["keys", "rotate", "--school", "999999"]).exit_code == 2

    with new.app_context():  # k1 is gone: the re-wrapped school reads, the other does not (yet)
        assert db.session.get(MonitoringCase, cases[first]).risk_level == "acute"
        db.session.rollback()
        with pytest.raises(SchoolKeyUnavailable):
            _ = db.session.get(MonitoringCase, cases[second]).risk_level
        db.session.rollback()

    with both.app_context():
        result = both.test_cli_runner().invoke(args=["keys", "rotate"])
        assert result.exit_code == 0, result.output
        assert "school keys: 1 data key(s) re-wrapped" in result.output
        assert set(_wrapped_under().values()) == {"k2"}

    with new.app_context():
        assert {db.session.get(MonitoringCase, cid).risk_level for cid in cases.values()} == {"acute"}
        db.session.rollback()


def test_keys_rotate_names_a_damaged_school_key_and_rewraps_the_others(app_ctx: Flask, world, make_app) -> None:
    open_case(world)
    open_case(world, pupil=world.p3, owner=world.psy3)
    unknown_key = b"\x01\x02k1" + bytes(40)  # well formed, under a master key nobody has
    db.session.execute(update(SchoolKey).where(SchoolKey.school_id == world.s1.id).values(wrapped_key=unknown_key))
    # Ids read now: the suite's objects must not load inside the other app (its session would borrow that
    # app's connection and keep it past the app's end).
    s1, s2 = world.s1.id, world.s2.id
    db.session.commit()
    rotated = make_app(f"k9:{generate_key_b64()},{app_ctx.config['SENIM_ENCRYPTION_KEYS']}")
    with rotated.app_context():
        result = rotated.test_cli_runner().invoke(args=["keys", "rotate"])
        assert result.exit_code == 1
        assert f"school {s1}: a data key does not unwrap" in result.output
        assert _wrapped_under()[s2] == "k9"
        (failed,) = entries(AuditAction.KEYS_ROTATED, school_id=s1)
        assert failed.outcome == "failed" and '"damaged": 1' in failed.details
