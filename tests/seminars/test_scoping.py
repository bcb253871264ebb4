"""Who sees which seminar: the audience by role and place, organisers by area; everything else is an audited 404
that changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.roles import Role
from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from app.seminars.models import SeminarRegistration
from tests.factories import login, make_class, make_district, make_pupil, make_school, make_user, post
from tests.seminars.support import make_seminar


def _denied(seminar) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(
        AuditEntry.action == AuditAction.ACCESS_DENIED.value, AuditEntry.object_id == seminar.uuid)).scalars())


def test_a_parent_of_another_school_neither_sees_nor_registers(client, world):
    seminar = make_seminar(world.psy3, where=("school", world.s2.id), audience="parents", title="Other school")
    login(client, world.r1)  # parent of a pupil of school 1
    assert "Other school" not in client.get("/seminars").get_data(as_text=True)
    assert client.get(f"/seminars/{seminar.uuid}").status_code == 404
    assert client.get(f"/seminars/{seminar.uuid}/calendar.ics").status_code == 404
    response = post(client, f"/seminars/{seminar.uuid}/register", form_page="/seminars")
    assert response.status_code == 404
    assert db.session.execute(select(SeminarRegistration)).first() is None
    denied = _denied(seminar)
    assert len(denied) == 3 and all(e.school_id == world.s2.id for e in denied)


def test_the_audience_decides(client, world):
    staff_only = make_seminar(world.psy1, where=("school", world.s1.id), audience="staff", title="For staff")
    parents_only = make_seminar(world.psy1, where=("school", world.s1.id), audience="parents", title="For parents")
    login(client, world.r1)
    page = client.get("/seminars").get_data(as_text=True)
    assert "For parents" in page and "For staff" not in page
    assert client.get(f"/seminars/{staff_only.uuid}").status_code == 404
    client = client.application.test_client()
    login(client, world.t7a)
    page = client.get("/seminars").get_data(as_text=True)
    assert "For staff" in page and "For parents" not in page
    assert client.get(f"/seminars/{parents_only.uuid}").status_code == 404


def test_a_district_seminar_reaches_its_schools_only(client, world):
    seminar = make_seminar(world.d1, where=("district", world.s1.district_id), audience="parents", title="District")
    other = make_school(make_district())
    parent_elsewhere = make_user(Role.PARENT, children=(make_pupil(make_class(other)),))
    db.session.commit()
    login(client, world.r1)
    assert client.get(f"/seminars/{seminar.uuid}").status_code == 200
    client = client.application.test_client()
    login(client, parent_elsewhere)
    assert client.get(f"/seminars/{seminar.uuid}").status_code == 404


def test_a_parent_whose_child_left_is_no_longer_in_the_audience(client, world):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="parents")
    world.p1.active = False
    db.session.commit()
    login(client, world.r1)
    assert client.get(f"/seminars/{seminar.uuid}").status_code == 404


def test_organisers_manage_their_own_area_only(client, world):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id))
    login(client, world.psy3)  # psychologist of school 2
    assert client.get(f"/seminars/organise/{seminar.uuid}").status_code == 404
    response = post(client, f"/seminars/organise/{seminar.uuid}/cancel", {"version": "1"}, form_page="/seminars")
    assert response.status_code == 404
    assert "Жасөспірімдермен" not in client.get("/seminars/organise").get_data(as_text=True)
    db.session.refresh(seminar)
    assert seminar.cancelled_at is None
    assert len(_denied(seminar)) == 2


def test_an_organiser_cannot_schedule_for_another_school(client, world):
    login(client, world.psy1)
    from tests.seminars.support import form_data

    response = post(client, "/seminars/organise/new", form_data(f"school:{world.s2.id}"))
    assert response.status_code == 200
    from app.seminars.models import Seminar

    assert db.session.execute(select(Seminar)).first() is None


def test_the_stats_page_shows_numbers_only(client, world):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="parents")
    from app.seminars import services

    world.r1.full_name = "Ата-ана Белгісіз"
    services.register(actor=world.r1, seminar=seminar)
    make_seminar(world.psy3, where=("school", world.s2.id), audience="parents")  # another school: not counted
    login(client, world.a1)
    page = client.get("/seminars/stats").get_data(as_text=True)
    assert world.r1.display_name not in page and seminar.title not in page
    totals = {t.audience: t for t in services.totals(world.a1)}
    assert (totals["parents"].upcoming, totals["parents"].registered) == (1, 1)
