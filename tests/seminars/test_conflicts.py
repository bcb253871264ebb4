"""Two organisers at once: attendance sheets and seminar forms loaded at the same version; the second save gets the
shared conflict page (409) with both versions and its own marks kept, nothing is overwritten, and sending the kept
form again saves it. A seminar moved after its reminder reminds again, of the new time."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from flask import template_rendered
from sqlalchemy import select

from app.core.audit import AuditAction, AuditEntry
from app.core.mail import OutboxMessage
from app.extensions import db
from app.monitoring.conflicts import EditConflict
from app.seminars import services
from app.seminars.models import Seminar
from tests.security.helpers import signed_in
from tests.seminars.support import form_data, make_seminar, move_to_past


def _conflicts() -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(
        AuditEntry.action == AuditAction.EDIT_CONFLICT.value)).scalars())


def _marks(seminar: Seminar) -> dict[int, bool | None]:
    db.session.expire_all()
    return {r.user_id: r.attended for r in services.registrations_of(seminar)}


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page)
    assert match, f"no {name} on the page"
    return match.group(1)


@pytest.fixture
def held(world):
    """A seminar that began two hours ago, with a parent and two teachers registered."""
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="both")
    registrations = [services.register(actor=user, seminar=seminar) for user in (world.r1, world.t7a, world.t8b)]
    move_to_past(seminar)
    return seminar, registrations


def test_the_service_refuses_a_stale_attendance_sheet(world, held):
    seminar, (parent, teacher, other) = held
    loaded = seminar.version
    assert services.mark_attendance(actor=world.psy1, seminar=seminar, version=loaded,
                                     present=[parent.id, teacher.id]) == 2
    with pytest.raises(EditConflict):
        services.mark_attendance(actor=world.psy2, seminar=seminar, version=loaded, present=[other.id])
    assert _marks(seminar) == {world.r1.id: True, world.t7a.id: True, world.t8b.id: False}  # the first stands
    [conflict] = _conflicts()
    assert (conflict.actor_id, conflict.object_id, conflict.pupil_id) == (world.psy2.id, seminar.uuid, None)
    marked = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == AuditAction.SEMINAR_ATTENDANCE_MARKED.value)).scalars().all()
    assert [json.loads(e.details) for e in marked] == [{"registered": 3, "attended": 2}]
    # Sent again at the current version, the second sheet is saved.
    db.session.refresh(seminar)
    assert seminar.version == loaded + 1
    assert services.mark_attendance(actor=world.psy2, seminar=seminar, version=seminar.version,
                                    present=[other.id]) == 1
    assert _marks(seminar) == {world.r1.id: False, world.t7a.id: False, world.t8b.id: True}


def test_the_database_refuses_a_sheet_that_lost_the_race(world, held):
    """The form's version matched when read, but a colleague committed before our write: same conflict."""
    seminar, (parent, _teacher, _other) = held
    loaded = seminar.version
    db.session.execute(Seminar.__table__.update().where(Seminar.__table__.c.id == seminar.id)
                       .values(version=loaded + 1))  # a concurrent save, behind the session's back
    with pytest.raises(EditConflict):
        services.mark_attendance(actor=world.psy1, seminar=seminar, version=loaded, present=[parent.id])
    assert set(_marks(seminar).values()) == {None} and len(_conflicts()) == 1


def test_two_organisers_marking_attendance_at_once(app, world, held):
    seminar, (parent, teacher, other) = held
    world.psy1.preferred_language = world.psy2.preferred_language = "en"  # the page's words, in English
    db.session.commit()
    first, second = signed_in(app, world.psy1), signed_in(app, world.psy2)
    page = f"/seminars/organise/{seminar.uuid}"
    first_page, second_page = first.get(page).get_data(as_text=True), second.get(page).get_data(as_text=True)
    assert _hidden(first_page, "version") == _hidden(second_page, "version") == str(seminar.version)

    saved = first.post(f"{page}/attendance", data={
        "csrf_token": _hidden(first_page, "csrf_token"), "version": _hidden(first_page, "version"),
        "present": [str(parent.id), str(teacher.id)]})
    assert saved.status_code == 302

    rendered: list[str] = []

    def seen(_app, template, **_extra):
        rendered.append(template.name)

    template_rendered.connect(seen, app)
    try:
        stale = second.post(f"{page}/attendance", data={
            "csrf_token": _hidden(second_page, "csrf_token"), "version": _hidden(second_page, "version"),
            "present": [str(other.id)]})
    finally:
        template_rendered.disconnect(seen, app)
    assert stale.status_code == 409
    assert rendered[0] == "_conflict.html"  # the one shared page
    body = stale.get_data(as_text=True)
    assert "Someone saved the attendance while you were marking it" in body
    assert world.psy1.display_name in body  # who saved first
    for user in (world.r1, world.t7a, world.t8b):
        assert user.display_name in body
    assert body.count(">Present<") == 3 and body.count(">Absent<") == 3  # 1+2 mine, 2+1 current
    # The second organiser's marks are kept in the form: only the other teacher is ticked.
    assert re.search(rf'<input checked[^>]*value="{other.id}"|value="{other.id}"[^>]*checked', body)
    # ...as the sheet draws them: tappable choices in a fieldset, not a bare bulleted list (found by the walk)
    assert '<ul class="choice-list">' in body and '<legend class="fieldset__legend">Who attended' in body
    assert not re.search(rf'value="{parent.id}"[^>]*checked|<input checked[^>]*value="{parent.id}"', body)
    assert _marks(seminar) == {world.r1.id: True, world.t7a.id: True, world.t8b.id: False}
    assert len(_conflicts()) == 1

    again = second.post(f"{page}/attendance", data={
        "csrf_token": _hidden(body, "csrf_token"), "version": _hidden(body, "version"), "present": [str(other.id)]})
    assert again.status_code == 302
    assert _marks(seminar) == {world.r1.id: False, world.t7a.id: False, world.t8b.id: True}


