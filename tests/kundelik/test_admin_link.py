"""An administrator (or a director, for accounts they could take over anyway) links an account to a Kundelik
person on the account's page; the link is audited; a psychologist's account is linked by an admin only."""

from __future__ import annotations

from sqlalchemy import select

from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from tests import factories


def _link(client, user, value: str):
    page = f"/admin/staff/{user.uuid}"
    return factories.post(client, f"{page}/kundelik", {"kl-person_id": value}, form_page=page)


def _link_entries() -> int:
    query = select(AuditEntry).where(AuditEntry.action == AuditAction.KUNDELIK_LINK_SET.value)
    return len(db.session.execute(query).scalars().all())


def test_an_admin_links_and_unlinks_an_account(client, world):
    factories.login(client, world.admin)
    page = client.get(f"/admin/staff/{world.psy1.uuid}").get_data(as_text=True)
    assert "kl-person_id" in page

    assert _link(client, world.psy1, "3000000000902").status_code == 302
    db.session.refresh(world.psy1)
    assert world.psy1.kundelik_person_id == "3000000000902"
    assert "3000000000902" in client.get(f"/admin/staff/{world.psy1.uuid}").get_data(as_text=True)

    taken = _link(client, world.t7a, "3000000000902")
    assert taken.status_code == 200 and "kl-person_id" in taken.get_data(as_text=True)
    assert _link(client, world.t7a, "12ab").status_code == 200
    assert _link(client, world.psy1, "").status_code == 302
    db.session.refresh(world.psy1)
    assert world.psy1.kundelik_person_id is None
    assert _link_entries() == 2


def test_a_director_links_a_class_teacher_but_not_a_psychologist(client, world):
    factories.login(client, world.a1)
    assert "kl-person_id" not in client.get(f"/admin/staff/{world.psy1.uuid}").get_data(as_text=True)
    assert _link(client, world.t7a, "3000000000904").status_code == 302
    db.session.refresh(world.t7a)
    assert world.t7a.kundelik_person_id == "3000000000904"
    page = f"/admin/staff/{world.psy1.uuid}"
    refused = factories.post(client, f"{page}/kundelik", {"kl-person_id": "3000000000902"},
                             form_page=f"/admin/staff/{world.t7a.uuid}")
    assert refused.status_code == 404
    db.session.refresh(world.psy1)
    assert world.psy1.kundelik_person_id is None
    assert _link_entries() == 1
