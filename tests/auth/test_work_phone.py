"""A psychologist keeps a work phone on the account page; the director's escalations page links it (tel:)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.audit import AuditAction, AuditEntry
from app.core.phone import normalise_phone
from app.extensions import db
from tests.factories import csrf_token, login


def _save(client, phone: str):
    token = csrf_token(client, "/account")
    return client.post("/account", data={"phone-phone": phone, "phone-csrf_token": token})


@pytest.mark.parametrize(("typed", "stored"), [
    ("8 701 234 56 78", "+77012345678"), ("+7 (7172) 12-34-56", "+77172123456"), ("7012345678", "+77012345678"),
    ("+49 30 1234567", "+49301234567"), ("", None),
])
def test_normalise_phone(typed, stored):
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize("bad", ["12345", "8 123 456 78 90", "+7 701 234 56 78 99"])
def test_normalise_phone_refuses_what_is_not_a_number(bad):
    with pytest.raises(ValueError):
        normalise_phone(bad)


def test_a_psychologist_saves_and_removes_the_work_phone_audited(client, world):
    login(client, world.psy1)
    assert 'name="phone-phone"' in client.get("/account").get_data(as_text=True)
    response = _save(client, "8 701 234 56 78")
    assert response.status_code == 302
    db.session.refresh(world.psy1)
    assert world.psy1.phone == "+77012345678"
    assert 'value="+77012345678"' in client.get("/account").get_data(as_text=True)
    _save(client, "")
    db.session.refresh(world.psy1)
    assert world.psy1.phone is None
    entries = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == AuditAction.ACCOUNT_PHONE_CHANGED.value)).scalars().all()
    assert len(entries) == 2


@pytest.mark.parametrize("bad", ["call me", "12345", "<script>alert(1)</script>"])
def test_a_bad_phone_is_explained_and_changes_nothing(client, world, bad):
    world.psy1.phone = "+77012345678"
    world.psy1.preferred_language = "ru"
    db.session.commit()
    login(client, world.psy1)
    response = _save(client, bad)
    assert response.status_code == 200
    assert "Напишите номер телефона в виде" in response.get_data(as_text=True)
    db.session.refresh(world.psy1)
    assert world.psy1.phone == "+77012345678"


def test_only_staff_who_answer_alerts_keep_a_work_phone_here(client, world):
    login(client, world.t7a)
    assert 'name="phone-phone"' not in client.get("/account").get_data(as_text=True)
    _save(client, "8 701 234 56 78")
    db.session.refresh(world.t7a)
    assert world.t7a.phone is None
