"""Accounts and role assignments: creation, mass assignment, disable, resets, scope changes, parents."""

from __future__ import annotations

from sqlalchemy import func, select

from app.auth.models import RoleAssignment, User, UserSession
from app.core.audit import AuditAction
from app.core.models import PupilGuardian
from app.extensions import db
from tests.admin.helpers import changes, fresh
from tests.factories import PASSWORD, login, post

NEW_PASSWORD = "көк аспан астында жүгіру"


def _users() -> int:
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def _new_user(**overrides):
    return {"username": "newpsy", "full_name": "Жаңа Психолог", "email": "new@example.kz",
            "new_password": NEW_PASSWORD, "role": "psychologist", "school_id": 0, "class_id": 0,
            "district_id": 0, "region_id": 0, **overrides}


def test_admin_creates_account_with_role(client, world):
    login(client, world.admin)
    response = post(client, "/admin/staff/new", _new_user(school_id=world.s2.id))
    assert response.status_code == 302
    user = db.session.execute(select(User).where(User.username == "newpsy")).scalar_one()
    assert user.password_hash.startswith("$argon2id$")
    assert [(a.role, a.school_id) for a in user.assignments] == [("psychologist", world.s2.id)]
    assert user.password_change_required
    assert changes() == {AuditAction.USER_CREATE: 1, AuditAction.PASSWORD_CHANGE_REQUIRED: 1,
                         AuditAction.ROLE_GRANT: 1}
    other = client.application.test_client()
    assert login(other, user, NEW_PASSWORD, second_factor=False).status_code == 302


def test_bad_account_input_changes_nothing(client, world):
    login(client, world.admin)
    before = _users()
    cases = [
        ({"new_password": "short"}, "Use at least 10 characters."),
        ({"new_password": "password123"}, "too common"),
        ({"new_password": "newpsy is my password"}, "must not contain your name"),
        ({"username": "psy1"}, "This sign-in name is taken."),
        ({"username": "bad name!"}, "Latin letters"),
        ({"email": "not-an-email"}, "e-mail address"),
        ({"school_id": 0}, "Choose where this role applies."),
        ({"role": "pupil"}, "Not a valid choice"),
    ]
    for overrides, message in cases:
        response = post(client, "/admin/staff/new", _new_user(**{"school_id": world.s1.id, **overrides}))
        assert response.status_code == 200, overrides
        assert message in response.get_data(as_text=True), overrides
    assert _users() == before and not changes()


def test_director_cannot_grant_admin_or_reach_another_school(client, world):
    login(client, world.a1)
    before = _users()
    for overrides in ({"role": "admin"}, {"role": "district_officer", "district_id": world.s1.district_id},
                      {"school_id": world.s2.id}, {"role": "director", "school_id": world.s1.id}):
        response = post(client, "/admin/staff/new", _new_user(**{"school_id": world.s1.id, **overrides}))
        assert response.status_code == 200, overrides
        assert "Not a valid choice" in response.get_data(as_text=True), overrides
    response = post(client, "/admin/staff/new", _new_user(role="", school_id=world.s1.id))
    assert response.status_code == 200
    assert _users() == before and not changes()
    grant = {"grant-role": "admin", "grant-school_id": 0, "grant-class_id": 0, "grant-district_id": 0,
             "grant-region_id": 0}
    path = f"/admin/staff/{world.psy1.uuid}/roles"
    assert post(client, path, grant, form_page="/admin/staff").status_code == 200
    assert post(client, path, {**grant, "grant-role": "psychologist", "grant-school_id": world.s2.id},
                form_page="/admin/staff").status_code == 200
    assert {a.role for a in fresh(world.psy1).assignments} == {"psychologist"}
    assert not changes()


def test_a_forged_role_value_is_refused_on_the_form_not_a_500(client, world):
    """A role that is not a Role at all (a forged form: "-1", a long number) raised ValueError in the form's
    scope check: a 500 on creating an account and on granting a role."""
    login(client, world.a1)
    before = _users()
    for forged in ("-1", "99999999999999999999", "ADMIN"):
        response = post(client, "/admin/staff/new", _new_user(role=forged, school_id=world.s1.id))
        assert response.status_code == 200, forged
        assert "Not a valid choice" in response.get_data(as_text=True), forged
        grant = {"grant-role": forged, "grant-school_id": world.s1.id, "grant-class_id": 0,
                 "grant-district_id": 0, "grant-region_id": 0}
        assert post(client, f"/admin/staff/{world.psy1.uuid}/roles", grant,
                    form_page="/admin/staff").status_code == 200, forged
    assert _users() == before and not changes()
    assert {a.role for a in fresh(world.psy1).assignments} == {"psychologist"}


