"""A5/A8/A10/A13: who sees which pupils; the list and its count agree for every role."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import func, select

from app.auth.permissions import (
    IDENTITY_PERMISSIONS,
    ROLE_PERMISSIONS,
    Permission,
    user_permissions,
    visible_pupils,
)
from app.auth.roles import Role
from app.core.audit import AuditAction, AuditEntry, Outcome
from app.core.models import Pupil
from app.extensions import db
from tests.factories import make_class, make_pupil
from tests.security.helpers import signed_in, strip_values

_COUNT = re.compile(r"(\d+) pupils? in your scope")
_ROW = re.compile(r"<tr>\s*<td>", re.IGNORECASE)
_ENGLISH = {"Accept-Language": "en"}


def _names(*pupils: Pupil) -> list[str]:
    return [p.last_name for p in pupils]


def test_class_teacher_sees_only_own_class(app: Flask, world) -> None:
    body = signed_in(app, world.t7a).get("/pupils").get_data(as_text=True)
    assert world.p1.last_name in body
    for other in _names(world.p2, world.p3):
        assert other not in body


def test_class_teacher_cannot_widen_the_list_with_another_class_filter(app: Flask, world) -> None:
    body = signed_in(app, world.t7a).get(f"/pupils?class_id={world.c8b.id}").get_data(as_text=True)
    assert world.p2.last_name not in body


def test_psychologist_cannot_open_a_pupil_of_another_school(app: Flask, world) -> None:
    client = signed_in(app, world.psy1)
    before = db.session.execute(select(func.max(AuditEntry.id))).scalar_one()
    response = client.get(f"/pupils/{world.p3.uuid}")
    assert response.status_code == 404
    assert world.p3.last_name not in response.get_data(as_text=True)
    new = db.session.execute(select(AuditEntry).where(AuditEntry.id > before)).scalars().all()
    assert [(e.action, e.outcome, e.pupil_id, e.actor_id) for e in new] == [
        (AuditAction.ACCESS_DENIED, Outcome.DENIED, world.p3.id, world.psy1.id)
    ]
    denied = new[0]
    assert denied.actor_role and denied.request_id and denied.object_id == world.p3.uuid


def test_psychologist_search_for_another_schools_pupil_finds_nothing(app: Flask, world) -> None:
    query = f"{world.p3.last_name} {world.p3.first_name}"
    client = signed_in(app, world.psy1)
    body = strip_values(client.get("/pupils", query_string={"q": query}).get_data(as_text=True))
    assert world.p3.last_name not in body  # (the search box echoes the query: values are stripped)
    assert not _ROW.findall(body)
    own = f"{world.p1.last_name} {world.p1.first_name}"
    body = strip_values(client.get("/pupils", query_string={"q": own}).get_data(as_text=True))
    assert len(_ROW.findall(body)) == 1 and world.p1.last_name in body


def test_parent_reaches_only_own_child(app: Flask, world) -> None:
    children = db.session.execute(visible_pupils(world.r1, Permission.PARENT_CHILD)).scalars().all()
    assert [p.id for p in children] == [world.p1.id]
    client = signed_in(app, world.r1)
    assert client.get("/pupils").status_code == 403
    for pupil in (world.p1, world.p2):
        assert client.get(f"/pupils/{pupil.uuid}").status_code == 403


def test_education_officers_hold_no_identity_permission(app: Flask, world) -> None:
    for role in (Role.DISTRICT_OFFICER, Role.REGION_OFFICER):
        assert ROLE_PERMISSIONS[role] & IDENTITY_PERMISSIONS == frozenset(), role
    for officer in (world.d1, world.reg1):
        assert user_permissions(officer) & IDENTITY_PERMISSIONS == frozenset()
        client = signed_in(app, officer)
        assert client.get("/pupils").status_code == 403
        assert client.get(f"/pupils/{world.p1.uuid}").status_code == 403


def test_list_equals_count_for_every_role(app: Flask, world) -> None:
    """The count badge, the rows and the scoping query give the same number (Primero's bug class)."""
    for n in range(3):
        make_pupil(world.c7a, last_name=f"ZZ-SECRET-Extra{n}")
    make_pupil(make_class(world.s2, grade=9), last_name="ZZ-SECRET-Other")
    db.session.commit()
    checked = 0
    for name, user in world.users.items():
        if Permission.PUPIL_LIST not in user_permissions(user):
            continue
        response = signed_in(app, user).get("/pupils", headers=_ENGLISH)
        assert response.status_code == 200, name
        body = response.get_data(as_text=True)
        shown = int(_COUNT.search(body).group(1))
        rows = len(_ROW.findall(body))
        expected = len(db.session.execute(visible_pupils(user, Permission.PUPIL_LIST)).scalars().all())
        assert shown == rows == expected, f"{name}: count {shown}, rows {rows}, scope {expected}"
        checked += 1
    assert checked >= 4
