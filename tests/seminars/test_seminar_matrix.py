"""Role × endpoint matrix of the seminar pages, anonymous included."""

from __future__ import annotations

import pytest

from app.auth.permissions import Permission, endpoint_permission
from tests.factories import login, post
from tests.seminars.support import make_seminar, move_to_past

#: endpoint -> (method, path template)
ROUTES = {
    "seminars.index": ("GET", "/seminars"),
    "seminars.detail": ("GET", "/seminars/{s}"),
    "seminars.register": ("POST", "/seminars/{s}/register"),
    "seminars.unregister": ("POST", "/seminars/{s}/unregister"),
    "seminars.calendar": ("GET", "/seminars/{s}/calendar.ics"),
    "seminars.organise": ("GET", "/seminars/organise"),
    "seminars.new": ("GET", "/seminars/organise/new"),
    "seminars.manage": ("GET", "/seminars/organise/{s}"),
    "seminars.edit": ("GET", "/seminars/organise/{s}/edit"),
    "seminars.cancel": ("GET", "/seminars/organise/{s}/cancel"),
    "seminars.attendance": ("POST", "/seminars/organise/{s}/attendance"),
    "seminars.materials": ("GET", "/seminars/organise/{s}/materials"),
    "seminars.stats": ("GET", "/seminars/stats"),
}
P = Permission
#: Roles of the world that hold each permission (and, for a seminar of school 1, reach it).
HOLDERS = {
    P.SEMINARS_ATTEND: {"a1", "psy1", "soc1", "t7a", "r1"},
    P.SEMINARS_MANAGE: {"a1", "psy1", "d1", "reg1"},
    P.SEMINARS_STATS: {"admin", "a1", "d1", "reg1"},
}
ROLES = ["admin", "a1", "psy1", "soc1", "t7a", "r1", "pupil1", "d1", "reg1", "norole"]


def test_every_seminar_endpoint_is_in_the_matrix(app):
    endpoints = {name for name in app.view_functions if name.startswith("seminars.")}
    assert endpoints == set(ROUTES)
    for name in endpoints:
        assert endpoint_permission(app.view_functions[name]) in HOLDERS, name


@pytest.mark.parametrize("role", [None, *ROLES])
def test_roles_get_what_their_permission_allows(client, world, app, role):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id))
    if role is not None:
        login(client, getattr(world, role))
    for endpoint, (method, template) in ROUTES.items():
        path = template.format(s=seminar.uuid)
        allowed = role in HOLDERS[endpoint_permission(app.view_functions[endpoint])]
        if role is None:
            response = client.get(path) if method == "GET" else post(client, path, form_page="/login")
            if method == "GET":
                assert response.status_code == 302 and "/login" in response.headers["Location"], endpoint
            else:
                assert response.status_code == 401, endpoint
            continue
        if method == "POST":
            if allowed:
                continue  # effects are tested in the feature tests
            response = post(client, path, form_page="/account")
        else:
            response = client.get(path)
        assert response.status_code == (200 if allowed else 403), (role, endpoint, response.status_code)


def test_a_teacher_cannot_mark_attendance(client, world):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="staff")
    login(client, world.t7a)
    assert post(client, f"/seminars/{seminar.uuid}/register", form_page=f"/seminars/{seminar.uuid}").status_code == 302
    move_to_past(seminar)
    [registration] = seminar_registrations(seminar)
    response = post(client, f"/seminars/organise/{seminar.uuid}/attendance", {"present": str(registration.id)},
                    form_page=f"/seminars/{seminar.uuid}")
    assert response.status_code == 403
    assert seminar_registrations(seminar)[0].attended is None


def seminar_registrations(seminar):
    from app.seminars.services import registrations_of

    return registrations_of(seminar)
