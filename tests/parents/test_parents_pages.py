"""Parents' pages: own children only, a child page without sensitive data, audited (guidance: tests/guidance)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.core.audit import AuditAction, AuditEntry, Outcome
from app.extensions import db
from tests.factories import SECRET_MARKER, login
from tests.security.helpers import without_tokens

ROLES = ["admin", "a1", "psy1", "soc1", "t7a", "r1", "pupil1", "d1", "reg1", "norole"]


@pytest.mark.parametrize("who", ROLES)
def test_children_role_matrix(client, world, who):
    login(client, getattr(world, who))
    assert client.get("/parents/children").status_code == (200 if who == "r1" else 403)


@pytest.mark.parametrize("who", ROLES)
def test_child_role_matrix(client, world, who):
    login(client, getattr(world, who))
    assert client.get(f"/parents/child/{world.p1.uuid}").status_code == (200 if who == "r1" else 403)


@pytest.mark.parametrize("path", ["/parents/children", "/parents/child/x"])
def test_anonymous_is_sent_to_sign_in(client, world, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_children_lists_only_own_children(client, world):
    login(client, world.r1)
    body = client.get("/parents/children").get_data(as_text=True)
    assert world.p1.uuid in body and world.p2.uuid not in body and world.p3.uuid not in body
    assert world.p2.last_name not in body


def test_other_child_is_404_like_a_missing_one_and_audited(client, world):
    login(client, world.r1)
    random_id = str(uuid.uuid4())
    other = client.get(f"/parents/child/{world.p2.uuid}")
    missing = client.get(f"/parents/child/{random_id}")
    assert other.status_code == missing.status_code == 404
    # The bodies differ only by the requested id (the language form's "next") and the time-stamped
    # CSRF tokens.
    assert without_tokens(other.get_data(as_text=True), world.p2.uuid) == without_tokens(
        missing.get_data(as_text=True), random_id)
    denied = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == AuditAction.ACCESS_DENIED.value,
                                 AuditEntry.pupil_id == world.p2.id)
    ).scalar_one()
    assert denied.outcome == Outcome.DENIED.value and denied.actor_id == world.r1.id


def test_child_page_shows_school_psychologist_and_rights_only(client, world):
    world.psy1.email = "psy1@school.example"
    db.session.commit()
    login(client, world.r1)
    body = client.get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)
    assert world.p1.first_name in body and world.s1.name_kk in body and "7А" in body
    assert "psy1@school.example" in body
    assert "94-V" in body and "377" in body
    assert 'href="tel:150"' in body and 'href="tel:111"' in body and 'href="tel:112"' in body
    assert "/guidance/parents" in body
    assert world.p1.iin not in body and "ZZ-SECRET-NOTE" not in body
    assert world.p2.uuid not in body
    assert f"/consent/my-children/{world.p1.uuid}" in body


def test_reading_child_page_is_audited(client, world):
    login(client, world.r1)
    client.get(f"/parents/child/{world.p1.uuid}")
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == AuditAction.PARENT_CHILD_READ.value)
    ).scalar_one()
    assert (entry.actor_id, entry.pupil_id, entry.school_id) == (world.r1.id, world.p1.id, world.s1.id)
    assert SECRET_MARKER not in entry.details