def test_two_organisers_changing_a_seminar_at_once(app, world):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), title="Бастапқы атауы")
    first, second = signed_in(app, world.psy1), signed_in(app, world.psy2)
    edit = f"/seminars/organise/{seminar.uuid}/edit"
    first_page, second_page = first.get(edit).get_data(as_text=True), second.get(edit).get_data(as_text=True)
    base = form_data(f"school:{world.s1.id}", version=_hidden(first_page, "version"))
    saved = first.post(edit, data={**base, "csrf_token": _hidden(first_page, "csrf_token"), "title": "Бірінші"})
    assert saved.status_code == 302
    stale = second.post(edit, data={**base, "csrf_token": _hidden(second_page, "csrf_token"), "title": "Екінші",
                                    "capacity": "45"})
    assert stale.status_code == 409
    body = stale.get_data(as_text=True)
    assert "Бірінші" in body and "Екінші" in body and 'value="45"' in body
    db.session.expire_all()
    assert (seminar.title, seminar.capacity) == ("Бірінші", 20)
    again = second.post(edit, data={**base, "csrf_token": _hidden(body, "csrf_token"),
                                    "version": _hidden(body, "version"), "title": "Екінші", "capacity": "45"})
    assert again.status_code == 302
    db.session.expire_all()
    assert (seminar.title, seminar.capacity) == ("Екінші", 45)


def _outbox() -> list[OutboxMessage]:
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_a_moved_seminar_reminds_again_of_the_new_time(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "SENIM_SMTP_HOST", "mail.invalid")
    world.r1.email, world.r1.preferred_language = "parent@example.kz", "en"
    db.session.commit()
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="parents",
                           starts_in=timedelta(hours=30))
    services.register(actor=world.r1, seminar=seminar)
    reminded = seminar.starts_at - timedelta(hours=20)
    assert services.send_reminders(now=reminded) == 1
    assert services.send_reminders(now=reminded + timedelta(minutes=15)) == 0

    # Moved two days later (the form keeps the time of day): reminded again before the new start, once.
    old_start = seminar.starts_at
    new_start = old_start + timedelta(days=2)
    data = services.SeminarInput(
        title=seminar.title, description=seminar.description, audience=seminar.audience,
        where=("school", world.s1.id), starts_at=new_start, ends_at=new_start + timedelta(hours=1),
        online_url=seminar.online_url, place="", capacity=seminar.capacity,
        registration_closes_at=new_start, language=seminar.language)
    services.update_seminar(actor=world.psy1, seminar=seminar, version=seminar.version, data=data,
                            now=reminded + timedelta(minutes=20))
    assert services.send_reminders(now=reminded + timedelta(minutes=30)) == 0  # not due yet
    assert services.send_reminders(now=new_start - timedelta(hours=20)) == 1
    assert services.send_reminders(now=new_start - timedelta(hours=19)) == 0
    reminders = [m for m in _outbox() if "coming up" in m.subject]
    assert len(reminders) == 2

    # A change that keeps the start (a new title) does not remind again.
    services.update_seminar(actor=world.psy1, seminar=seminar, version=seminar.version,
                            data=services.SeminarInput(**{**data.__dict__, "title": "Жаңа атауы"}),
                            now=new_start - timedelta(hours=18))
    assert services.send_reminders(now=new_start - timedelta(hours=17)) == 0
