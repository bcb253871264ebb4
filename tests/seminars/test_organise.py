"""The organiser: schedule (bad input changes nothing), change with optimistic locking, cancel (registrants
e-mailed), attendance and materials after the start; every change audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditAction, AuditEntry
from app.core.mail import OutboxMessage
from app.core.models import utcnow
from app.extensions import db
from app.seminars import services
from app.seminars.models import Seminar
from tests.factories import login, post
from tests.seminars.support import form_data, make_seminar, move_to_past


def _actions() -> list[str]:
    return list(db.session.execute(select(AuditEntry.action).where(AuditEntry.action.like("seminars:%"))
                                   .order_by(AuditEntry.id)).scalars())


def _count() -> int:
    return db.session.execute(select(func.count()).select_from(Seminar)).scalar_one()


def test_a_psychologist_schedules_a_seminar(client, world):
    login(client, world.psy1)
    response = post(client, "/seminars/organise/new", form_data(f"school:{world.s1.id}", closes=""))
    assert response.status_code == 302
    seminar = db.session.execute(select(Seminar)).scalar_one()
    assert (seminar.school_id, seminar.audience, seminar.capacity, seminar.created_by_id) == (
        world.s1.id, "parents", 20, world.psy1.id)
    local = services.to_local(seminar.starts_at)
    assert (local.hour, local.minute) == (18, 0)  # typed in Kazakhstan time, stored in UTC
    assert seminar.starts_at.utcoffset() == timedelta(0) and seminar.starts_at.hour == 13
    assert seminar.registration_closes_at == seminar.starts_at
    assert _actions() == [AuditAction.SEMINAR_CREATED.value]


@pytest.mark.parametrize("change", [
    {"day": "2020-01-10"},                                   # a full date in the past
    {"online_url": "http://meet.example.kz/x"},               # not https
    {"online_url": "javascript:alert(1)"},
    {"online_url": "https://meet.example.kz/a b"},
    {"capacity": "0"},
    {"capacity": "-5"},
    {"online_url": "", "place": ""},                          # neither link nor place
    {"place": "Актовый зал"},                                 # both link and place
    {"ends": "17:00"},                                        # ends before it starts
    {"title": ""},
    {"audience": "pupils"},
    {"language": "de"},
    {"where": "school:abc"},
])
def test_bad_input_changes_nothing(client, world, change):
    login(client, world.psy1)
    data = form_data(f"school:{world.s1.id}")
    data.update(change)
    response = post(client, "/seminars/organise/new", data)
    assert response.status_code == 200
    assert 'class="error-summary"' in response.get_data(as_text=True)
    assert _count() == 0 and _actions() == []


def test_the_deadline_must_be_before_the_start(client, world):
    login(client, world.psy1)
    data = form_data(f"school:{world.s1.id}")
    data["closes"] = f"{data['day']}T19:30"
    assert post(client, "/seminars/organise/new", data).status_code == 200
    assert _count() == 0


def test_the_service_checks_again(world):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id))
    past = services.SeminarInput(
        title="x", description="", audience="both", where=("school", world.s1.id),
        starts_at=utcnow() - timedelta(days=1), ends_at=utcnow(), online_url="https://a.kz", place="", capacity=5,
        registration_closes_at=utcnow() - timedelta(days=1), language="kk")
    with pytest.raises(services.InvalidSeminar):
        services.create_seminar(actor=world.psy1, data=past)
    with pytest.raises(services.InvalidSeminar):
        services.update_seminar(actor=world.psy1, seminar=seminar, version=seminar.version, data=past)
    assert _count() == 1 and seminar.title != "x"


def test_a_stale_form_gets_the_conflict_page(client, world):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), title="First title")
    login(client, world.psy1)
    stale = form_data(f"school:{world.s1.id}", title="My title", version=str(seminar.version))
    fresh = dict(stale, title="Colleague's title")
    assert post(client, f"/seminars/organise/{seminar.uuid}/edit", fresh).status_code == 302
    response = post(client, f"/seminars/organise/{seminar.uuid}/edit", stale)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "My title" in body and "Colleague&#39;s title" in body
    db.session.refresh(seminar)
    assert seminar.title == "Colleague's title" and seminar.version == 2
    assert AuditAction.EDIT_CONFLICT.value in db.session.execute(select(AuditEntry.action)).scalars().all()


def test_capacity_cannot_go_below_the_registered(client, world):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="both")
    services.register(actor=world.r1, seminar=seminar)
    services.register(actor=world.t7a, seminar=seminar)
    login(client, world.psy1)
    data = form_data(f"school:{world.s1.id}", capacity="1", version=str(seminar.version))
    assert post(client, f"/seminars/organise/{seminar.uuid}/edit", data).status_code == 200
    db.session.refresh(seminar)
    assert seminar.capacity == 30


def test_cancelling_tells_the_registered(client, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "SENIM_SMTP_HOST", "mail.invalid")
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="both")
    world.r1.email, world.t7a.email = "parent@example.kz", "teacher@example.kz"
    db.session.commit()
    services.register(actor=world.r1, seminar=seminar)
    services.register(actor=world.t7a, seminar=seminar)
    before = db.session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
    login(client, world.psy1)
    response = post(client, f"/seminars/organise/{seminar.uuid}/cancel",
                    {"reason": "Лектор ауырып қалды", "version": str(seminar.version)})
    assert response.status_code == 302
    db.session.refresh(seminar)
    assert seminar.cancelled_at is not None
    messages = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()[before:]
    assert sorted(json.loads(m.recipients)[0] for m in messages) == ["parent@example.kz", "teacher@example.kz"]
    assert all(len(json.loads(m.recipients)) == 1 for m in messages)  # nobody sees another's address
    assert "Лектор ауырып қалды" in messages[0].body
    assert _actions()[-1] == AuditAction.SEMINAR_CANCELLED.value
    with pytest.raises(services.RegistrationRefused):
        services.register(actor=world.soc1, seminar=seminar)


def test_attendance_and_materials_wait_for_the_start(client, world):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="parents")
    registration = services.register(actor=world.r1, seminar=seminar)
    login(client, world.psy1)
    post(client, f"/seminars/organise/{seminar.uuid}/attendance",
         {"present": str(registration.id), "version": str(seminar.version)},
         form_page=f"/seminars/organise/{seminar.uuid}")
    db.session.refresh(registration)
    assert registration.attended is None
    post(client, f"/seminars/organise/{seminar.uuid}/materials", {"materials": "x", "version": "1"},
         form_page=f"/seminars/organise/{seminar.uuid}")
    db.session.refresh(seminar)
    assert seminar.materials == ""

    move_to_past(seminar)
    other = services.registrations_of(seminar)
    assert [r.id for r in other] == [registration.id]
    response = post(client, f"/seminars/organise/{seminar.uuid}/attendance",
                    {"present": [str(registration.id), "99999999", "x"], "version": str(seminar.version)},
                    form_page=f"/seminars/organise/{seminar.uuid}")
    assert response.status_code == 302
    db.session.refresh(registration)
    assert registration.attended is True
    response = post(client, f"/seminars/organise/{seminar.uuid}/materials",
                    {"materials": "[Слайдтар](https://example.kz/slides.pdf)", "version": str(seminar.version)})
    assert response.status_code == 302
    db.session.refresh(seminar)
    assert seminar.materials == "[Слайдтар](https://example.kz/slides.pdf)"
    rows = services.organiser_rows(world.psy1)
    assert [(r.registered, r.attended) for r in rows] == [(1, 1)]
    assert _actions()[-2:] == [AuditAction.SEMINAR_ATTENDANCE_MARKED.value,
                               AuditAction.SEMINAR_MATERIALS_SAVED.value]
    parent = client.application.test_client()
    login(parent, world.r1)
    page = parent.get(f"/seminars/{seminar.uuid}").get_data(as_text=True)
    assert 'href="https://example.kz/slides.pdf"' in page
    assert seminar.title in parent.get("/seminars").get_data(as_text=True)
