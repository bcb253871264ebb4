"""Issue 9, case 2: nobody grants or changes their own roles; roles that read pupil data need an admin."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.admin import accounts
from app.auth.permissions import PUPIL_DATA_PERMISSIONS, ROLE_PERMISSIONS, reads_pupil_data
from app.auth.roles import Role
from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from tests.admin.helpers import changes, fresh
from tests.factories import login, post


@pytest.fixture
def client(app_ctx):
    test_client = app_ctx.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client


GRANT = {"grant-school_id": 0, "grant-class_id": 0, "grant-district_id": 0, "grant-region_id": 0}


def _denials() -> list[AuditEntry]:
    return list(db.session.execute(
        select(AuditEntry).where(AuditEntry.action == str(AuditAction.ACCESS_DENIED))).scalars())


@pytest.mark.parametrize("role", ["psychologist", "social_pedagogue", "class_teacher", "director"])
def test_director_cannot_grant_a_role_to_himself(client, world, role):
    login(client, world.a1)
    data = {**GRANT, "grant-role": role, "grant-school_id": world.s1.id, "grant-class_id": world.c7a.id}
    response = post(client, f"/admin/staff/{world.a1.uuid}/roles", data, form_page="/admin/staff")
    assert response.status_code in (200, 302)
    assert {a.role for a in fresh(world.a1).assignments} == {"director"}
    assert AuditAction.ROLE_GRANT not in changes()
    assert client.get(f"/screening/pupils/{world.p1.uuid}/results").status_code == 403


def test_a_self_grant_is_refused_with_a_message_and_audited(client, world):
    login(client, world.admin)
    data = {**GRANT, "grant-role": "psychologist", "grant-school_id": world.s1.id}
    response = post(client, f"/admin/staff/{world.admin.uuid}/roles", data, form_page="/admin/staff")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You cannot change your own roles" in page
    assert {a.role for a in fresh(world.admin).assignments} == {"admin"}
    assert AuditAction.ROLE_GRANT not in changes()
    assert [e.object_id for e in _denials()] == [str(world.admin.id)]


def test_own_detail_page_offers_no_role_changes(client, world):
    login(client, world.a1)
    page = client.get(f"/admin/staff/{world.a1.uuid}").get_data(as_text=True)
    assert "Your own roles are changed by an administrator." in page
    assert f"/admin/staff/{world.a1.uuid}/roles\"" not in page


def test_director_cannot_grant_a_pupil_data_role_to_a_colleague(client, world):
    login(client, world.a1)
    for role in ("psychologist", "social_pedagogue"):
        data = {**GRANT, "grant-role": role, "grant-school_id": world.s1.id}
        response = post(client, f"/admin/staff/{world.t7a.uuid}/roles", data, form_page="/admin/staff")
        assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    assert {a.role for a in fresh(world.t7a).assignments} == {"class_teacher"}
    new = {"username": "newpsy", "full_name": "Жаңа Психолог", "email": "new@example.kz",
           "new_password": "көк аспан астында жүгіру", "role": "psychologist", "school_id": world.s1.id,
           "class_id": 0, "district_id": 0, "region_id": 0}
    assert post(client, "/admin/staff/new", new).status_code == 200
    assert not changes()


def test_director_still_appoints_class_teachers_and_removes_staff(client, world):
    login(client, world.a1)
    data = {**GRANT, "grant-role": "class_teacher", "grant-class_id": world.c8b.id}
    assert post(client, f"/admin/staff/{world.t7a.uuid}/roles", data, form_page="/admin/staff").status_code == 302
    assert {(a.role, a.class_id) for a in fresh(world.t7a).assignments} == {
        ("class_teacher", world.c7a.id), ("class_teacher", world.c8b.id)}
    psy_role = world.psy1.assignments[0]
    assert post(client, f"/admin/staff/{world.psy1.uuid}/roles/{psy_role.id}/revoke",
                form_page="/admin/staff").status_code == 302
    assert fresh(world.psy1).assignments == []


def test_director_cannot_take_over_a_psychologists_account(client, world):
    """Setting a psychologist's password or second factor would let the director sign in as them."""
    login(client, world.a1)
    before = fresh(world.psy1).password_hash
    response = post(client, f"/admin/staff/{world.psy1.uuid}/password", {"pw-new_password": "көк аспан астында"},
                    form_page="/admin/staff")
    assert response.status_code == 404
    assert post(client, f"/admin/staff/{world.psy1.uuid}/mfa-reset", form_page="/admin/staff").status_code == 404
    assert fresh(world.psy1).password_hash == before and fresh(world.psy1).totp_secret_ct is not None
    page = client.get(f"/admin/staff/{world.psy1.uuid}").get_data(as_text=True)
    assert "only an administrator can set its password" in page
    # A class teacher's account stays the director's to help with.
    assert accounts.can_take_over(world.a1, world.t7a) and not accounts.can_take_over(world.a1, world.psy1)


def test_the_rule_follows_the_role_matrix():
    expected = tuple(r for r in accounts.DIRECTOR_REVOCABLE if not ROLE_PERMISSIONS[r] & PUPIL_DATA_PERMISSIONS)
    assert expected == accounts.DIRECTOR_GRANTABLE
    assert reads_pupil_data(Role.PSYCHOLOGIST) and reads_pupil_data(Role.SOCIAL_PEDAGOGUE)
    assert not reads_pupil_data(Role.CLASS_TEACHER)
