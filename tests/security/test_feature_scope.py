"""A3/A4 class flags, A8/A9 parents, A10 district officer, A13 list = count = export for the reports."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.auth.permissions import Permission, has_permission, visible_schools
from app.core.audit import AuditAction, AuditEntry, Outcome
from app.core.models import Pupil, School
from app.extensions import db
from app.screening import alerts
from app.screening.services import instrument_for, submit_result
from tests.factories import make_class, make_pupil, post
from tests.screening.workflow_support import ACUTE_ASQ, ASQ, consent
from tests.security.helpers import signed_in, without_tokens

#: The note a psychologist wrote when resolving an earlier alert: sensitive, must reach nobody but them.
NOTE_MARKER = "ZZ-SECRET-NOTE"
#: Words of the screening and monitoring vocabulary a teacher or a parent must never read.
FORBIDDEN_WORDS = ("acute", "urgent", "routine", "severity", "risk level", "score", "police", "registry",
                   "intra-school", "asq")
_ROW = re.compile(r"<tr><th scope=\"row\">(.*?)</th>((?:<td[^>]*>.*?</td>)+)</tr>")
_CELL = re.compile(r"<td[^>]*>(.*?)</td>")


def _english(client: FlaskClient) -> FlaskClient:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _screen(world, pupil: Pupil, *, resolved_note: str | None = None):
    """An acute ASQ result for ``pupil``; with ``resolved_note`` its alerts are closed with that note."""
    result = submit_result(actor=world.psy1, session=None, answers=ACUTE_ASQ, pupil=pupil,
                           instrument=instrument_for(ASQ), language="kk")
    if resolved_note is not None:
        for alert in result.alerts:
            alerts.acknowledge(actor=world.psy1, alert=alert)
            alerts.resolve(actor=world.psy1, alert=alert, note=resolved_note)
    return result


def _screening_words() -> list[str]:
    """Every name of the instrument, in every language, and its alert rule ids."""
    instrument = instrument_for(ASQ)
    return [t.title for t in instrument.texts.values()] + [a.id for a in instrument.alerts] + [ASQ]


def _assert_no_screening_data(body: str, where: str) -> None:
    lowered = body.casefold()
    leaks = [w for w in (*FORBIDDEN_WORDS, *_screening_words(), NOTE_MARKER) if w.casefold() in lowered]
    assert not leaks, f"{where} shows {leaks}"


# --- A3 / A4: class teacher -------------------------------------------------------------------------------


def test_teacher_flags_page_shows_flags_only(app: Flask, world) -> None:
    quiet = make_pupil(world.c7a, last_name="Жұмабекова")
    db.session.commit()
    _screen(world, world.p1, resolved_note=f"{NOTE_MARKER} talked to the family")
    _screen(world, world.p1)  # the open alert that raises the flag
    _screen(world, world.p2)  # another class: must not appear
    response = _english(signed_in(app, world.t7a)).get(f"/class/{world.c7a.id}/flags")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert world.p1.last_name in body and quiet.last_name in body
    # One flag for every kind of alert: its colour and text do not tell an acute alert from a routine one.
    assert "Talk to the psychologist" in body and "flag--amber" in body and "flag--red" not in body
    assert "today" not in body.casefold()
    for other in (world.p2, world.p3):
        assert other.last_name not in body
    for pupil in (world.p1, quiet):
        assert pupil.uuid not in body and pupil.iin not in body
    _assert_no_screening_data(body, "the flags page")


def test_reassigned_teacher_changes_class_without_signing_in_again(app: Flask, world) -> None:
    teacher = signed_in(app, world.t7a)
    assert teacher.get(f"/class/{world.c7a.id}/flags").status_code == 200
    assert teacher.get(f"/class/{world.c8b.id}/flags").status_code == 404
    admin = signed_in(app, world.admin)
    old = world.t7a.assignments[0]
    assert post(admin, f"/admin/staff/{world.t7a.uuid}/roles/{old.id}/revoke",
                form_page="/admin/staff").status_code == 302
    grant = {"grant-role": "class_teacher", "grant-school_id": 0, "grant-class_id": world.c8b.id,
             "grant-district_id": 0, "grant-region_id": 0}
    assert post(admin, f"/admin/staff/{world.t7a.uuid}/roles", grant, form_page="/admin/staff").status_code == 302
    assert teacher.get(f"/class/{world.c7a.id}/flags").status_code == 404
    response = teacher.get(f"/class/{world.c8b.id}/flags")
    assert response.status_code == 200 and world.p2.last_name in response.get_data(as_text=True)


# --- A8 / A9: parent --------------------------------------------------------------------------------------


def test_parent_cannot_open_another_child(app: Flask, world) -> None:
    client = signed_in(app, world.r1)
    before = db.session.execute(select(func.max(AuditEntry.id))).scalar_one()
    other = client.get(f"/parents/child/{world.p2.uuid}")
    assert other.status_code == 404
    new = list(db.session.execute(select(AuditEntry).where(AuditEntry.id > before)).scalars())
    assert [(e.action, e.outcome, e.actor_id, e.pupil_id) for e in new] == [
        (AuditAction.ACCESS_DENIED, Outcome.DENIED, world.r1.id, world.p2.id)]
    entry = new[0]
    assert entry.actor_role and entry.request_id and entry.school_id == world.s1.id
    assert entry.object_id == world.p2.uuid
    random_id = str(uuid.uuid4())
    missing = client.get(f"/parents/child/{random_id}")
    assert without_tokens(other.get_data(as_text=True), world.p2.uuid) == without_tokens(
        missing.get_data(as_text=True), random_id), "another child's 404 must look like a missing one"
    assert world.p2.last_name not in other.get_data(as_text=True)


def test_parent_sees_guidance_and_consent_status_only(app: Flask, world) -> None:
    _screen(world, world.p1, resolved_note=f"{NOTE_MARKER} parent conflict at home")
    _screen(world, world.p1)
    client = _english(signed_in(app, world.r1))
    body = client.get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)
    assert "Not given" in body
    record = consent(world.p1)
    response = client.get(f"/parents/child/{world.p1.uuid}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Consent given" in body and str(record.valid_until.year) in body
    assert "/guidance/parents" in body and "Guidance for parents" in body
    _assert_no_screening_data(body, "the parent's page")
    for path in (f"/screening/pupils/{world.p1.uuid}/results", f"/pupils/{world.p1.uuid}"):
        assert client.get(path).status_code == 403, path


# --- A10: district officer -------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def _numeric(cell: str) -> bool:
    return cell.isdigit()


def test_district_officer_sees_aggregates_only(app: Flask, world) -> None:
    for n in range(2):  # grade 7 of S1: three girls and one boy, so small cells appear
        make_pupil(world.c7a, last_name=f"ZZ-SECRET-Girl{n}")
    make_pupil(world.c7a, last_name="ZZ-SECRET-Boy", first_name="Нұрлан", sex="male")
    db.session.commit()
    client = _english(signed_in(app, world.d1))
    for path in (f"/pupils/{world.p1.uuid}", "/pupils", f"/screening/pupils/{world.p1.uuid}/results",
                 f"/parents/child/{world.p1.uuid}", f"/class/{world.c7a.id}/flags"):
        assert client.get(path).status_code == 403, path
    page = client.get("/reports/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "&lt;5" in body
    assert client.get(f"/reports/?school={world.s2.id}").status_code == 404
    assert client.get(f"/reports/export.csv?school={world.s2.id}").status_code == 404
    export = client.get("/reports/export.csv")
    assert export.status_code == 200
    rows = _csv(export)
    assert any("<5" in row for row in rows)
    pupils = db.session.execute(select(Pupil)).scalars().all()
    text = body + export.get_data().decode("utf-8-sig")
    for pupil in pupils:
        for value in (pupil.last_name, pupil.iin, pupil.uuid):
            assert value not in text, "a pupil's name, IIN or id reached the district report"
    assert "ZZ-SECRET" not in text
    # A hidden cell cannot be worked out from its row (girls + boys = total): never exactly one hidden.
    for row in rows[1:]:
        if len(row) == 5 and row[1]:
            hidden = [c for c in row[2:] if not _numeric(c)]
            assert len(hidden) != 1, f"row {row} gives its hidden cell away"


# --- A13: list = count = export -------------------------------------------------------------------------


def _html_rows(body: str) -> set[tuple[str, ...]]:
    return {tuple(html.unescape(c) for c in _CELL.findall(cells)) for _label, cells in _ROW.findall(body)}


def test_report_page_and_export_show_the_same_cells_for_every_role(app: Flask, world) -> None:
    for n in range(6):
        make_pupil(world.c7a, last_name=f"ZZ-SECRET-Extra{n}", sex="male" if n % 2 else "female")
    grade9 = make_class(world.s2, grade=9)
    for n in range(5):
        make_pupil(grade9, last_name=f"ZZ-SECRET-S2-{n}")
    db.session.commit()
    checked = 0
    for name, user in world.users.items():
        if not has_permission(user, Permission.REPORTS_AGGREGATE):
            continue
        client = _english(signed_in(app, user))
        body = client.get("/reports/").get_data(as_text=True)
        rows = _csv(client.get("/reports/export.csv"))
        schools = db.session.execute(visible_schools(user, Permission.REPORTS_AGGREGATE)).scalars().all()
        exported = {row[0] for row in rows[1:-1] if len(row) == 5 and row[1]}
        assert exported == {s.name for s in schools}, f"{name}: export schools differ from the scope"
        for school in schools:
            assert f">{html.escape(school.name)}</h2>" in body, f"{name}: {school.name} missing on the page"
        csv_cells = {tuple(row[2:]) for row in rows[1:] if len(row) == 5}
        assert csv_cells and _html_rows(body) == csv_cells, f"{name}: page and export disagree"
        grand_total = next(row for row in rows if len(row) == 5 and row[1] == "")[4]
        if _numeric(grand_total):
            count = db.session.execute(select(func.count()).select_from(Pupil).where(
                Pupil.active.is_(True), Pupil.school_id.in_([s.id for s in schools]))).scalar_one()
            assert int(grand_total) == count, f"{name}: total {grand_total}, scope {count}"
        checked += 1
    assert checked >= 4
    assert db.session.execute(select(func.count()).select_from(School)).scalar_one() >= 2
