"""Who may import a roster: an admin for any school, a director for their own; everyone else 403; another
school's pages, downloads and uploads answer an audited 404."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.permissions import ROLE_PERMISSIONS, Permission, endpoint_permission
from app.auth.roles import Role
from app.core.audit import AuditAction, AuditEntry, Outcome
from app.extensions import db
from tests.factories import login, post
from tests.roster.support import PUPIL_HEADER, csv_file, iin, preview_path, upload

ROLES = ["admin", "a1", "psy1", "soc1", "t7a", "r1", "pupil1", "d1", "reg1", "norole"]
HOLDERS = {"admin", "a1"}


def test_only_admins_and_directors_hold_the_permission():
    assert {r for r, perms in ROLE_PERMISSIONS.items() if Permission.ROSTER_IMPORT in perms} == {
        Role.ADMIN, Role.DIRECTOR}


def test_every_roster_endpoint_requires_the_roster_permission(app):
    endpoints = [name for name in app.view_functions if name.startswith("roster.")]
    assert len(endpoints) == 8
    assert {endpoint_permission(app.view_functions[name]) for name in endpoints} == {Permission.ROSTER_IMPORT}


def _paths(world) -> list[tuple[str, str]]:
    s1 = world.s1.id
    return [("GET", "/roster/"), ("GET", "/roster/template.xlsx"), ("GET", "/roster/template/pupils.csv"),
            ("GET", f"/roster/?school_id={s1}"), ("GET", f"/roster/schools/{s1}/roster.xlsx"),
            ("GET", f"/roster/schools/{s1}/parents.csv"), ("POST", f"/roster/schools/{s1}/upload")]


@pytest.mark.parametrize("role", ROLES)
def test_roles_get_what_their_permission_allows(client, world, year, role):
    login(client, getattr(world, role))
    for method, path in _paths(world):
        if method == "POST":
            response = post(client, path, form_page="/account")
            expected = 302 if role in HOLDERS else 403  # a holder without a file is sent back to the form
        else:
            response = client.get(path)
            expected = 200 if role in HOLDERS else 403
        assert response.status_code == expected, (role, method, path, response.status_code)


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get("/roster/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert post(client, f"/roster/schools/{world.s1.id}/upload", form_page="/login").status_code == 401


def _denials(school_id: int) -> int:
    return len(db.session.execute(select(AuditEntry).where(
        AuditEntry.action == AuditAction.ACCESS_DENIED, AuditEntry.outcome == Outcome.DENIED,
        AuditEntry.school_id == school_id)).scalars().all())


def test_a_director_of_another_school_gets_audited_404s(client, world, year):
    login(client, world.a1)
    other = world.s2.id
    before = _denials(other)
    assert client.get(f"/roster/?school_id={other}").status_code == 404
    assert client.get(f"/roster/schools/{other}/roster.xlsx").status_code == 404
    assert client.get(f"/roster/schools/{other}/pupils.csv").status_code == 404
    rows = [["7А", "Бөтен", "Бала", "", iin(9300), "", "", "", ""]]
    assert upload(client, other, [("p.csv", csv_file(PUPIL_HEADER, rows))], year=year).status_code == 404
    # Five refusals: the upload helper first opens the other school's form for its token.
    assert _denials(other) == before + 5, "each refusal is audited in the other school's chain"
    page = client.get("/roster/").get_data(as_text=True)
    assert world.s2.name_kk not in page and world.s2.name_ru not in page


def test_an_upload_is_seen_and_committed_by_its_uploader_only(client, app, world, year):
    login(client, world.admin)
    rows = [["7А", "Жаңа", "Бала", "", iin(9301), "", "", "", ""]]
    preview = preview_path(upload(client, world.s1.id, [("p.csv", csv_file(PUPIL_HEADER, rows))], year=year))
    director = app.test_client()
    director.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(director, world.a1)
    before = _denials(world.s1.id)
    assert director.get(preview).status_code == 404, "the school's director did not upload it"
    assert post(director, f"{preview}/commit", form_page="/roster/").status_code == 404
    assert director.get("/roster/uploads/00000000-0000-0000-0000-000000000000").status_code == 404
    assert _denials(world.s1.id) == before + 2
    assert client.get(preview).status_code == 200


def test_an_unknown_sheet_name_is_a_404(client, world, year):
    login(client, world.a1)
    assert client.get("/roster/template/teachers.csv").status_code == 404
    assert client.get(f"/roster/schools/{world.s1.id}/teachers.csv").status_code == 404
