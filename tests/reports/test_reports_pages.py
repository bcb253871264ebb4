"""The reports page and its CSV export: who may open them, scope, suppression, no personal data, audit."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from app.auth.roles import Role
from app.core.audit import AuditAction, AuditEntry, Outcome
from app.core.exports import csv_bytes, safe_cell
from app.extensions import db
from tests.factories import SECRET_MARKER, login, make_class, make_pupil, make_school, make_user

ALLOWED = {"admin", "a1", "psy1", "psy3", "d1", "reg1"}
DENIED = {"soc1", "t7a", "r1", "pupil1", "norole"}


@pytest.mark.parametrize("path", ["/reports/", "/reports/export.csv"])
@pytest.mark.parametrize("who", sorted(ALLOWED | DENIED))
def test_role_matrix(client, world, path, who):
    login(client, getattr(world, who))
    response = client.get(path)
    assert response.status_code == (200 if who in ALLOWED else 403)


@pytest.mark.parametrize("path", ["/reports/", "/reports/export.csv"])
def test_anonymous_is_sent_to_sign_in(client, world, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _csv(response):
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "utf-8-sig so that Excel reads Cyrillic"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_district_officer_sees_only_own_district(client, world):
    login(client, world.d1)
    body = client.get("/reports/").get_data(as_text=True)
    assert world.s1.name_kk in body and world.s2.name_kk not in body
    rows = _csv(client.get("/reports/export.csv"))
    schools = {row[0] for row in rows[1:] if row}
    assert world.s1.name_kk in schools and world.s2.name_kk not in schools


@pytest.mark.parametrize("path", ["/reports/", "/reports/export.csv"])
def test_other_districts_school_is_404_and_audited(client, world, path):
    login(client, world.d1)
    before = db.session.execute(select(AuditEntry.id)).scalars().all()
    assert client.get(f"{path}?school={world.s2.id}").status_code == 404
    assert client.get(f"{path}?school=999999").status_code == 404
    assert client.get(f"{path}?school=abc").status_code == 404
    denied = db.session.execute(
        select(AuditEntry).where(AuditEntry.id.not_in(before), AuditEntry.action == AuditAction.ACCESS_DENIED.value)
    ).scalars().all()
    assert len(denied) == 2 and {e.object_id for e in denied} == {str(world.s2.id), "999999"}
    assert all(e.outcome == Outcome.DENIED.value and e.actor_id == world.d1.id for e in denied)
    assert client.get(f"{path}?school={world.s1.id}").status_code == 200


def test_region_officer_and_admin_see_both_schools(app, client, world):
    for user in (world.reg1, world.admin):
        client = app.test_client()
        login(client, user)
        body = client.get("/reports/").get_data(as_text=True)
        assert world.s1.name_kk in body and world.s2.name_kk in body


def test_psychologist_sees_own_school_only(client, world):
    login(client, world.psy3)
    body = client.get("/reports/").get_data(as_text=True)
    assert world.s2.name_kk in body and world.s1.name_kk not in body


def test_small_counts_are_suppressed_and_no_personal_data_leaks(client, world):
    login(client, world.admin)
    body = client.get("/reports/").get_data(as_text=True)
    text = _csv(client.get("/reports/export.csv"))
    flat = "\n".join(",".join(r) for r in text)
    for pupil in (world.p1, world.p2, world.p3):
        for leak in (pupil.uuid, pupil.iin, str(pupil.last_name)):
            assert leak not in body and leak not in flat
    assert SECRET_MARKER not in body and SECRET_MARKER not in flat
    assert "&lt;5" in body and "<5" in flat
    # Every count in the fixture world is 1 or 2 or 3: no figure from 1 to 4 may appear.
    cells = [c for row in text[1:] if len(row) == 5 for c in row[2:]]
    assert cells and not {"1", "2", "3", "4"} & set(cells)


def test_large_counts_are_shown_in_sql_totals(client, world):
    school = make_school(world.s1.district)
    c9 = make_class(school, grade=9, letter="В")
    for _ in range(6):
        make_pupil(c9, sex="female")
    for _ in range(7):
        make_pupil(c9, sex="male")
    db.session.commit()
    login(client, world.d1)
    rows = _csv(client.get(f"/reports/export.csv?school={school.id}"))
    assert len(rows[0]) == 5
    grade_row = next(r for r in rows if r and r[0] == school.name_kk and "9" in r[1])
    assert grade_row[2:] == ["6", "7", "13"]


def test_csv_cells_cannot_start_a_formula(client, world):
    evil = make_school(world.s1.district)
    evil.name_kk = evil.name_ru = '=HYPERLINK("http://evil.example","click")'
    c5 = make_class(evil, grade=5)
    for _ in range(5):
        make_pupil(c5)
    db.session.commit()
    login(client, world.d1)
    raw = client.get("/reports/export.csv").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in raw
    rows = list(csv.reader(io.StringIO(raw)))
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_safe_cell_prefixes_formula_starters(value):
    assert safe_cell(value) == "'" + value


def test_safe_cell_leaves_plain_values_alone():
    assert safe_cell("Школа № 5") == "Школа № 5"
    assert safe_cell("<5") == "<5"
    assert safe_cell(12) == 12
    assert safe_cell(None) == ""
    assert csv_bytes([["=x", 3]]) == "\ufeff'=x,3\r\n".encode()


def test_reading_and_export_are_audited(client, world):
    login(client, world.a1)
    client.get("/reports/")
    client.get("/reports/export.csv")
    entries = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == AuditAction.REPORT_READ.value).order_by(AuditEntry.id)
    ).scalars().all()
    assert [e.actor_id for e in entries] == [world.a1.id, world.a1.id]
    assert ['"format": "html"' in entries[0].details, '"format": "csv"' in entries[1].details] == [True, True]


def test_participation_section_is_present_and_empty_without_screenings(client, world):
    login(client, world.a1)
    body = client.get("/reports/").get_data(as_text=True)
    assert 'id="participation-title"' in body and 'id="participation"' not in body


def test_participation_counts_invited_and_screened_pupils_with_suppression(app_ctx, world):
    from app.reports.services import screening_participation
    from app.screening import services as screening
    from tests.screening.workflow_support import ASQ, NEGATIVE_ASQ

    def screen(pupil, psychologist):
        screening.submit_result(actor=psychologist, session=None, answers=NEGATIVE_ASQ, pupil=pupil,
                                instrument=screening.instrument_for(ASQ), language="ru")

    with app_ctx.test_request_context():
        for pupil in [world.p1, world.p2] + [make_pupil(world.c7a) for _ in range(5)]:
            screen(pupil, world.psy1)
        assert [row.cells for row in screening_participation(actor=world.a1)] == [(7, 7)]
        screen(world.p3, world.psy3)
        # The district officer sees S1's district only; S2 lies in another district.
        assert [row.cells for row in screening_participation(actor=world.d1)] == [(7, 7)]
        assert {row.cells for row in screening_participation(actor=world.admin)} == {(7, 7), ("<5", "<5")}


def test_counting_never_loads_pupil_rows(client, world, monkeypatch):
    from app.core import models

    login(client, world.admin)

    def boom(*args, **kwargs):
        raise AssertionError("a pupil's name was decrypted")

    monkeypatch.setattr(models.Pupil, "last_name", property(boom), raising=False)
    monkeypatch.setattr(models.Pupil, "first_name", property(boom), raising=False)
    assert client.get("/reports/").status_code == 200
    assert client.get("/reports/export.csv").status_code == 200


def test_officer_of_other_region_sees_nothing(client, world):
    outsider = make_user(Role.DISTRICT_OFFICER, district=make_school().district)
    db.session.commit()
    login(client, outsider)
    body = client.get("/reports/").get_data(as_text=True)
    assert world.s1.name_kk not in body and world.s2.name_kk not in body
