"""Registering: capacity and deadline enforced, no duplicates, cancelling frees the seat, many at once never
overfill a seminar; confirmation and one reminder by e-mail; the calendar file."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from click.testing import Result
from sqlalchemy import func, select

from app.auth.roles import Role
from app.core.audit import AuditAction, AuditEntry
from app.core.mail import OutboxMessage
from app.core.models import utcnow
from app.extensions import db
from app.seminars import services
from app.seminars.models import Seminar, SeminarRegistration
from tests.factories import login, make_pupil, make_user, post
from tests.seminars.support import make_seminar


def _active(seminar: Seminar) -> int:
    return db.session.execute(select(func.count()).select_from(SeminarRegistration).where(
        SeminarRegistration.seminar_id == seminar.id, SeminarRegistration.cancelled_at.is_(None))).scalar_one()


def _parents(world, n: int):
    parents = [make_user(Role.PARENT, children=(make_pupil(world.c7a),)) for _ in range(n)]
    db.session.commit()
    return parents


def test_a_parent_registers_once_and_cancels(client, world):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="parents", capacity=2)
    login(client, world.r1)
    page = client.get(f"/seminars/{seminar.uuid}").get_data(as_text=True)
    assert "https://meet.example.kz/abc" not in page  # the link is for registered people
    assert post(client, f"/seminars/{seminar.uuid}/register").status_code == 302
    assert post(client, f"/seminars/{seminar.uuid}/register", form_page=f"/seminars/{seminar.uuid}").status_code == 302
    db.session.refresh(seminar)
    assert (_active(seminar), seminar.seats_taken) == (1, 1)
    assert "https://meet.example.kz/abc" in client.get(f"/seminars/{seminar.uuid}").get_data(as_text=True)
    assert post(client, f"/seminars/{seminar.uuid}/unregister").status_code == 302
    db.session.refresh(seminar)
    assert (_active(seminar), seminar.seats_taken) == (0, 0)
    assert post(client, f"/seminars/{seminar.uuid}/register").status_code == 302  # again: the same row
    assert db.session.execute(select(func.count()).select_from(SeminarRegistration)).scalar_one() == 1
    actions = db.session.execute(select(AuditEntry.action).where(AuditEntry.action.like("seminars:registration%"))
                                 .order_by(AuditEntry.id)).scalars().all()
    assert actions == [AuditAction.SEMINAR_REGISTERED.value, AuditAction.SEMINAR_UNREGISTERED.value,
                       AuditAction.SEMINAR_REGISTERED.value]


def test_capacity_and_deadline_hold(world):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="both", capacity=1)
    services.register(actor=world.r1, seminar=seminar)
    with pytest.raises(services.RegistrationRefused) as full:
        services.register(actor=world.t7a, seminar=seminar)
    assert full.value.reason == "full"
    with pytest.raises(services.RegistrationRefused) as already:
        services.register(actor=world.r1, seminar=seminar)
    assert already.value.reason == "already"
    late = make_seminar(world.psy1, where=("school", world.s1.id), audience="both",
                        closes_before=timedelta(days=2))
    with pytest.raises(services.RegistrationRefused) as closed:
        services.register(actor=world.r1, seminar=late, now=utcnow() + timedelta(days=1, hours=1))
    assert closed.value.reason == "closed"
    db.session.refresh(late)
    assert (late.seats_taken, _active(late)) == (0, 0)


def test_many_registering_at_once_never_overfill(app, world):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="parents", capacity=3)
    seminar_id, parent_ids = seminar.id, [p.id for p in _parents(world, 8)]
    start = threading.Barrier(len(parent_ids))
    outcomes: list[str] = []

    def attempt(user_id: int) -> None:
        with app.app_context():
            from app.auth.models import User

            user, target = db.session.get_one(User, user_id), db.session.get_one(Seminar, seminar_id)
            start.wait()
            try:
                services.register(actor=user, seminar=target)
                outcomes.append("ok")
            except services.RegistrationRefused as refused:
                outcomes.append(refused.reason)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(uid,)) for uid in parent_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    db.session.expire_all()
    seminar = db.session.get_one(Seminar, seminar_id)
    assert sorted(outcomes) == ["full"] * 5 + ["ok"] * 3
    assert (seminar.seats_taken, _active(seminar)) == (3, 3)


def _outbox() -> list[OutboxMessage]:
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_confirmation_and_a_single_reminder(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "SENIM_SMTP_HOST", "mail.invalid")
    world.r1.email, world.r1.preferred_language = "parent@example.kz", "ru"
    world.t7a.email = "teacher@example.kz"
    db.session.commit()
    soon = make_seminar(world.psy1, where=("school", world.s1.id), audience="both", title="Скоро")
    later = make_seminar(world.psy1, where=("school", world.s1.id), audience="both", starts_in=timedelta(days=5))
    services.register(actor=world.r1, seminar=soon)
    services.register(actor=world.t7a, seminar=soon)
    services.register(actor=world.soc1, seminar=soon)  # no e-mail address: nothing to send
    services.register(actor=world.r1, seminar=later)
    confirmations = _outbox()
    assert len(confirmations) == 3
    assert "Вы записаны на семинар «Скоро»" in confirmations[0].body  # the parent's language
    services.unregister(actor=world.t7a, seminar=soon)

    two_days_before = soon.starts_at - timedelta(hours=23)
    assert services.send_reminders(now=soon.starts_at - timedelta(hours=30)) == 0
    assert services.send_reminders(now=two_days_before) == 1
    assert services.send_reminders(now=two_days_before + timedelta(minutes=15)) == 0
    reminders = _outbox()[3:]
    assert [json.loads(m.recipients) for m in reminders] == [["parent@example.kz"]]
    assert "https://meet.example.kz/abc" in reminders[0].body
    [entry] = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == AuditAction.SEMINAR_REMINDERS_QUEUED.value)).scalars()
    assert (entry.object_id, json.loads(entry.details), entry.actor_id) == (soon.uuid, {"reminded": 1}, None)
    result: Result = app.test_cli_runner().invoke(args=["seminars", "remind"])
    assert result.exit_code == 0 and "queued 0 reminder(s)" in result.output
    assert len(_outbox()) == 4


def test_registering_within_a_day_counts_the_confirmation_as_the_reminder(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "SENIM_SMTP_HOST", "mail.invalid")
    world.r1.email = "parent@example.kz"
    db.session.commit()
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="parents",
                           starts_in=timedelta(hours=5))
    services.register(actor=world.r1, seminar=seminar)
    assert services.send_reminders() == 0 and len(_outbox()) == 1


def test_no_mail_without_smtp(app, world):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="parents",
                           starts_in=timedelta(hours=5))
    world.r1.email = "parent@example.kz"
    services.register(actor=world.r1, seminar=seminar)
    assert services.send_reminders() == 0 and _outbox() == []
    result = app.test_cli_runner().invoke(args=["seminars", "remind"])
    assert result.exit_code == 0 and "SENIM_SMTP_HOST is not set" in result.output


def test_the_calendar_file(client, world):
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="parents",
                           title="Title, with; commas\\", place="Зал 1", online_url="")
    login(client, world.r1)
    response = client.get(f"/seminars/{seminar.uuid}/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    text = response.get_data(as_text=True)
    assert "SUMMARY:Title\\, with\\; commas\\\\\r\n" in text
    assert f"DTSTART:{seminar.starts_at.strftime('%Y%m%dT%H%M%SZ')}" in text
    assert "LOCATION:Зал 1" in text and text.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
