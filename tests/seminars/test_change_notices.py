"""A seminar moved, given a new place or link, or cancelled: everyone registered is e-mailed at once, each in
their language, in the transaction of the change; a new title alone mails nobody; the registrant's page says
when it changed."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core import mail
from app.core.audit import AuditAction, AuditEntry
from app.core.mail import OutboxMessage
from app.extensions import db
from app.seminars import services
from app.seminars.models import Seminar
from tests.factories import login, post
from tests.seminars.support import form_data, make_seminar


@pytest.fixture
def registered(world, app, monkeypatch):
    """A seminar of school 1 with a Russian-speaking parent and an English-speaking teacher registered, and
    another seminar with the social pedagogue registered; mail configured."""
    monkeypatch.setitem(app.config, "SENIM_SMTP_HOST", "mail.invalid")
    world.r1.email, world.r1.preferred_language = "parent@example.kz", "ru"
    world.t7a.email, world.t7a.preferred_language = "teacher@example.kz", "en"
    world.soc1.email = "other@example.kz"
    db.session.commit()
    seminar = make_seminar(world.psy1, where=("school", world.s1.id), audience="both", starts_in=timedelta(days=5))
    other = make_seminar(world.psy1, where=("school", world.s1.id), audience="both", title="Басқа семинар")
    services.register(actor=world.r1, seminar=seminar)
    services.register(actor=world.t7a, seminar=seminar)
    services.register(actor=world.soc1, seminar=other)
    return seminar


def _input(seminar: Seminar, **changes) -> services.SeminarInput:
    data = services.SeminarInput(
        title=seminar.title, description=seminar.description, audience=seminar.audience,
        where=services.where_of(seminar), starts_at=seminar.starts_at, ends_at=seminar.ends_at,
        online_url=seminar.online_url, place=seminar.place, capacity=seminar.capacity,
        registration_closes_at=seminar.registration_closes_at, language=seminar.language)
    return replace(data, **changes)


def _outbox_after(first_id: int) -> list[OutboxMessage]:
    return list(db.session.execute(select(OutboxMessage).where(OutboxMessage.id > first_id)
                                   .order_by(OutboxMessage.id)).scalars())


def _last_id() -> int:
    return max(db.session.execute(select(OutboxMessage.id)).scalars(), default=0)


def _by_address(messages: list[OutboxMessage]) -> dict[str, OutboxMessage]:
    assert all(len(json.loads(m.recipients)) == 1 for m in messages)  # nobody sees another's address
    return {json.loads(m.recipients)[0]: m for m in messages}


def test_moving_a_seminar_mails_each_registrant_in_their_language(client, registered, world):
    seminar, mark = registered, _last_id()
    world.psy1.preferred_language = "en"
    db.session.commit()
    login(client, world.psy1)
    data = form_data(f"school:{world.s1.id}", title=seminar.title, audience="both", starts="16:00", ends="17:30",
                     online_url=seminar.online_url,
                     version=str(seminar.version))
    response = post(client, f"/seminars/organise/{seminar.uuid}/edit", data)
    assert response.status_code == 302
    assert "Registered people are told by e-mail: 2." in client.get(response.headers["Location"]).get_data(as_text=True)
    messages = _by_address(_outbox_after(mark))
    assert set(messages) == {"parent@example.kz", "teacher@example.kz"}  # not the other seminar's registrant
    ru, en = messages["parent@example.kz"], messages["teacher@example.kz"]
    assert (ru.language, en.language) == ("ru", "en")
    assert en.subject == "Senim: a seminar you registered for has changed"
    assert ru.subject != en.subject and "Senim" in ru.subject
    assert "16:00" in en.body and "17:30" in en.body
    assert "https://meet.example.kz/abc" in en.body  # registrants get the link, as in the other seminar mails
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.SEMINAR_UPDATED.value)
                               .order_by(AuditEntry.id.desc())).scalars().first()
    assert json.loads(entry.details) == {"changed": ["time"], "mailed": 2}


@pytest.mark.parametrize("changes", [
    {"online_url": "", "place": "Акт залы, 2-қабат"},
    {"online_url": "https://meet.example.kz/new"},
])
def test_a_new_place_or_link_is_mailed(registered, world, changes):
    seminar, mark = registered, _last_id()
    told = services.update_seminar(actor=world.psy1, seminar=seminar, version=seminar.version,
                                   data=_input(seminar, **changes))
    assert told == 2
    bodies = [m.body for m in _outbox_after(mark)]
    assert len(bodies) == 2
    new = changes["place"] if changes.get("place") else changes["online_url"]
    assert all(new in body for body in bodies)


def test_a_new_title_or_description_alone_mails_nobody(client, registered, world):
    seminar, mark = registered, _last_id()
    told = services.update_seminar(actor=world.psy1, seminar=seminar, version=seminar.version,
                                   data=_input(seminar, title="Жаңа атау", description="Жаңа мәтін", capacity=40))
    assert told == 0 and _outbox_after(mark) == []
    assert seminar.rescheduled_at is None


def test_cancelling_mails_that_it_is_cancelled(registered, world):
    seminar, mark = registered, _last_id()
    told = services.cancel_seminar(actor=world.psy1, seminar=seminar, version=seminar.version, reason="")
    assert told == 2
    messages = _by_address(_outbox_after(mark))
    assert set(messages) == {"parent@example.kz", "teacher@example.kz"}
    assert "is cancelled" in messages["teacher@example.kz"].body


def test_a_failure_to_queue_leaves_the_seminar_unchanged(registered, world, monkeypatch):
    seminar, mark = registered, _last_id()
    old_start, version = seminar.starts_at, seminar.version
    calls = []

    def failing(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("outbox down")
        return real(**kwargs)

    real = mail.queue
    monkeypatch.setattr(mail, "queue", failing)
    with pytest.raises(RuntimeError):
        services.update_seminar(actor=world.psy1, seminar=seminar, version=version,
                                data=_input(seminar, starts_at=old_start + timedelta(hours=2),
                                            ends_at=old_start + timedelta(hours=3)))
    db.session.expire_all()
    again = db.session.get_one(Seminar, seminar.id)
    assert (again.starts_at, again.version, again.rescheduled_at) == (old_start, version, None)
    assert _outbox_after(mark) == []


def test_a_change_within_the_reminder_window_is_the_reminder(registered, world):
    seminar = registered
    soon = seminar.starts_at - timedelta(days=4, hours=12)  # start moved to within a day of "now"
    services.update_seminar(actor=world.psy1, seminar=seminar, version=seminar.version, now=soon,
                            data=_input(seminar, starts_at=soon + timedelta(hours=6),
                                        ends_at=soon + timedelta(hours=7),
                                        registration_closes_at=soon + timedelta(hours=6)))
    assert services.send_reminders(now=soon + timedelta(minutes=15)) == 0


def test_the_registrants_page_says_when_it_changed(client, registered, world):
    seminar = registered
    login(client, world.r1)
    assert "changed" not in client.get(f"/seminars/{seminar.uuid}").get_data(as_text=True).lower()
    services.update_seminar(actor=world.psy1, seminar=seminar, version=seminar.version,
                            data=_input(seminar, starts_at=seminar.starts_at + timedelta(days=1),
                                        ends_at=seminar.ends_at + timedelta(days=1),
                                        registration_closes_at=seminar.registration_closes_at))
    world.r1.preferred_language = "en"
    db.session.commit()
    page = client.get(f"/seminars/{seminar.uuid}").get_data(as_text=True)
    assert "after you registered" in page and "Time now:" in page
    # Someone who registers after the change is not told it changed.
    assert services.changed_since(services.register(actor=world.soc1, seminar=seminar)) is None