def test_director_creates_class_teacher_in_own_school(client, world):
    login(client, world.a1)
    response = post(client, "/admin/staff/new", _new_user(username="t7b", role="class_teacher",
                                                          class_id=world.c7a.id))
    assert response.status_code == 302
    user = db.session.execute(select(User).where(User.username == "t7b")).scalar_one()
    assert [(a.role, a.school_id, a.class_id) for a in user.assignments] == [
        ("class_teacher", world.s1.id, world.c7a.id)]
    assert "t7b" in client.get("/admin/staff").get_data(as_text=True)


def test_disable_ends_open_sessions_at_once(client, world, app):
    teacher = app.test_client()
    login(teacher, world.t7a)
    assert teacher.get("/pupils").status_code == 200
    login(client, world.admin)
    assert post(client, f"/admin/staff/{world.t7a.uuid}/disable", form_page="/admin/staff").status_code == 302
    response = teacher.get("/pupils")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    open_sessions = db.session.execute(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == world.t7a.id, UserSession.revoked_at.is_(None))).scalar_one()
    assert open_sessions == 0
    assert login(app.test_client(), world.t7a).status_code == 200  # refused: form shown again
    assert post(client, f"/admin/staff/{world.t7a.uuid}/enable", form_page="/admin/staff").status_code == 302
    assert login(app.test_client(), world.t7a).status_code == 302
    assert changes() == {AuditAction.USER_DISABLE: 1, AuditAction.USER_ENABLE: 1}


def test_scope_change_applies_without_new_sign_in(client, world, app):
    teacher = app.test_client()
    teacher.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(teacher, world.t7a)
    assert world.p1.last_name in teacher.get("/pupils").get_data(as_text=True)
    login(client, world.admin)
    old = world.t7a.assignments[0]
    assert post(client, f"/admin/staff/{world.t7a.uuid}/roles/{old.id}/revoke",
                form_page="/admin/staff").status_code == 302
    grant = {"grant-role": "class_teacher", "grant-school_id": 0, "grant-class_id": world.c8b.id,
             "grant-district_id": 0, "grant-region_id": 0}
    assert post(client, f"/admin/staff/{world.t7a.uuid}/roles", grant, form_page="/admin/staff").status_code == 302
    page = teacher.get("/pupils").get_data(as_text=True)
    assert world.p2.last_name in page and world.p1.last_name not in page
    assert changes() == {AuditAction.ROLE_REVOKE: 1, AuditAction.ROLE_GRANT: 1}


def test_moved_psychologist_gets_404_for_old_school_at_next_request(client, world, app):
    psy = app.test_client()
    login(psy, world.psy1)
    assert psy.get(f"/pupils/{world.p1.uuid}").status_code == 200
    login(client, world.admin)
    old = world.psy1.assignments[0]
    post(client, f"/admin/staff/{world.psy1.uuid}/roles/{old.id}/revoke", form_page="/admin/staff")
    grant = {"grant-role": "psychologist", "grant-school_id": world.s2.id, "grant-class_id": 0,
             "grant-district_id": 0, "grant-region_id": 0}
    post(client, f"/admin/staff/{world.psy1.uuid}/roles", grant, form_page="/admin/staff")
    assert psy.get(f"/pupils/{world.p1.uuid}").status_code == 404
    assert psy.get(f"/pupils/{world.p3.uuid}").status_code == 200


def test_revoked_role_is_refused_at_next_request(client, world, app):
    teacher = app.test_client()
    login(teacher, world.t7a)
    login(client, world.a1)
    assignment = world.t7a.assignments[0]
    post(client, f"/admin/staff/{world.t7a.uuid}/roles/{assignment.id}/revoke", form_page="/admin/staff")
    assert teacher.get("/pupils").status_code == 403
    assert db.session.get(RoleAssignment, assignment.id) is None


def test_director_cannot_touch_own_or_foreign_accounts(client, world):
    login(client, world.a1)
    own = world.a1.assignments[0]
    refused = post(client, f"/admin/staff/{world.a1.uuid}/roles/{own.id}/revoke", form_page="/admin/staff")
    assert refused.status_code == 302  # back to the page, which says why (nobody changes their own roles)
    assert post(client, f"/admin/staff/{world.a1.uuid}/disable", form_page="/admin/staff").status_code == 404
    assert fresh(world.a1).active and fresh(world.a1).assignments
    assert AuditAction.ROLE_REVOKE not in changes() and AuditAction.USER_DISABLE not in changes()


