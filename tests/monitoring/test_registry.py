"""Registries through the pages: register, change, deregister, full history kept, the school's current list;
reads and writes audited on the pupil; who may change what."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.core.audit import AuditAction
from app.extensions import db
from app.monitoring.models import RegistryEntry
from tests.factories import login, post
from tests.monitoring.support import NOTE_MARKER, entries, register
from tests.security.helpers import signed_in

FIELDS = {"kind": "police", "basis_document": "Уведомление ПДН", "basis_number": "45-12", "basis_date": "2026-10-01",
          "reason_category": "offence", "reason_text": f"{NOTE_MARKER} кража телефона", "started_on": "2026-10-02",
          "next_review_on": "2026-11-02"}


def test_register_a_pupil_and_read_the_tab(client, world):
    login(client, world.soc1)
    response = post(client, f"/monitoring/pupils/{world.p1.uuid}/registry/new", FIELDS)
    assert response.status_code == 302
    entry = db.session.execute(select(RegistryEntry)).scalar_one()
    details = entry.details
    assert details.kind == "police" and details.reason_category == "offence" and details.basis_number == "45-12"
    assert entry.started_on == date(2026, 10, 2) and entry.next_review_on == date(2026, 11, 2) and entry.is_current
    page = client.get(f"/monitoring/pupils/{world.p1.uuid}/registry").get_data(as_text=True)
    assert "Police juvenile registry" in page and f"{NOTE_MARKER} кража телефона" in page and "Offence" in page
    (created,) = entries(AuditAction.REGISTRY_CREATE)
    assert created.pupil_id == world.p1.id and created.object_id == entry.uuid and NOTE_MARKER not in created.details
    assert entries(AuditAction.REGISTRY_READ, pupil_id=world.p1.id)


def test_review_date_before_registration_is_refused(client, world):
    login(client, world.soc1)
    response = post(client, f"/monitoring/pupils/{world.p1.uuid}/registry/new",
                    {**FIELDS, "next_review_on": "2026-09-01"})
    assert response.status_code == 200 and "must not be before" in response.get_data(as_text=True)
    assert db.session.execute(select(RegistryEntry)).first() is None


def test_change_and_deregister_keep_the_whole_history(client, world):
    entry = register(world)
    login(client, world.soc1)
    edit = f"/monitoring/registry/{entry.uuid}/edit"
    form = client.get(edit).get_data(as_text=True)
    assert f"{NOTE_MARKER} сабаққа келмейді" in form  # the current values, to change
    assert post(client, edit, {**FIELDS, "version": entry.version}).status_code == 302
    db.session.expire_all()
    deregister = f"/monitoring/registry/{entry.uuid}/deregister"
    response = post(client, deregister,
                    {"ended_on": "2027-05-30", "end_reason": "Исправился", "version": entry.version})
    assert response.status_code == 302
    db.session.expire_all()
    assert entry.ended_on == date(2027, 5, 30) and entry.end_reason == "Исправился" and not entry.is_current
    assert [e.kind for e in entry.events] == ["created", "updated", "deregistered"]
    assert entry.events[0].snapshot["kind"] == "school" and entry.events[1].snapshot["kind"] == "police"
    assert entry.events[2].snapshot["end_reason"] == "Исправился"
    # History is not edited: an ended entry has no edit form.
    assert client.get(edit).status_code == 302
    registry_page = f"/monitoring/pupils/{world.p1.uuid}/registry"
    assert post(client, edit, {**FIELDS, "version": entry.version}, form_page=registry_page).status_code == 302
    db.session.expire_all()
    assert entry.details.kind == "police" and len(entry.events) == 3
    page = client.get(f"/monitoring/pupils/{world.p1.uuid}/registry").get_data(as_text=True)
    assert "Deregistered" in page and "Исправился" in page
    assert len(entries(AuditAction.REGISTRY_UPDATE)) == len(entries(AuditAction.REGISTRY_DEREGISTER)) == 1


def test_the_school_list_shows_current_registrations_and_audits_each_pupil(client, world):
    register(world)
    ended = register(world, pupil=world.p2, kind="commission")
    ended_version = ended.version
    from app.monitoring import registry

    registry.deregister(actor=world.soc1, entry=ended, version=ended_version, ended_on=date(2026, 12, 1), reason="r")
    register(world, pupil=world.p3, actor=world.psy3)
    login(client, world.a1)
    page = client.get("/monitoring/registry").get_data(as_text=True)
    assert world.p1.last_name in page and "Intra-school registry" in page
    assert world.p2.last_name not in page  # deregistered
    assert world.p3.last_name not in page  # another school
    listed = [e for e in entries(AuditAction.REGISTRY_READ) if '"list": true' in e.details]
    assert [e.pupil_id for e in listed] == [world.p1.id]


def test_the_director_reads_registries_but_does_not_change_them(client, world):
    entry = register(world)
    login(client, world.a1)
    page = client.get(f"/monitoring/pupils/{world.p1.uuid}/registry").get_data(as_text=True)
    assert "Intra-school registry" in page and f"/monitoring/registry/{entry.uuid}/edit" not in page
    assert client.get(f"/monitoring/registry/{entry.uuid}/edit").status_code == 403


def test_the_pupil_card_links_to_the_registry(app, world):
    page = signed_in(app, world.soc1).get(f"/pupils/{world.p1.uuid}").get_data(as_text=True)
    assert f"/monitoring/pupils/{world.p1.uuid}/registry" in page
    assert signed_in(app, world.t7a).get(f"/monitoring/pupils/{world.p1.uuid}/registry").status_code == 403
