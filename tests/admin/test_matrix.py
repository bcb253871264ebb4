"""Role × endpoint matrix for every admin route: anonymous, roles without the permission, out-of-scope ids."""

from __future__ import annotations

import pytest

from app.auth.permissions import Permission, endpoint_permission
from tests.factories import login, post

#: endpoint -> (method, path template). Templates use world attributes in braces.
ROUTES = {
    "admin.schools": ("GET", "/admin/schools"),
    "admin.school_new": ("GET", "/admin/schools/new"),
    "admin.school_edit": ("GET", "/admin/schools/{s1}/edit"),
    "admin.region_new": ("POST", "/admin/regions/new"),
    "admin.district_new": ("POST", "/admin/districts/new"),
    "admin.classes": ("GET", "/admin/classes"),
    "admin.class_new": ("GET", "/admin/classes/new"),
    "admin.class_edit": ("GET", "/admin/classes/{c7a}/edit"),
    "admin.staff": ("GET", "/admin/staff"),
    "admin.user_new": ("GET", "/admin/staff/new"),
    "admin.user_detail": ("GET", "/admin/staff/{psy1}"),
    "admin.role_grant": ("POST", "/admin/staff/{psy1}/roles"),
    "admin.role_revoke": ("POST", "/admin/staff/{psy1}/roles/{psy1_assignment}/revoke"),
    "admin.user_disable": ("POST", "/admin/staff/{psy1}/disable"),
    "admin.user_enable": ("POST", "/admin/staff/{psy1}/enable"),
    "admin.password_reset": ("POST", "/admin/staff/{psy1}/password"),
    "admin.reset_link": ("POST", "/admin/staff/{psy1}/reset-link"),
    "admin.mfa_reset": ("POST", "/admin/staff/{psy1}/mfa-reset"),
    "admin.kundelik_link": ("POST", "/admin/staff/{psy1}/kundelik"),
    "admin.guardian_new": ("GET", "/admin/guardians/new?class_id={c7a}"),
    "admin.audit_log": ("GET", "/admin/audit"),
    "admin.audit_verify": ("POST", "/admin/audit/verify"),
}

#: Which roles hold each route's permission (the rest must get 403).
HOLDERS = {
    Permission.ADMIN_SCHOOLS: {"admin"},
    Permission.ADMIN_CLASSES: {"admin", "a1"},
    Permission.ADMIN_STAFF: {"admin", "a1"},
    Permission.AUDIT_READ: {"admin"},
}
ROLES = ["admin", "a1", "psy1", "soc1", "t7a", "r1", "pupil1", "d1", "reg1", "norole"]


def _path(world, template: str) -> str:
    values = {"s1": world.s1.id, "c7a": world.c7a.id, "psy1": world.psy1.uuid,
              "psy1_assignment": world.psy1.assignments[0].id}
    return template.format(**values)


def test_every_admin_endpoint_is_in_the_matrix(app):
    endpoints = {name for name in app.view_functions if name.startswith("admin.")}
    assert endpoints == set(ROUTES)
    for name in endpoints:
        assert endpoint_permission(app.view_functions[name]) in HOLDERS, name


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_anonymous_is_sent_to_sign_in(client, world, endpoint):
    method, template = ROUTES[endpoint]
    if method == "GET":
        response = client.get(_path(world, template))
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        response = post(client, _path(world, template), form_page="/login")
        assert response.status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_roles_get_what_their_permission_allows(client, world, app, role):
    login(client, getattr(world, role))
    for endpoint, (method, template) in ROUTES.items():
        allowed = role in HOLDERS[endpoint_permission(app.view_functions[endpoint])]
        if method == "POST" and allowed:
            continue  # the effects of allowed POSTs are tested in the feature tests
        path = _path(world, template)
        response = client.get(path) if method == "GET" else post(client, path, form_page="/account")
        expected = 200 if allowed else 403
        assert response.status_code == expected, (role, endpoint, response.status_code)


def test_director_gets_404_for_objects_of_another_school(client, world):
    login(client, world.a1)
    other_class = world.p3.school_class
    assert client.get(f"/admin/classes/{other_class.id}/edit").status_code == 404
    assert client.get(f"/admin/staff/{world.psy3.uuid}").status_code == 404
    assert client.get(f"/admin/staff/{world.admin.uuid}").status_code == 404
    assert client.get(f"/admin/guardians/new?class_id={other_class.id}").status_code == 404
    for action in ("disable", "enable", "password", "mfa-reset", "roles"):
        assert post(client, f"/admin/staff/{world.psy3.uuid}/{action}", form_page="/admin/staff").status_code == 404
    assert client.get("/admin/staff/not-a-uuid").status_code == 404


def test_director_lists_only_own_school(client, world):
    login(client, world.a1)
    staff = client.get("/admin/staff").get_data(as_text=True)
    assert "psy1" in staff and "t7a" in staff and "parent1" in staff
    assert "psy3" not in staff and "admin1" not in staff and "district1" not in staff
    classes = client.get("/admin/classes").get_data(as_text=True)
    assert f"/admin/classes/{world.c7a.id}/edit" in classes
    assert f"/admin/classes/{world.p3.class_id}/edit" not in classes