def test_password_reset_sets_temporary_password_and_ends_sessions(client, world, app):
    teacher = app.test_client()
    login(teacher, world.t7a)
    login(client, world.admin)
    path = f"/admin/staff/{world.t7a.uuid}/password"
    old_hash = world.t7a.password_hash
    response = post(client, path, {"pw-new_password": "qwerty"}, form_page="/admin/staff")
    assert response.status_code == 200 and "Use at least 10 characters." in response.get_data(as_text=True)
    assert fresh(world.t7a).password_hash == old_hash and not changes()
    assert post(client, path, {"pw-new_password": NEW_PASSWORD}, form_page="/admin/staff").status_code == 302
    assert teacher.get("/pupils").status_code == 302
    assert login(app.test_client(), world.t7a, PASSWORD).status_code == 200
    assert login(app.test_client(), world.t7a, NEW_PASSWORD).status_code == 302
    assert fresh(world.t7a).password_change_required
    assert changes() == {AuditAction.PASSWORD_RESET: 1, AuditAction.PASSWORD_CHANGE_REQUIRED: 1}


def test_mfa_reset_makes_the_user_enroll_again(client, world, app):
    login(client, world.admin)
    assert post(client, f"/admin/staff/{world.psy1.uuid}/mfa-reset", form_page="/admin/staff").status_code == 302
    assert fresh(world.psy1).totp_secret_ct is None
    psy = app.test_client()
    login(psy, world.psy1, second_factor=False)
    assert psy.get("/pupils").headers["Location"].endswith("/mfa/enroll")
    assert changes() == {AuditAction.MFA_RESET: 1}


def _link(**overrides):
    return {"relation": "father", "is_legal_representative": "y", "username": "father1", "create_account": "y",
            "full_name": "Әке Тестов", "email": "", "new_password": NEW_PASSWORD, **overrides}


def test_director_links_a_new_parent_account(client, world, app):
    login(client, world.a1)
    page = f"/admin/guardians/new?class_id={world.c7a.id}"
    response = post(client, "/admin/guardians/new", _link(class_id=world.c7a.id, pupil_id=world.p1.id),
                    form_page=page)
    assert response.status_code == 302
    parent = db.session.execute(select(User).where(User.username == "father1")).scalar_one()
    link = db.session.execute(select(PupilGuardian).where(PupilGuardian.user_id == parent.id)).scalar_one()
    assert (link.pupil_id, link.relation, link.is_legal_representative) == (world.p1.id, "father", True)
    assert parent.roles == {"parent"}
    assert parent.password_change_required
    assert changes() == {AuditAction.USER_CREATE: 1, AuditAction.PASSWORD_CHANGE_REQUIRED: 1,
                         AuditAction.ROLE_GRANT: 1, AuditAction.GUARDIAN_LINK: 1}
    father = app.test_client()
    login(father, parent, NEW_PASSWORD)
    assert father.get("/").headers["Location"].endswith("/account")  # their own password first


def test_linking_refuses_staff_duplicates_and_foreign_pupils(client, world):
    login(client, world.a1)
    page = f"/admin/guardians/new?class_id={world.c7a.id}"
    existing = {"class_id": world.c7a.id, "pupil_id": world.p1.id, "relation": "mother", "username": "",
                "create_account": ""}
    for overrides, message in (({"username": "psy1"}, "no parent account"),
                               ({"username": "parent1"}, "already linked"),
                               ({"pupil_id": world.p3.id, "username": "parent1"}, "Not a valid choice")):
        response = post(client, "/admin/guardians/new", {**existing, **overrides}, form_page=page)
        assert response.status_code == 200 and message in response.get_data(as_text=True), overrides
    response = post(client, "/admin/guardians/new", {**existing, "class_id": world.p3.class_id,
                                                     "pupil_id": world.p3.id, "username": "parent1"}, form_page=page)
    assert response.status_code == 404
    assert AuditAction.GUARDIAN_LINK not in changes()
    links = db.session.execute(select(func.count()).select_from(PupilGuardian)).scalar_one()
    assert links == 1
    response = post(client, "/admin/guardians/new", {**existing, "pupil_id": world.p1.id, "username": "parent1",
                                                     "class_id": world.c8b.id}, form_page=page)
    assert response.status_code == 200  # p1 is not in 8B: not a valid choice


def test_existing_parent_linked_to_second_child(client, world):
    login(client, world.admin)
    response = post(client, "/admin/guardians/new", {"class_id": world.c8b.id, "pupil_id": world.p2.id,
                                                     "relation": "mother", "username": "parent1"},
                    form_page=f"/admin/guardians/new?class_id={world.c8b.id}")
    assert response.status_code == 302
    assert {link.pupil_id for link in fresh(world.r1).guardian_links} == {world.p1.id, world.p2.id}
    assert changes() == {AuditAction.GUARDIAN_LINK: 1}
