"""The class teacher's pages: own classes only, flags only, audited."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.auth.models import RoleAssignment
from app.classes import services
from app.classes.services import NO_FLAG, FlagColour
from app.core.audit import AuditAction, AuditEntry, Outcome
from app.extensions import db
from tests.factories import login

ROLES = ["admin", "a1", "psy1", "soc1", "t7a", "t8b", "r1", "pupil1", "d1", "reg1", "norole"]
#: Words that must never appear on a teacher's page (instruments, scores, registries, notes).
FORBIDDEN = ["ZZ-SECRET-NOTE", "PHQ", "GAD", "SDQ", "score", "registry", "police"]


@pytest.mark.parametrize("who", ROLES)
def test_index_role_matrix(client, world, who):
    login(client, getattr(world, who))
    assert client.get("/class/").status_code == (200 if who in {"t7a", "t8b"} else 403)


@pytest.mark.parametrize("who", ROLES)
def test_flags_role_matrix(client, world, who):
    login(client, getattr(world, who))
    expected = {"t7a": 200, "t8b": 404}.get(who, 403)
    assert client.get(f"/class/{world.c7a.id}/flags").status_code == expected


@pytest.mark.parametrize("path", ["/class/", "/class/1/flags"])
def test_anonymous_is_sent_to_sign_in(client, world, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_teacher_sees_own_class_with_flags_only(client, world):
    login(client, world.t7a)
    body = client.get(f"/class/{world.c7a.id}/flags").get_data(as_text=True)
    assert world.p1.last_name in body
    assert world.p2.last_name not in body and world.p3.last_name not in body
    for pupil in (world.p1, world.p2):
        assert pupil.iin not in body and pupil.uuid not in body
    assert "flag--grey" in body
    for word in FORBIDDEN:
        assert word not in body


def test_index_lists_only_own_classes(client, world):
    login(client, world.t7a)
    body = client.get("/class/").get_data(as_text=True)
    assert f"/class/{world.c7a.id}/flags" in body and f"/class/{world.c8b.id}/flags" not in body


def test_other_class_is_404_like_a_missing_one_and_audited(client, world):
    login(client, world.t7a)
    other = client.get(f"/class/{world.c8b.id}/flags")
    missing = client.get("/class/999999/flags")
    assert other.status_code == missing.status_code == 404
    denied = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == AuditAction.ACCESS_DENIED.value)
    ).scalars().all()
    assert {(e.object_type, e.object_id) for e in denied} >= {("class", str(world.c8b.id)), ("class", "999999")}
    assert all(e.outcome == Outcome.DENIED.value and e.actor_id == world.t7a.id for e in denied)


def test_reading_flags_is_audited(client, world):
    login(client, world.t7a)
    client.get(f"/class/{world.c7a.id}/flags")
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == AuditAction.CLASS_FLAGS_READ.value)
    ).scalar_one()
    assert entry.actor_id == world.t7a.id and entry.object_id == str(world.c7a.id)
    assert entry.school_id == world.s1.id and "ZZ" not in entry.details


def test_scope_change_applies_at_once(client, world):
    login(client, world.t7a)
    assert client.get(f"/class/{world.c7a.id}/flags").status_code == 200
    assignment = db.session.execute(
        select(RoleAssignment).where(RoleAssignment.user_id == world.t7a.id)
    ).scalar_one()
    assignment.class_id = world.c8b.id
    db.session.commit()
    assert client.get(f"/class/{world.c7a.id}/flags").status_code == 404
    assert client.get(f"/class/{world.c8b.id}/flags").status_code == 200


def test_navigation_shows_my_class_to_teachers_only(client, world):
    login(client, world.t7a)
    assert 'href="/class/"' in client.get("/").get_data(as_text=True)


def test_flag_hook_defaults_to_no_flag(app_ctx, world):
    assert services.flags_for_class(world.c7a) == {}
    assert NO_FLAG.colour is FlagColour.GREY and NO_FLAG.next_step is None


def test_flags_from_the_hook_are_rendered(client, world, monkeypatch):
    monkeypatch.setattr(services, "flags_for_class", lambda c: {world.p1.id: services.talk_flag(date(2026, 3, 9))})
    login(client, world.t7a)
    body = client.get(f"/class/{world.c7a.id}/flags").get_data(as_text=True)
    assert "flag--amber" in body and "09.03.2026" in body


def test_open_screening_alert_flags_the_pupil_until_resolved(client, world):
    from app.core.models import utcnow
    from app.screening import services as screening
    from tests.screening.workflow_support import ACUTE_ASQ, ASQ

    result = screening.submit_result(actor=world.psy1, session=None, answers=ACUTE_ASQ, pupil=world.p1,
                                     instrument=screening.instrument_for(ASQ), language="kk")
    today = utcnow().astimezone(ZoneInfo("Asia/Almaty")).date()
    assert services.flags_for_class(world.c7a) == {world.p1.id: services.talk_flag(today)}
    assert services.flags_for_class(world.c8b) == {}
    login(client, world.t7a)
    body = client.get(f"/class/{world.c7a.id}/flags").get_data(as_text=True)
    assert "flag--amber" in body and "flag--red" not in body and "ASQ" not in body and "asq" not in body
    for alert in result.alerts:
        alert.resolved_at = utcnow()
    db.session.commit()
    assert services.flags_for_class(world.c7a) == {}
