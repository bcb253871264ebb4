"""Role × endpoint matrix of the help pages: the directory and "ask for help" are public; the editor is admins'."""

from __future__ import annotations

import pytest

from app.auth.permissions import PUBLIC_ENDPOINTS, Permission, endpoint_permission
from tests.factories import login
from tests.help.support import make_service

ROUTES = {
    "help.directory": "/help",
    "help.ask": "/help/ask",
    "help.sent": "/help/sent",
    "help.services_admin": "/admin/help-services",
    "help.service_new": "/admin/help-services/new",
    "help.service_edit": "/admin/help-services/{service}",
}
PUBLIC = {"help.directory", "help.ask", "help.sent"}
ROLES = ["admin", "a1", "psy1", "soc1", "t7a", "r1", "pupil1", "d1", "reg1", "norole"]


def test_every_help_endpoint_is_in_the_matrix(app):
    endpoints = {name for name in app.view_functions if name.startswith("help.")}
    assert endpoints == set(ROUTES)
    for name in endpoints:
        if name in PUBLIC:
            assert name in PUBLIC_ENDPOINTS
        else:
            assert endpoint_permission(app.view_functions[name]) is Permission.HELP_DIRECTORY_MANAGE


@pytest.mark.parametrize("role", [None, *ROLES])
def test_roles_get_what_their_permission_allows(client, world, role):
    service = make_service(phone="150", name="Line150")
    if role is not None:
        login(client, getattr(world, role))
    for endpoint, template in ROUTES.items():
        response = client.get(template.format(service=service.uuid))
        if endpoint in PUBLIC:
            expected = 200
        elif role is None:
            assert response.status_code == 302 and "/login" in response.headers["Location"], endpoint
            continue
        else:
            expected = 200 if role == "admin" else 403
        assert response.status_code == expected, (role, endpoint, response.status_code)


def test_an_unknown_entry_is_404(client, world):
    login(client, world.admin)
    assert client.get("/admin/help-services/00000000-0000-0000-0000-000000000000").status_code == 404
